"""Refusals name who was refused, and the reference on every refusal page finds its event."""

from __future__ import annotations

import re

import pytest

from accounts.models import EntraIdentity
from audit.models import AuditEvent
from tests import people
from tests.factories import EntraUserFactory, ScriptFactory, UserFactory
from tests.permission_helpers import default_mappings, entra_session

__all__ = ["default_mappings"]

BOTH = people.person("Administrator and Web Staff")
NO_ROLE = people.person("Assigned to the app but holds no app role")
CHANGELIST = "/django-admin/audit/auditevent/"


def reference(page) -> str:
    return re.search(r"Reference: ([0-9a-f]{32})", page.text).group(1)


def found_by(client, term: str) -> set[int]:
    response = client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    return {event.pk for event in response.context["cl"].result_list}


@pytest.fixture
def it(client):
    def reader():
        from django.test import Client

        it_client = Client()
        entra_session(it_client, UserFactory(username="it.reader", is_staff=True), elements=())
        return it_client
    return reader


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_refused_known_person_is_named_and_found(entra, browser, settings, default_mappings,
                                                    it):
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = (
        "authentication_and_permissions")
    browser.sign_in(BOTH["oid"])
    user = EntraIdentity.objects.get(object_id=BOTH["oid"]).user
    browser.session.cookies.clear()
    entra.id_token_hook = lambda header, claims: claims.update(roles=[])

    page = browser.sign_in(BOTH["oid"], next_url="/staff/")

    assert page.status_code == 403
    event = AuditEvent.objects.filter(action="sign_in", outcome="refused").get()
    assert (event.actor_kind, event.actor_user_id, event.actor_username) == (
        "user", user.pk, user.username)
    assert (event.actor_object_id, event.element, event.subject) == (
        BOTH["oid"], "web_staff", f"username:{BOTH['upn']}")
    reader = it()
    for term in (BOTH["upn"], BOTH["oid"], reference(page)):
        assert event.pk in found_by(reader, term), term
    by_element = reader.get(CHANGELIST, {"element": "web_staff"}).context["cl"].result_list
    assert event.pk in {e.pk for e in by_element}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_refused_first_sign_in_names_the_entra_person(entra, browser, it):
    page = browser.sign_in(NO_ROLE["oid"], next_url="/admin-tools/")

    event = AuditEvent.objects.get(action="sign_in")
    assert (event.outcome, event.actor_user_id, event.actor_object_id, event.element) == (
        "refused", None, NO_ROLE["oid"], "admin_tool")
    reader = it()
    assert event.pk in found_by(reader, NO_ROLE["upn"])
    assert event.pk in found_by(reader, reference(page))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_forged_token_names_nobody(entra, browser):
    entra.id_token_hook = lambda header, claims: claims.update(aud="someone-else")
    browser.sign_in(BOTH["oid"])
    event = AuditEvent.objects.get(action="sign_in")
    assert (event.reason, event.actor_kind, event.actor_object_id) == (
        "token_audience", "anonymous", "")


@pytest.mark.django_db
def test_the_403_pages_reference_finds_a_refused_script_publish(client, sign_in, it):
    author = sign_in("edit_scripts")  # may edit, may not publish
    script = ScriptFactory()

    page = client.post(f"/admin-tools/scripts/{script.pk}/publish/")

    assert page.status_code == 403
    event = AuditEvent.objects.get(action="access_refused")
    assert (event.outcome, event.actor_user_id, event.element, event.detail["method"]) == (
        "refused", author.pk, "admin_tool", "POST")
    assert event.subject == f"path:/admin-tools/scripts/{script.pk}/publish/"
    assert event.pk in found_by(it(), reference(page))


@pytest.mark.django_db
def test_a_session_not_admitted_to_an_element_is_on_the_record(client, sign_in):
    user = UserFactory()
    entra_session(client, user, elements=("web_staff",))
    sign_in(user=user)  # helper points the site at Entra; re-admit only web_staff below
    entra_session(client, user, elements=("web_staff",))
    page = client.get("/admin-tools/")

    assert page.status_code == 403
    event = AuditEvent.objects.get(action="access_refused")
    assert (event.reason, event.element, event.actor_user_id) == (
        "not_admitted", "admin_tool", user.pk)


@pytest.mark.django_db
def test_a_forged_revoke_all_on_a_locked_element_is_refused_on_the_record(client, settings):
    from tests.conftest import point_site_at
    from tests.factories import MaintainerFactory, grant

    point_site_at(settings, "https://login.microsoftonline.com",
                  mode="authentication_and_permissions")
    settings.KEYFAX_LOCAL_LOGIN = True
    client.force_login(MaintainerFactory())
    synced = EntraUserFactory(username="sam", first_name="Sam", last_name="S",
                              email="sam@example.org")
    grant(synced, "edit_scripts")

    response = client.post(f"/admin-tools/users/{synced.pk}/", {
        "username": "sam", "first_name": "Sam", "last_name": "S", "email": "sam@example.org",
        "login_mode": "sso", "user_group": "", "notes": "",
        "permissions_admin_tool": "",  # nothing ticked: revoke every permission
    })

    assert response.status_code == 403
    assert synced.has_perm("permissions.edit_scripts")
    event = AuditEvent.objects.get(action="locked_edit_refused")
    assert (event.element, event.detail["revoke"]) == ("admin_tool", ["edit_scripts"])
