"""Registering an Entra person on User Maintenance (issue 12, part 3), and linking or unlinking
an account: against the development Entra emulator's Microsoft Graph, over real HTTP.

The administrator picks a person from a directory search; only the object id travels in the
form, and the account is made from what Graph says of that object id.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from accounts.entra import directory, graph
from accounts.models import EntraIdentity, SignedInSession, User
from accounts.sso_config import sso_config
from audit.models import AuditEvent
from tests.factories import EntraIdentityFactory, EntraUserFactory, LocalUserFactory
from tests.permission_helpers import entra_session
from tests.tokens import TENANT_ID

pytestmark = pytest.mark.django_db(transaction=True)  # the emulator's tests use live_server

REGISTER = "/admin-tools/users/register/"
PRIYA = {"oid": "3f5d8a2b-7c1e-4b9a-8d6f-2e4c6a8b0d1f", "upn": "priya.shah@riverside-homes.example"}
GARETH = "3ccb9128-a6b2-47db-a2e3-dd17fa21b41b"


@pytest.fixture
def site(entra, maintainer):
    """The site pointed at the emulator (tenant, app and Graph), a maintainer signed in."""
    return entra


def graph_mode(emulator, mode: str) -> None:
    response = requests.post(f"{emulator.base_url}/_emulator/graph", json={"mode": mode},
                             timeout=5)
    assert response.status_code == 200, response.text


def calls(emulator) -> int:
    """Requests the emulator (discovery, token endpoint, Graph) has answered."""
    return sum(emulator.request_counts.values())


# --- searching ---------------------------------------------------------------------------


def test_the_search_finds_a_demo_person_by_name_and_by_upn(client, site):
    for query in ("Priya", "priya.shah@riverside"):
        page = client.get(REGISTER, {"q": query})

        assert page.status_code == 200, page.text
        assert PRIYA["upn"] in page.text and "Priya Shah" in page.text
        assert f'name="object_id" value="{PRIYA["oid"]}"' in page.text
        assert "Gareth" not in page.text
    assert "Enabled" in page.text


def test_the_user_list_links_to_registration(client, maintainer):
    page = client.get("/admin-tools/users/")

    assert f'href="{REGISTER}"' in page.text and "Register an Entra person" in page.text


def test_a_one_character_query_does_not_call_graph(client, site):
    page = client.get(REGISTER, {"q": "P"})

    assert page.status_code == 400
    assert "Type between 2 and 100 characters" in page.text
    assert calls(site) == 0


def test_quotes_and_backslashes_never_reach_graphs_search_syntax(client, site):
    assert directory.clean_query('Pri"ya\\ " OR "mail:x') == "Pri ya OR mail:x"
    page = client.get(REGISTER, {"q": 'Priya"\\'})

    assert page.status_code == 200 and PRIYA["upn"] in page.text
    with pytest.raises(directory.DirectoryError, match="between 2 and 100"):
        directory.search_people(sso_config(), "x" * 101)


def test_a_revoked_app_token_is_replaced_once(client, site):
    config = sso_config()
    directory.search_people(config, "Priya")  # caches a token
    for key in list(graph._tokens):
        graph._tokens[key] = ("revoked-token", time.monotonic() + 3600)

    assert [p.upn for p in directory.search_people(config, "Priya")] == [PRIYA["upn"]]


def test_without_sso_configured_the_page_says_so(client, maintainer, settings):
    settings.ENTRA_TENANT_ID = ""

    page = client.get(REGISTER, {"q": "Priya"})

    assert page.status_code == 200
    assert "Single sign-on with Microsoft Entra ID is not configured" in page.text
    response = client.post(REGISTER, {"object_id": PRIYA["oid"]})
    assert response.status_code == 503 and "not configured" in response.text
    assert not EntraIdentity.objects.exists()


@pytest.mark.parametrize(("mode", "message"), [
    ("throttled", "Microsoft Graph is throttling Keyfax: try again in 7 seconds"),
    ("forbidden", "lacks the Microsoft Graph application permission User.Read.All"),
    ("down", "Microsoft Graph is not answering; try again in a minute"),
])
def test_each_graph_failure_shows_its_message_and_creates_nothing(client, site, mode, message):
    graph_mode(site, mode)
    users = User.objects.count()

    search = client.get(REGISTER, {"q": "Priya"})
    register = client.post(REGISTER, {"object_id": PRIYA["oid"]})

    for page in (search, register):
        assert page.status_code in (502, 503)
        assert message in page.text
    assert User.objects.count() == users and not EntraIdentity.objects.exists()


# --- registering -------------------------------------------------------------------------


def test_register_creates_a_linked_account_from_what_graph_says(client, site, maintainer):
    response = client.post(REGISTER, {"object_id": PRIYA["oid"], "q": "Priya",
                                      # forged fields: never believed
                                      "username": "mallory", "email": "m@evil.example"})

    person = User.objects.get(username=PRIYA["upn"])
    assert response.status_code == 302
    assert response["Location"] == f"/admin-tools/users/{person.pk}/"
    assert (person.first_name, person.last_name, person.email) == (
        "Priya", "Shah", PRIYA["upn"])
    assert str(person.entra_identity.object_id) == PRIYA["oid"]
    assert str(person.entra_identity.tenant_id) == TENANT_ID
    assert person.login_mode == "sso" and not person.has_usable_password()
    event = AuditEvent.objects.get(action="user_created")
    assert (event.outcome, event.actor_user_id, event.subject) == (
        "success", maintainer.pk, f"user:{person.pk}")
    assert event.detail["linked_object_id"] == PRIYA["oid"]
    page = client.get(response["Location"])
    assert "Registered Priya Shah" in page.text and "Unlink from Entra" in page.text


def test_a_forged_object_id_creates_nothing(client, site):
    users = User.objects.count()
    for forged in (str(uuid.uuid4()), "not-a-guid", ""):
        response = client.post(REGISTER, {"object_id": forged})

        assert response.status_code == 400, forged
        assert "is not in your organisation" in response.text or \
            "not a directory object id" in response.text
    assert User.objects.count() == users and not EntraIdentity.objects.exists()


def test_registering_someone_already_linked_is_refused_with_a_link(client, site, maintainer):
    existing = EntraUserFactory(username="p.shah", identity__object_id=uuid.UUID(PRIYA["oid"]))
    search = client.get(REGISTER, {"q": "Priya"})
    assert "Already has a Keyfax account" in search.text
    assert f'href="/admin-tools/users/{existing.pk}/"' in search.text

    response = client.post(REGISTER, {"object_id": PRIYA["oid"]})

    assert response.status_code == 403
    assert "already linked to another Keyfax account" in response.text
    assert f'href="/admin-tools/users/{existing.pk}/"' in response.text
    assert not User.objects.filter(username=PRIYA["upn"]).exists()
    event = AuditEvent.objects.get(action="user_created")
    assert (event.outcome, event.reason, event.actor_user_id) == (
        "refused", "linked_elsewhere", maintainer.pk)


def test_a_username_clash_is_an_error_never_a_merge(client, site):
    other = LocalUserFactory(username="Priya.Shah@riverside-homes.example")
    users = User.objects.count()

    response = client.post(REGISTER, {"object_id": PRIYA["oid"]})

    assert response.status_code == 409
    assert "already belongs to another Keyfax account" in response.text
    assert User.objects.count() == users and not EntraIdentity.objects.exists()
    other.refresh_from_db()
    assert other.has_usable_password()


# --- linking and unlinking an account ----------------------------------------------------


def test_a_local_account_is_linked_to_a_person_picked_from_the_directory(client, site,
                                                                          maintainer):
    local = LocalUserFactory(username="gareth")
    assert "Link to an Entra person" in client.get(f"/admin-tools/users/{local.pk}/").text
    search = client.get(f"/admin-tools/users/{local.pk}/link/", {"q": "Gareth"})
    assert f'value="{GARETH}"' in search.text and ">Link<" in search.text

    response = client.post(f"/admin-tools/users/{local.pk}/link/", {"object_id": GARETH})

    assert response.status_code == 302
    local.refresh_from_db()
    assert str(local.entra_identity.object_id) == GARETH
    assert local.login_mode == "sso" and not local.has_usable_password()
    event = AuditEvent.objects.get(action="user_changed")
    assert (event.outcome, event.actor_user_id, event.subject) == (
        "success", maintainer.pk, f"user:{local.pk}")
    assert event.detail["linked_object_id"] == GARETH and event.detail["password"] == "removed"


def test_unlinking_removes_the_identity_and_ends_the_sessions(client, site, maintainer):
    person = EntraUserFactory(username="linked")
    browser = Client()
    entra_session(browser, person)
    SignedInSession.objects.create(user=person, session_key=browser.session.session_key,
                                   expires_at=browser.session.get_expiry_date())
    object_id = str(person.entra_identity.object_id)

    confirm = client.get(f"/admin-tools/users/{person.pk}/unlink/")
    assert confirm.status_code == 200 and object_id in confirm.text
    assert "Unlink from Entra ID</button>" in confirm.text
    assert "their 1 open session ends now" in confirm.text
    response = client.post(f"/admin-tools/users/{person.pk}/unlink/")

    assert response.status_code == 302
    assert not EntraIdentity.objects.filter(user=person).exists()
    assert SignedInSession.objects.get(user=person).ended_at is not None
    assert not SessionStore().exists(browser.session.session_key)
    event = AuditEvent.objects.get(action="user_changed")
    assert (event.outcome, event.actor_user_id) == ("success", maintainer.pk)
    assert event.detail["unlinked_object_id"] == object_id and event.detail["sessions_ended"] == 1


def test_a_maintainer_cannot_link_or_unlink_an_it_account(client, site, maintainer):
    local_it = LocalUserFactory(username="it.local", is_staff=True)
    linked_it = EntraUserFactory(username="it.linked", is_staff=True)
    for it in (local_it, linked_it):
        page = client.get(f"/admin-tools/users/{it.pk}/")
        assert f"/admin-tools/users/{it.pk}/link/" not in page.text
        assert f"/admin-tools/users/{it.pk}/unlink/" not in page.text

    linking = client.post(f"/admin-tools/users/{local_it.pk}/link/", {"object_id": GARETH})
    unlinking = client.post(f"/admin-tools/users/{linked_it.pk}/unlink/")

    for response in (linking, unlinking):
        assert response.status_code == 403
        assert response.text.count("managed by IT in Django admin") == 1
    assert calls(site) == 0  # refused before the directory was asked
    assert not EntraIdentity.objects.filter(user=local_it).exists()
    assert EntraIdentity.objects.filter(user=linked_it).exists()
    refused = AuditEvent.objects.filter(outcome="refused", reason="it_account")
    assert sorted(refused.values_list("subject", flat=True)) == sorted(
        [f"user:{local_it.pk}", f"user:{linked_it.pk}"])


def test_an_already_linked_account_is_not_linked_again(client, site):
    person = EntraUserFactory(username="linked")
    EntraIdentityFactory(object_id=uuid.UUID(GARETH))  # Gareth belongs to someone else

    page = client.get(f"/admin-tools/users/{person.pk}/link/")
    response = client.post(f"/admin-tools/users/{person.pk}/link/", {"object_id": GARETH})

    assert "already linked to an Entra person" in page.text
    assert response.status_code == 403 and "unlink it first" in response.text
    assert str(User.objects.get(pk=person.pk).entra_identity.object_id) != GARETH
