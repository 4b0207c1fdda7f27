"""``KEYFAX_SIGN_IN_PIPELINE`` as a whole: checked, all-or-nothing, and every step needed.

The promises are tried over real HTTP (browser → site → Entra emulator → site), with the
configured list and with each step taken out of it.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from accounts.checks import check_sign_in_settings
from accounts.models import EntraIdentity, User
from accounts.pipeline import SignInContext, pipeline_problems, sign_in_step
from accounts.refusals import Reason, SignInRefused
from audit.models import AuditEvent
from tests import people
from tests.factories import EntraIdentityFactory, UserFactory
from tests.permission_helpers import ADMIN_TOOL_ALL, default_mappings, held
from tests.revalidation_helpers import make_due, revalidate
from tests.tokens import TENANT_ID

__all__ = ["default_mappings"]

PIPELINE = list(django_settings.KEYFAX_SIGN_IN_PIPELINE)
ADMIN = people.person("Administrator")
PERMS = "authentication_and_permissions"


def without(step: str) -> list[str]:
    return [path for path in PIPELINE if path != step]


def swapped(first: str, second: str) -> list[str]:
    paths = list(PIPELINE)
    i, j = paths.index(first), paths.index(second)
    paths[i], paths[j] = paths[j], paths[i]
    return paths


# --- the check ---------------------------------------------------------------------------


def test_the_configured_pipeline_is_sound():
    assert pipeline_problems(PIPELINE) == []
    assert check_sign_in_settings() == []


@pytest.mark.parametrize(("paths", "problem"), [
    ([*PIPELINE, "accounts.steps.no_such_step"], "does not import"),
    ([*PIPELINE, "os.path.join"], "is not declared with @sign_in_step"),
    (swapped("accounts.steps.exchange_code", "accounts.steps.verify_id_token"),
     "verify_id_token needs tokens"),
    (swapped("permissions.pipeline.decide_access", "accounts.steps.provision_or_update_user"),
     "provision_or_update_user writes before the access decision"),
    (without("accounts.steps.find_person"), "provision_or_update_user needs identity"),
    (without("accounts.steps.provision_or_update_user"), "no step gives user"),
    (without("permissions.pipeline.decide_access"), "no step gives admitted"),
])
def test_an_impossible_pipeline_is_named(paths, problem):
    assert any(problem in found for found in pipeline_problems(paths)), pipeline_problems(paths)


def test_manage_check_reports_each_sign_in_setting(settings):
    settings.KEYFAX_SIGN_IN_PIPELINE = without("accounts.steps.check_state")
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.OIDC_USE_PKCE = False
    ids = [problem.id for problem in check_sign_in_settings()]
    assert "keyfax.E010" in ids  # exchange_code needs the PKCE verifier, and more
    assert "keyfax.E009" in ids and "keyfax.E011" in ids


def test_a_declared_step_names_only_context_fields():
    with pytest.raises(TypeError, match="not SignInContext fields: identiti"):
        sign_in_step(needs={"identiti"})


# --- over real HTTP ----------------------------------------------------------------------


def assert_refused(response, reason: str) -> AuditEvent:
    assert response.status_code in (403, 404, 503), response.text[:300]
    assert f"Reason: {reason}" in response.text
    event = AuditEvent.objects.filter(action="sign_in").latest("id")
    assert (event.outcome, event.reason) == ("refused", reason)
    return event


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_broken_pipeline_refuses_every_sign_in_clearly(entra, browser, settings):
    settings.KEYFAX_SIGN_IN_PIPELINE = swapped("accounts.steps.exchange_code",
                                               "accounts.steps.verify_id_token")
    event = assert_refused(browser.sign_in(ADMIN["oid"]), "sign_in_misconfigured")
    assert "verify_id_token needs tokens" in event.detail["pipeline"][0]
    assert not User.objects.exists()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_oidc_rp_sign_algo_means_what_it_says(entra, browser, settings):
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    assert_refused(browser.sign_in(ADMIN["oid"]), "token_algorithm")


@sign_in_step(needs={"user", "admitted"}, writes=True)
def refuse_after_writing(context: SignInContext) -> None:
    """A last step that says no after every write: none of them may stand."""
    raise SignInRefused(Reason.ENTRA_ERROR, {"test": "refused last"})


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_refusal_after_the_writes_undoes_all_of_them(entra, browser, settings,
                                                       default_mappings):
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = PERMS
    settings.KEYFAX_SIGN_IN_PIPELINE = [*PIPELINE, f"{__name__}.refuse_after_writing"]

    assert_refused(browser.sign_in(ADMIN["oid"], next_url="/admin-tools/"), "entra_error")

    assert not User.objects.exists() and not EntraIdentity.objects.exists()
    assert list(AuditEvent.objects.values_list("action", "outcome")) == [("sign_in", "refused")]
    assert browser.get("/admin-tools/").status_code == 302  # no session either


# --- every step is needed ----------------------------------------------------------------


def a_valid_sign_in_lands_with_all_its_effects(entra, browser, settings) -> None:
    response = browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    assert (response.status_code, response.headers.get("Location")) == (302, "/admin-tools/")
    assert browser.get("/admin-tools/").status_code == 200
    identity = EntraIdentity.objects.select_related("user").get(object_id=ADMIN["oid"])
    assert identity.roles == ADMIN["roles"]
    assert held(identity.user)["admin_tool"] == ADMIN_TOOL_ALL
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "outcome"))
    assert actions == [("user_created", "success"), ("permissions_synced", "success"),
                       ("sign_in", "success")]


def sso_switched_off_at_entra_is_refused(entra, browser, settings) -> None:
    callback = browser.pick_account(browser.start_sign_in("/admin-tools/"), ADMIN["oid"])
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = "off"
    assert_refused(browser.get(callback), "sso_not_configured")
    assert not User.objects.exists()


def a_disabled_account_stays_out(entra, browser, settings) -> None:
    EntraIdentityFactory(tenant_id=TENANT_ID, object_id=ADMIN["oid"],
                         user=UserFactory(is_active=False))
    assert_refused(browser.sign_in(ADMIN["oid"]), "account_disabled")
    assert browser.get("/admin-tools/").status_code == 302


def a_stranger_stays_out_where_registration_is_required(entra, browser, settings) -> None:
    settings.KEYFAX_SSO_PROVISIONING = "registered"
    assert_refused(browser.sign_in(ADMIN["oid"], next_url="/admin-tools/"), "not_registered")
    assert not User.objects.exists()


def a_recheck_with_another_person_ends_the_session(entra, browser, settings) -> None:
    browser.sign_in(ADMIN["oid"], next_url="/admin-tools/")
    other = people.with_role("Keyfax.Staff")
    entra.id_token_hook = lambda header, claims: claims.update(oid=other["oid"])
    make_due(browser)
    _hops, response = revalidate(browser, "/admin-tools/")
    assert "Reason: not_the_same_person" in response.text
    assert browser.get("/admin-tools/").status_code == 302


PROMISES = {
    "accounts.steps.require_same_person": a_recheck_with_another_person_ends_the_session,
    "accounts.steps.require_sso_enabled": sso_switched_off_at_entra_is_refused,
    "accounts.steps.require_registration": a_stranger_stays_out_where_registration_is_required,
    "accounts.steps.require_active_user": a_disabled_account_stays_out,
}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("promise", [a_valid_sign_in_lands_with_all_its_effects,
                                     *PROMISES.values()], ids=lambda p: p.__name__)
def test_the_full_pipeline_keeps_every_promise(perms_site, browser, settings, promise):
    promise(perms_site, browser, settings)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", PIPELINE)
def test_without_any_one_step_a_promise_breaks(perms_site, browser, settings, step):
    settings.KEYFAX_SIGN_IN_PIPELINE = without(step)
    promise = PROMISES.get(step, a_valid_sign_in_lands_with_all_its_effects)
    with pytest.raises(AssertionError):
        promise(perms_site, browser, settings)
