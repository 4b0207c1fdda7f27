"""The audit log in Django admin: read-only, filterable, searchable, exportable as safe CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from audit.models import Action, AuditEvent, Outcome
from audit.serialise import CSV_COLUMNS
from audit.services import record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/django-admin/audit/auditevent/"
EXPORT = "/django-admin/audit/auditevent/export.csv"


def export(client, params: dict[str, str] | None = None):
    """What the changelist's export button does: a POST to the export URL, filters in the
    query string."""
    return client.post(f"{EXPORT}?{urlencode(params or {})}")


@pytest.fixture
def it_admin(client):
    client.force_login(UserFactory(username="it-admin", is_staff=True, is_superuser=True))
    return client


def request_from(ip: str, agent: str = "Firefox") -> object:
    request = RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    request.request_id = f"req-{ip.replace('.', '-')}"
    return request


@pytest.fixture
def events() -> dict[str, AuditEvent]:
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    return {
        "alice_in": record(Action.SIGN_IN, actor=alice, request=request_from("10.0.0.1"),
                           object_id="6f1c1d6a-0000-4000-8000-000000000001",
                           element="admin_tool"),
        "bob_refused": record(Action.SIGN_IN, outcome=Outcome.REFUSED, reason="token_expired",
                              request=request_from("10.0.0.2"), subject="username:bob",
                              element="web_staff"),
        "bob_out": record(Action.SIGN_OUT, actor=bob, request=request_from("10.0.0.2")),
        "formula": record(Action.USER_CHANGED, actor=alice, subject="=HYPERLINK(\"http://x\")",
                          detail={"note": "<script>alert(1)</script>", "x": "+1"}),
    }


def subjects(response) -> set[str]:
    return {event.subject for event in response.context["cl"].result_list}


def test_the_changelist_lists_events_without_a_full_count(it_admin, events):
    response = it_admin.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 4
    assert "Export CSV" in response.content.decode()
    assert response.context["cl"].full_result_count is None


@pytest.mark.parametrize(("query", "expected"), [
    ("action__exact=sign_out", {""}),
    ("outcome__exact=refused", {"username:bob"}),
    ("element=web_staff", {"username:bob"}),
    ("actor_kind__exact=anonymous", {"username:bob"}),
    ("actor_username=alice", {"", "=HYPERLINK(\"http://x\")"}),
    ("source_ip=10.0.0.2", {"username:bob", ""}),
])
def test_filters(it_admin, events, query, expected):
    response = it_admin.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    assert subjects(response) == expected


def test_the_date_filter(it_admin, events):
    moment = timezone.now() - timedelta(days=40)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        record(Action.SIGN_IN, subject="old")
    week_ago = (timezone.now() - timedelta(days=7)).isoformat()
    response = it_admin.get(CHANGELIST, {"created_at__gte": week_ago})
    assert "old" not in subjects(response) and len(subjects(response)) == 3


@pytest.mark.parametrize(("term", "expected"), [
    ("alice", {"", "=HYPERLINK(\"http://x\")"}),
    ("bob", {"username:bob", ""}),  # refused attempts name the username as subject
    ("10.0.0.1", {""}),
    ("6F1C1D6A-0000-4000-8000-000000000001", {""}),
    ("req-10-0-0-2", {"username:bob", ""}),
    ("nobody", set()),
])
def test_search(it_admin, events, term, expected):
    response = it_admin.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    assert subjects(response) == expected


@pytest.mark.parametrize("query", [
    "source_ip=not-an-ip", "actor_username__regex=(", "detail__note=x", "hash=abc",
    "created_at__gte=yesterday", "actor_user_id=abc", "actor_username=a%00b", "element=%00",
    "action__exact=%00",
])
def test_bad_or_unknown_filters_are_refused_without_an_error(it_admin, events, query):
    for response in (it_admin.get(f"{CHANGELIST}?{query}"),
                     it_admin.post(f"{EXPORT}?{query}")):
        assert response.status_code in {302, 400}, query


def test_the_detail_view_is_read_only_and_shows_detail_escaped(it_admin, events):
    event = events["formula"]
    response = it_admin.get(f"{CHANGELIST}{event.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert '<pre class="audit-detail">{\n  &quot;note&quot;' in html
    assert event.hash in html
    assert 'name="_save"' not in html and "deletelink" not in html


def test_no_add_change_or_delete_pages_for_a_superuser(it_admin, events):
    pk = events["alice_in"].pk
    assert it_admin.get(f"{CHANGELIST}add/").status_code == 403
    assert it_admin.get(f"{CHANGELIST}{pk}/delete/").status_code == 403
    response = it_admin.post(f"{CHANGELIST}{pk}/change/", {"reason": "edited"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(pk=pk).reason == ""


def read_csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


def test_csv_export_streams_the_filtered_events(it_admin, events):
    response = export(it_admin, {"actor_username": "alice", "p": "7"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
    rows = read_csv(response)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert {row["id"] for row in rows} == {str(events["alice_in"].pk), str(events["formula"].pk)}
    alice_in = next(row for row in rows if row["id"] == str(events["alice_in"].pk))
    assert alice_in["actor_username"] == "alice" and alice_in["source_ip"] == "10.0.0.1"
    assert alice_in["hash"] == events["alice_in"].hash


def test_each_export_is_itself_audited(it_admin, events):
    read_csv(export(it_admin, {"outcome__exact": "refused"}))

    exported = AuditEvent.objects.get(action=Action.AUDIT_EXPORTED)
    assert exported.actor_username == "it-admin" and exported.subject == "audit log"
    assert exported.detail == {"format": "csv", "query": "outcome__exact=refused"}


def test_a_refused_export_is_not_recorded_as_an_export(client, it_admin, events):
    assert export(it_admin, {"nonsense__field": "1"}).status_code == 400
    client.force_login(UserFactory(is_staff=False))
    assert export(client).status_code == 302  # not IT: Django admin lets nothing through
    assert not AuditEvent.objects.filter(action=Action.AUDIT_EXPORTED).exists()


def test_export_is_a_csrf_protected_post(client, events):
    client.force_login(UserFactory(username="it-admin", is_staff=True, is_superuser=True))
    page = client.get(CHANGELIST, {"outcome__exact": "refused"}).content.decode()
    assert f'<form method="post" action="{EXPORT}?outcome__exact=refused"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert client.get(EXPORT).status_code == 405  # a link or <img> from elsewhere

    forged = Client(enforce_csrf_checks=True)
    forged.force_login(UserFactory(username="it-admin-2", is_staff=True, is_superuser=True))
    assert forged.post(EXPORT).status_code == 403  # a cross-site form: no CSRF token
    assert not AuditEvent.objects.filter(action=Action.AUDIT_EXPORTED).exists()


def test_csv_cells_cannot_become_formulas(it_admin, events):
    rows = read_csv(export(it_admin, {"action__exact": "user_changed"}))
    assert rows[0]["subject"] == "'=HYPERLINK(\"http://x\")"
    assert json.loads(rows[0]["detail"])["x"] == "+1"  # inside JSON: starts with {, safe
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_csv_export_is_for_it_only(client, events):
    client.force_login(UserFactory(is_staff=False))
    assert export(client).status_code == 302
    client.logout()
    assert export(client).status_code == 302  # to the sign-in page
    client.force_login(UserFactory(is_staff=True))  # IT: staff, no model permissions needed
    assert export(client).status_code == 200


def test_large_results_say_more_than_instead_of_counting(it_admin, events, monkeypatch):
    monkeypatch.setattr("audit.admin_paging.EstimatedCountPaginator.cap", 1)
    response = it_admin.get(CHANGELIST, {"action__exact": "sign_in"})
    assert response.status_code == 200
    assert "more than 1 audit event" in response.content.decode()


def test_the_element_filter_offers_the_elements_by_name(it_admin, events):
    """Audit cannot import accounts: the element names come from audit.vocabulary."""
    text = it_admin.get(CHANGELIST).content.decode()
    assert "Keyfax Administration Tool" in text and "Keyfax Web Staff" in text
    assert "?element=admin_tool" in text
