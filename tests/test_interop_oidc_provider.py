"""Interop: the same sign-in against an independent, certified OpenID Provider.

`oidc-provider` (npm) is dressed as Entra ID: issuer ``/{tenant}/v2.0``, RS256, PKCE
required, Entra-shaped claims in the ID token. Nobody here wrote its protocol code.
"""

from __future__ import annotations

import pytest

from accounts.models import EntraIdentity
from audit.models import AuditEvent
from tests import people, tokens
from tests.conftest import point_site_at
from tests.interop.browser import abort_login, complete_login
from tests.interop.provider import OidcProviderProcess
from tests.people import PEOPLE_FILE
from tests.revalidation_helpers import make_due

pytestmark = [pytest.mark.interop, pytest.mark.django_db(transaction=True)]

ADMIN = people.person("Administrator")
STAFF = people.person("Staff: Repairs and Enquiries diagnostics")


@pytest.fixture
def oidc_provider(live_server, settings):
    with OidcProviderProcess(
        tenant_id=tokens.TENANT_ID,
        client_id=tokens.CLIENT_ID,
        client_secret=tokens.CLIENT_SECRET,
        redirect_uris=[f"{live_server.url}/oidc/callback/"],
        post_logout_redirect_uris=[f"{live_server.url}/accounts/signed-out/"],
        people_file=PEOPLE_FILE,
    ) as op:
        point_site_at(settings, op.authority)
        yield op


def sign_in(browser, account: str, next_url: str = "/staff/"):
    authorize = browser.get(f"/oidc/authenticate/?next={next_url}", allow_redirects=True)
    return complete_login(browser.session, authorize, account)


def test_sign_in_against_an_independent_provider(oidc_provider, browser):
    final = sign_in(browser, STAFF["oid"])

    assert final.status_code == 200, final.text[:300]
    assert final.url == f"{browser.base_url}/staff/"
    assert STAFF["name"] in final.text
    identity = EntraIdentity.objects.get(object_id=STAFF["oid"])
    assert str(identity.tenant_id) == tokens.TENANT_ID
    assert identity.roles == STAFF["roles"]
    event = AuditEvent.objects.filter(action="sign_in").latest("id")
    assert (event.outcome, event.actor_object_id) == ("success", STAFF["oid"])


def test_the_provider_makes_no_userinfo_call_necessary(oidc_provider, browser):
    final = sign_in(browser, ADMIN["oid"], "/admin-tools/")

    # The sign-in really completed ...
    assert final.status_code == 200, final.text[:300]
    assert final.url == f"{browser.base_url}/admin-tools/"
    assert EntraIdentity.objects.filter(object_id=ADMIN["oid"]).exists()
    assert AuditEvent.objects.filter(
        action="sign_in", outcome="success", actor_object_id=ADMIN["oid"]
    ).exists()
    # ... on the ID token alone: the OP logs "userinfo was called for {oid}" on every userinfo
    # request (people.mjs, findAccount), and none came.
    assert "userinfo was called" not in oidc_provider.log(), oidc_provider.log()


def test_a_refusal_from_the_provider_is_a_clear_page(oidc_provider, browser):
    authorize = browser.get("/oidc/authenticate/", allow_redirects=True)
    final = abort_login(
        browser.session, authorize, error="access_denied",
        error_description="AADSTS50105: The signed in user is not assigned to a role.",
    )

    assert final.status_code == 403
    assert "Reason: not_assigned" in final.text


def test_a_silent_recheck_against_an_independent_provider(oidc_provider, browser):
    """prompt=none against oidc-provider's own session: the same person comes back, the
    Keyfax session is kept, and the re-check is on the record."""
    sign_in(browser, STAFF["oid"])
    session_before = browser.session_id
    make_due(browser)

    final = browser.get("/staff/", allow_redirects=True)

    assert final.status_code == 200, final.text[:300]
    assert final.url == f"{browser.base_url}/staff/"
    assert browser.session_id == session_before
    event = AuditEvent.objects.filter(action="session_revalidated").latest("id")
    assert (event.outcome, event.actor_object_id) == ("success", STAFF["oid"])


def test_the_provider_saying_login_required_ends_the_session(oidc_provider, browser):
    sign_in(browser, STAFF["oid"])
    for cookie in list(browser.session.cookies):  # signed out at the provider
        if cookie.domain.startswith("127.0.0.1") and cookie.port != browser.base_url[-4:] \
                and cookie.name.startswith("_session"):
            browser.session.cookies.clear(cookie.domain, cookie.path, cookie.name)
    make_due(browser)

    final = browser.get("/staff/", allow_redirects=True)

    assert "Your Keyfax session has ended" in final.text, final.text[:300]
    assert browser.get("/staff/").status_code == 302
    event = AuditEvent.objects.filter(action="session_revalidated").latest("id")
    assert (event.outcome, event.reason) == ("refused", "entra_sign_in_required")
