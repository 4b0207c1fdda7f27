"""A leaver, end to end: Entra's provisioning disables a person while they are signed in.

A person signs in to Web Staff in a real browser (Debian's Chromium) through the Entra
emulator; their account, made at that sign-in, is already a SCIM User whose ``id`` is their
Entra object id. Entra's provisioning service then does what it does for a leaver: looks
them up (``GET /Users?filter=externalId eq "<oid>"``) and PATCHes ``active`` to false, over
real HTTP with a bearer token. The browser's next request is refused with a page (or, for a
fetch/XHR, JSON) saying the session has ended; the one after is an ordinary signed-out one.
Not one request after the PATCH is answered 200 as the signed-in leaver: every request the
site serves is tallied on the server side, with the account it was served to.

The last tests (no browser: Django's test Client) disable the person through User
Maintenance and Django admin instead: their open session ends all the same.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
import requests
from django.core.cache import cache
from django.core.handlers.base import BaseHandler
from django.test import Client

from accounts.models import SignedInSession, User
from audit.models import AuditEvent
from tests import people
from tests.admin_forms import form_data
from tests.factories import LocalUserFactory, MaintainerFactory
from tests.playwright_support import sign_in_with_microsoft

LEAVER = people.person("Staff: Repairs and Enquiries diagnostics")
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENDED = "Your Keyfax session has ended"
STAFF_HOME = "/staff/"


# --- what the site served, and to whom -------------------------------------------------------


@dataclass(frozen=True)
class Served:
    path: str
    status: int
    user_id: int | None  # the signed-in account it was served to; None when signed out


class Tally:
    """Every request the site (live server thread included) answers, in order."""

    def __init__(self) -> None:
        self.served: list[Served] = []
        self._lock = threading.Lock()

    def mark(self) -> int:
        with self._lock:
            return len(self.served)

    def since(self, mark: int) -> list[Served]:
        with self._lock:
            return self.served[mark:]

    def add(self, request, response) -> None:
        user = getattr(request, "user", None)  # set by AuthenticationMiddleware
        signed_in = user is not None and user.is_authenticated
        with self._lock:
            self.served.append(Served(request.path, response.status_code,
                                      user.pk if signed_in else None))


@pytest.fixture
def tally(monkeypatch):
    """Wraps Django's ``BaseHandler.get_response`` (looked up per request, so the running
    live server's handler is wrapped too) to note each answer and who it was served to."""
    found = Tally()
    original = BaseHandler.get_response

    def get_response(self, request):
        response = original(self, request)
        found.add(request, response)
        return response

    monkeypatch.setattr(BaseHandler, "get_response", get_response)
    return found


# --- Entra's provisioning service ----------------------------------------------------------


@pytest.fixture
def scim(entra, live_server):
    """Entra's provisioning calls to the live server, with a live bearer token."""
    from scim import tokens

    cache.clear()  # no failed-token count left by another test
    token = tokens.create("entra-provisioning")
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}",
                            "Content-Type": "application/scim+json"})
    yield ScimCalls(session, f"{live_server.url}/scim/v2")
    session.close()
    cache.clear()


@dataclass
class ScimCalls:
    session: requests.Session
    base: str

    def find_by_object_id(self, oid: str) -> dict:
        response = self.session.get(f"{self.base}/Users",
                                    params={"filter": f'externalId eq "{oid}"'}, timeout=10)
        assert response.status_code == 200, response.text[:500]
        found = response.json()
        assert found["totalResults"] == 1, found
        return found["Resources"][0]

    def disable(self, scim_id: str) -> dict:
        """What Entra sends for a leaver (aadOptscim062020 on: a real boolean)."""
        response = self.session.patch(f"{self.base}/Users/{scim_id}", json={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": "active", "value": False}],
        }, timeout=10)
        assert response.status_code == 200, response.text[:500]
        return response.json()


def signed_in_leaver(page, live_server, scim, tally) -> tuple[User, int]:
    """The leaver signed in to Web Staff in the browser, then disabled by Entra's
    provisioning; the account and the tally's mark right after the PATCH."""
    before = tally.mark()
    sign_in_with_microsoft(page, live_server.url, LEAVER["oid"], next_path=STAFF_HOME)
    assert page.get_by_role("heading", name="Keyfax Web Staff").is_visible()
    user = User.objects.get(entra_identity__object_id=LEAVER["oid"])
    # the counter counts: the sign-in's pages were served 200 to the leaver
    assert Served(STAFF_HOME, 200, user.pk) in tally.since(before)
    assert SignedInSession.objects.filter(user=user, ended_at__isnull=True).count() == 1

    resource = scim.find_by_object_id(LEAVER["oid"])
    assert resource["id"] == LEAVER["oid"]  # a linked User's SCIM id is its object id
    assert resource["userName"] == LEAVER["upn"]
    assert resource.get("active", True) is True  # an account made at sign-in omits it
    patched = scim.disable(resource["id"])
    after = tally.mark()

    assert patched["active"] is False
    user.refresh_from_db()
    assert not user.is_active
    disabled = AuditEvent.objects.get(action="user_disabled", subject=f"user:{user.pk}")
    assert disabled.actor_kind == "scim"
    assert disabled.detail["sessions_ended"] == 1
    return user, after


