"""Each step of the sign-in pipeline on its own: a ``SignInContext`` and a request.

The whole flow over real HTTP is in tests/test_e2e_*.py; here each step's own promise is
pinned down, including the cases a full sign-in rarely reaches (SSO switched off while the
person was at Entra, two first sign-ins racing).
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory

from accounts import steps
from accounts.models import EntraIdentity, SignedInSession
from accounts.pipeline import SignInContext
from accounts.refusals import Reason, SignInRefused
from accounts.sessions import ADMITTED_ELEMENTS, SIGN_IN_METHOD
from accounts.sso_config import Element, sso_config
from audit.models import AuditEvent
from permissions import pipeline as permission_steps
from tests import people
from tests.conftest import point_site_at
from tests.factories import EntraIdentityFactory, RoleMappingFactory, UserFactory
from tests.permission_helpers import default_mappings, held
from tests.tokens import TENANT_ID

pytestmark = pytest.mark.django_db
__all__ = ["default_mappings"]

PERMS, AUTH = "authentication_and_permissions", "authentication"


@pytest.fixture(autouse=True)
def _entra(settings):
    point_site_at(settings, "https://login.microsoftonline.com")


def callback_request(**query: str):
    request = RequestFactory().get("/oidc/callback/", query)
    SessionMiddleware(lambda r: None).process_request(request)
    request.session.save()
    request.user = AnonymousUser()
    return request


def claims(**overrides) -> dict:
    values = {"tid": TENANT_ID, "oid": str(uuid.uuid4()), "sub": "s",
              "preferred_username": "pat.jones@riverside-homes.example",
              "email": "pat.jones@riverside-homes.example", "given_name": "Pat",
              "family_name": "Jones", "name": "Pat Jones", "roles": ["Keyfax.Staff"]}
    values.update(overrides)
    return values


def context(request=None, **fields) -> SignInContext:
    return SignInContext(request=request or callback_request(), config=sso_config(),
                         backend=None, **fields)


def refusal(step, ctx) -> Reason:
    with pytest.raises(SignInRefused) as caught:
        step(ctx)
    return caught.value.reason


# --- require_sso_enabled ----------------------------------------------------------------


def test_sso_switched_off_while_the_person_was_at_entra_is_refused(settings):
    ctx = context()
    steps.require_sso_enabled(ctx)  # on: nothing to say
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = "off"
    assert refusal(steps.require_sso_enabled, context()) is Reason.SSO_NOT_CONFIGURED


def test_sso_with_a_broken_tenant_setting_is_refused(settings):
    settings.ENTRA_TENANT_ID = "common"
    assert refusal(steps.require_sso_enabled, context()) is Reason.SSO_NOT_CONFIGURED


# --- check_state ------------------------------------------------------------------------


def started(request, state="s-1", *, age=0.0, next_url="/admin-tools/", **pending):
    values = {"nonce": "n-1", "code_verifier": "v" * 64, "added_on": time.time() - age}
    values.update(pending)
    request.session["oidc_states"] = {state: values}
    request.session["oidc_login_next"] = next_url
    return request


def test_a_good_state_gives_the_nonce_verifier_and_target():
    request = started(callback_request(state="s-1", code="c"))
    ctx = context(request)
    steps.check_state(ctx)
    assert (ctx.nonce, ctx.code_verifier) == ("n-1", "v" * 64)
    assert (ctx.next_url, ctx.target) == ("/admin-tools/", Element.ADMIN_TOOL)
    assert request.session["oidc_states"] == {}  # used up
    assert refusal(steps.check_state, context(request)) is Reason.UNKNOWN_STATE  # no replay


def test_web_staff_is_the_target_of_a_staff_page_and_nothing_of_the_home_page():
    ctx = context(started(callback_request(state="s-1", code="c"), next_url="/staff/"))
    steps.check_state(ctx)
    assert ctx.target is Element.WEB_STAFF
    ctx = context(started(callback_request(state="s-1", code="c"), next_url="/"))
    steps.check_state(ctx)
    assert ctx.target is None


@pytest.mark.parametrize(("query", "pending", "reason"), [
    ({"state": "other", "code": "c"}, {}, Reason.UNKNOWN_STATE),
    ({"code": "c"}, {}, Reason.UNKNOWN_STATE),
    ({"state": "s-1", "code": "c"}, {"age": 601}, Reason.STATE_EXPIRED),
    ({"state": "s-1"}, {}, Reason.MISSING_CODE),
    ({"state": "s-1", "code": "c"}, {"code_verifier": None}, Reason.UNKNOWN_STATE),
    ({"state": "s-1", "code": "c"}, {"nonce": ""}, Reason.UNKNOWN_STATE),
    ({"state": "s-1", "error": "access_denied"}, {}, Reason.ACCESS_DENIED),
    ({"state": "s-1", "error": "invalid_request",
      "error_description": "AADSTS50105: not assigned"}, {}, Reason.NOT_ASSIGNED),
    ({"state": "s-1", "error": "server_error"}, {}, Reason.ENTRA_ERROR),
])
def test_check_state_refusals(query, pending, reason):
    request = started(callback_request(**query), **pending)
    assert refusal(steps.check_state, context(request)) is reason


def test_a_forged_error_without_our_state_is_an_unknown_state():
    request = started(callback_request(state="forged", error="access_denied"))
    assert refusal(steps.check_state, context(request)) is Reason.UNKNOWN_STATE
    assert "s-1" in request.session["oidc_states"]  # the real sign-in can still finish


# --- exchange_code, verify_id_token (their network halves: tests/test_e2e_*.py) --------------


class RecordingBackend:
    """Stands in for EntraOIDCBackend's protocol methods, to see what the steps pass on."""

    def __init__(self, verified: dict | None = None) -> None:
        self.calls: list[tuple] = []
        self.verified = verified or claims()

    def redeem_code(self, request, code_verifier):
        self.calls.append(("redeem_code", code_verifier))
        return {"id_token": "raw.id.token", "access_token": "at"}

    def verify_token(self, token, **kwargs):
        self.calls.append(("verify_token", token, kwargs))
        return self.verified

    def store_tokens(self, access_token, id_token):
        self.calls.append(("store_tokens", access_token, id_token))


def test_the_code_is_redeemed_with_the_pkce_verifier_and_the_token_verified_with_the_nonce():
    backend = RecordingBackend(claims(roles="Keyfax.Admin"))
    ctx = context(nonce="n-1", code_verifier="v" * 64)
    ctx.backend = backend
    steps.exchange_code(ctx)
    steps.verify_id_token(ctx)
    assert backend.calls == [
        ("redeem_code", "v" * 64),
        ("verify_token", "raw.id.token", {"nonce": "n-1"}),
        ("store_tokens", "at", "raw.id.token"),
    ]
    assert ctx.claims is backend.verified
    assert ctx.roles == [] and ctx.notes["roles_claim_ignored"] == "not a list (str)"


# --- resolve_groups_overage ---------------------------------------------------------------

OVERAGE = {"_claim_names": {"groups": "src1"},
           "_claim_sources": {"src1": {"endpoint": "http://127.0.0.1:9/never"}}}


def test_no_overage_no_graph_call():
    ctx = context(claims=claims(groups=["g1"]))
    steps.resolve_groups_overage(ctx)
    assert ctx.graph_groups is None and ctx.groups == ["g1"] and "groups_overage" not in ctx.notes


def test_an_overage_is_not_resolved_where_groups_decide_nothing(settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = AUTH
    ctx = context(claims=claims(**OVERAGE))
    steps.resolve_groups_overage(ctx)  # the authority above is never contacted
    assert ctx.graph_groups is None and ctx.notes["groups_overage"] == "not needed"


@pytest.mark.django_db(transaction=True)
def test_an_overage_is_read_from_graph_where_groups_decide(entra, settings):
    settings.KEYFAX_SSO_WEB_STAFF = PERMS
    person = people.person("Staff in 250 groups (groups overage)")
    ctx = context(claims=claims(oid=person["oid"], **OVERAGE))
    steps.resolve_groups_overage(ctx)
    assert len(ctx.graph_groups) == 250 and ctx.groups == ctx.graph_groups
    assert ctx.notes["groups_overage"] == "read from Microsoft Graph"


@pytest.mark.django_db(transaction=True)
def test_graph_failing_refuses(entra, settings):
    settings.KEYFAX_SSO_WEB_STAFF = PERMS
    entra.graph_mode = "error"
    person = people.person("Staff in 250 groups (groups overage)")
    ctx = context(claims=claims(oid=person["oid"], **OVERAGE))
    assert refusal(steps.resolve_groups_overage, ctx) is Reason.GRAPH_UNAVAILABLE


# --- find_person, require_active_user ------------------------------------------------------


def test_the_person_is_found_by_tenant_and_object_id_only():
    identity = EntraIdentityFactory()
    twin = UserFactory(email="pat.jones@riverside-homes.example",
                       username="pat.jones@riverside-homes.example")
    ctx = context(claims=claims(tid=str(identity.tenant_id), oid=str(identity.object_id)))
    steps.find_person(ctx)
    assert ctx.identity == identity and ctx.identity.user == identity.user

    ctx = context(claims=claims())  # same email and UPN as the twin, another oid
    steps.find_person(ctx)
    assert ctx.identity is None and twin.pk


def test_a_disabled_account_is_refused_and_a_new_or_active_one_is_not():
    steps.require_active_user(context(identity=None))
    steps.require_active_user(context(identity=EntraIdentityFactory()))
    disabled = EntraIdentityFactory(user__is_active=False)
    assert refusal(steps.require_active_user,
                   context(identity=disabled)) is Reason.ACCOUNT_DISABLED


# --- decide_access -----------------------------------------------------------------------


def decided(settings, admin_tool, web_staff, *, target=None, **claim_values) -> SignInContext:
    settings.KEYFAX_SSO_ADMIN_TOOL, settings.KEYFAX_SSO_WEB_STAFF = admin_tool, web_staff
    ctx = context(claims=claims(**claim_values), target=target)
    permission_steps.decide_access(ctx)
    return ctx


def test_authentication_mode_admits_any_app_role(settings):
    ctx = decided(settings, AUTH, AUTH, roles=["Anything.At.All"])
    assert ctx.admitted == {Element.ADMIN_TOOL, Element.WEB_STAFF}
    assert ctx.entitlements is None  # no element takes permissions from Entra


def test_access_roles_admit_only_their_holders(settings):
    settings.KEYFAX_SSO_ACCESS_ROLES = ["Keyfax.Staff"]
    assert decided(settings, AUTH, AUTH, roles=["Keyfax.Staff"]).admitted == set(Element)
    with pytest.raises(SignInRefused) as caught:
        decided(settings, AUTH, AUTH, roles=["Keyfax.Admin"])
    assert caught.value.reason is Reason.NO_ACCESS_ROLE


def test_mapped_roles_admit_the_elements_they_grant_in(settings, default_mappings):
    ctx = decided(settings, PERMS, PERMS, roles=["Keyfax.Staff"], target=Element.WEB_STAFF)
    assert ctx.admitted == {Element.WEB_STAFF}
    assert ctx.verdicts == {Element.ADMIN_TOOL: "no_permissions", Element.WEB_STAFF: "admitted"}
    assert ctx.entitlements.admits(Element.WEB_STAFF)


def test_the_element_signed_in_to_must_admit(settings, default_mappings):
    with pytest.raises(SignInRefused) as caught:
        decided(settings, PERMS, PERMS, roles=["Keyfax.Staff"], target=Element.ADMIN_TOOL)
    assert caught.value.reason is Reason.NO_PERMISSIONS
    assert caught.value.detail["target"] == "admin_tool"


def test_unmapped_roles_admit_nothing_and_are_noted(settings, default_mappings):
    with pytest.raises(SignInRefused) as caught:
        decided(settings, PERMS, PERMS, roles=["Keyfax.Reporting"])
    assert caught.value.reason is Reason.NO_PERMISSIONS


def test_a_group_mapping_admits(settings):
    group = str(uuid.uuid4())
    RoleMappingFactory(kind="group", value=group, permissions=["run_repair_diagnostics"])
    assert decided(settings, AUTH, PERMS, roles=[], groups=[group],
                   target=Element.WEB_STAFF).admitted == {Element.WEB_STAFF}


def test_step_up_is_required_where_configured(settings):
    settings.KEYFAX_REQUIRE_MFA = ["admin_tool"]
    with pytest.raises(SignInRefused) as caught:
        decided(settings, AUTH, AUTH, target=Element.ADMIN_TOOL)
    assert caught.value.reason is Reason.STEP_UP_REQUIRED
    ctx = decided(settings, AUTH, AUTH, target=Element.ADMIN_TOOL, acrs=["c1"])
    assert ctx.admitted == set(Element)
    ctx = decided(settings, AUTH, AUTH, target=Element.WEB_STAFF)  # no step-up needed there
    assert ctx.verdicts[Element.ADMIN_TOOL] == "step_up_required"


def test_the_access_decision_writes_nothing(settings, default_mappings,
                                            django_assert_max_num_queries):
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = PERMS
    ctx = context(claims=claims(roles=["Keyfax.Admin"]))
    with django_assert_max_num_queries(1) as captured:  # the role mappings, once
        permission_steps.decide_access(ctx)
    assert captured.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")
    assert ctx.admitted == {Element.ADMIN_TOOL}


# --- provision_or_update_user -------------------------------------------------------------


def test_a_first_sign_in_creates_the_account_and_says_so():
    ctx = context(claims=claims(), admitted={Element.WEB_STAFF})
    steps.find_person(ctx)
    steps.provision_or_update_user(ctx)
    assert ctx.created and ctx.user.username == "pat.jones@riverside-homes.example"
    assert (ctx.user.first_name, ctx.user.last_name) == ("Pat", "Jones")
    assert not ctx.user.has_usable_password()
    assert str(ctx.identity.object_id) == ctx.object_id and ctx.identity.roles == ["Keyfax.Staff"]
    event = AuditEvent.objects.get(action="user_created")
    assert (event.subject, event.actor_object_id, event.detail["via"]) == (
        f"user:{ctx.user.pk}", ctx.object_id, "entra_sign_in")


def test_a_known_person_keeps_their_account_and_gets_fresh_display_fields():
    identity = EntraIdentityFactory(user__first_name="Old")
    ctx = context(claims=claims(tid=str(identity.tenant_id), oid=str(identity.object_id)),
                  admitted={Element.WEB_STAFF})
    steps.find_person(ctx)
    steps.provision_or_update_user(ctx)
    assert not ctx.created and ctx.user.pk == identity.user_id
    identity.refresh_from_db()
    assert identity.user.first_name == "Pat" and identity.last_sign_in_at is not None
    assert not AuditEvent.objects.filter(action="user_created").exists()


def test_two_first_sign_ins_at_once_make_one_account():
    """The loser of the race finds the winner's account instead of failing."""
    ctx = context(claims=claims(), admitted={Element.WEB_STAFF})
    steps.find_person(ctx)  # nobody yet...
    winner = EntraIdentityFactory(tenant_id=ctx.tenant_id, object_id=ctx.object_id)  # ...now
    steps.provision_or_update_user(ctx)
    assert ctx.identity.pk == winner.pk and not ctx.created
    assert EntraIdentity.objects.count() == 1


# --- sync_permissions ----------------------------------------------------------------------


def test_sync_gives_exactly_what_the_roles_map_to_in_entra_managed_elements(
        settings, default_mappings):
    ctx = decided(settings, AUTH, PERMS, roles=["Keyfax.Staff.Repairs"])
    ctx.user = UserFactory()
    permission_steps.sync_permissions(ctx)
    assert held(ctx.user)["web_staff"] == {"run_repair_diagnostics"}
    assert AuditEvent.objects.filter(action="permissions_synced").count() == 1


def test_sync_does_nothing_where_no_element_takes_permissions_from_entra(settings):
    ctx = decided(settings, AUTH, AUTH, roles=["Keyfax.Staff"])
    ctx.user = UserFactory()
    permission_steps.sync_permissions(ctx)
    assert not AuditEvent.objects.filter(action="permissions_synced").exists()


# --- log_in, record_sign_in --------------------------------------------------------------


def test_log_in_opens_a_new_session_that_remembers_the_sign_in():
    request = callback_request()
    before = request.session.session_key
    user = UserFactory()
    ctx = context(request, user=user, claims=claims(sid="sid-1"),
                  admitted={Element.WEB_STAFF})
    steps.log_in(ctx)
    assert request.session.session_key != before
    assert request.user == user and request.session[SIGN_IN_METHOD] == "entra"
    assert request.session[ADMITTED_ELEMENTS] == {
        "web_staff": ctx.config.admission_key(Element.WEB_STAFF)}
    assert SignedInSession.objects.get(sid="sid-1").session_key == request.session.session_key


def test_the_sign_in_event_names_the_person_and_the_element():
    user = UserFactory()
    ctx = context(user=user, claims=claims(), target=Element.WEB_STAFF, created=True,
                  notes={"elements": {"web_staff": "admitted"}})
    steps.record_sign_in(ctx)
    event = AuditEvent.objects.get(action="sign_in")
    assert (event.outcome, event.actor_user_id, event.actor_object_id, event.element) == (
        "success", user.pk, ctx.object_id, "web_staff")
    assert event.detail["provisioned"] is True and event.detail["elements"]