def served_to(tally: Tally, mark: int, user: User) -> list[Served]:
    """Requests since ``mark`` answered 200 as the signed-in ``user`` (SCIM's own aside)."""
    return [s for s in tally.since(mark)
            if s.user_id == user.pk and s.status == 200 and not s.path.startswith("/scim/")]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_leavers_next_page_says_the_session_ended_then_sign_in(
        entra, live_server, page, scim, tally):
    user, after_patch = signed_in_leaver(page, live_server, scim, tally)

    refused = page.goto(f"{live_server.url}{STAFF_HOME}")

    assert refused.status == 401
    assert page.get_by_role("heading", name=ENDED).is_visible()
    assert "Your Keyfax account was disabled." in page.content()
    assert refused.headers["cache-control"] == "no-store"
    event = AuditEvent.objects.get(action="access_refused", reason="session_ended")
    assert (event.actor_user_id, event.detail["ended_because"]) == (
        user.pk, "account_disabled")

    again = page.goto(f"{live_server.url}{STAFF_HOME}")  # an ordinary signed-out request

    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    assert again.status == 200  # the sign-in page
    hop = again.request.redirected_from
    assert hop is not None and hop.response().status == 302
    assert ENDED not in page.content()
    assert not SignedInSession.objects.filter(user=user).exists()  # the note went too

    after = tally.since(after_patch)
    assert [(s.path, s.status) for s in after
            if s.path in (STAFF_HOME, "/accounts/login/")] == [
        (STAFF_HOME, 401), (STAFF_HOME, 302), ("/accounts/login/", 200)]
    assert served_to(tally, after_patch, user) == [], (
        "requests served 200 to the leaver after the SCIM PATCH")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_fetch_from_the_leavers_page_gets_a_json_401(entra, live_server, page, scim, tally):
    user, after_patch = signed_in_leaver(page, live_server, scim, tally)

    answer = page.evaluate("""async () => {
        const response = await fetch("/staff/", {headers: {Accept: "application/json"}});
        return {status: response.status, type: response.headers.get("content-type"),
                body: await response.json()};
    }""")

    assert answer["status"] == 401
    assert answer["type"].startswith("application/json")
    assert answer["body"]["error"] == "session_ended"
    assert answer["body"]["detail"] == "Your Keyfax account was disabled."

    xhr = page.evaluate("""() => new Promise(resolve => {
        const request = new XMLHttpRequest();
        request.open("GET", "/staff/");
        request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        request.onload = () => resolve({status: request.status, url: request.responseURL});
        request.send();
    })""")  # the refusal was told once: now an ordinary signed-out request (to sign-in)

    assert xhr["status"] == 200 and "/accounts/login/" in xhr["url"]
    assert served_to(tally, after_patch, user) == [], (
        "requests served 200 to the leaver after the SCIM PATCH")


# --- the same through User Maintenance and Django admin (Django's test Client) ---------------


PASSWORD = "correct horse battery staple"  # LocalUserFactory's


def person_signed_in() -> tuple[User, Client]:
    """A local person signed in with their password (the sign-in notes the session)."""
    person = LocalUserFactory(username="lee.leaver", first_name="Lee", last_name="Leaver")
    browser = Client()
    signed_in = browser.post("/accounts/login/", {"username": person.username,
                                                  "password": PASSWORD, "next": STAFF_HOME})
    assert signed_in.status_code == 302, signed_in.content[:500]
    assert browser.get(STAFF_HOME).status_code == 200
    assert SignedInSession.objects.filter(user=person, ended_at__isnull=True).count() == 1
    return person, browser


def disable_in_user_maintenance(person: User) -> None:
    administrator = Client()
    administrator.force_login(MaintainerFactory(username="maint"))
    response = administrator.post(f"/admin-tools/users/{person.pk}/disable/")
    assert response.status_code == 302, response.content[:500]


def disable_in_django_admin(person: User) -> None:
    administrator = Client()
    administrator.force_login(LocalUserFactory(username="it.boss", is_staff=True,
                                               is_superuser=True))
    url = f"/django-admin/accounts/user/{person.pk}/change/"
    data = form_data(administrator.get(url))
    data.pop("is_active", None)  # the box unticked
    response = administrator.post(url, data)
    assert response.status_code == 302, response.content[:500]


@pytest.mark.django_db
@pytest.mark.parametrize("disable", [disable_in_user_maintenance, disable_in_django_admin],
                         ids=["user_maintenance", "django_admin"])
def test_disabling_elsewhere_ends_the_persons_open_session(settings, disable):
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = "off"  # passwords
    person, browser = person_signed_in()

    disable(person)

    person.refresh_from_db()
    assert not person.is_active
    event = AuditEvent.objects.get(action="user_disabled", subject=f"user:{person.pk}")
    assert event.detail["sessions_ended"] == 1
    refused = browser.get(STAFF_HOME)
    assert refused.status_code == 401
    assert ENDED in refused.text and "Your Keyfax account was disabled." in refused.text
    fetched = browser.get(STAFF_HOME, headers={"Accept": "application/json"})
    assert fetched.status_code == 302  # told once: now an ordinary signed-out request
    assert fetched["Location"].startswith("/accounts/login/")
    assert not SignedInSession.objects.filter(user=person).exists()
