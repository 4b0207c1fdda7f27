"""`manage.py check` names every SSO misconfiguration with a stable id."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from accounts.checks import check_sso_settings
from tests.tokens import CLIENT_ID, CLIENT_SECRET, TENANT_ID


@pytest.fixture
def sso_on(settings):
    settings.ENTRA_AUTHORITY = "https://login.microsoftonline.com"
    settings.ENTRA_GRAPH_URL = "https://graph.microsoft.com"
    settings.ENTRA_TENANT_ID = TENANT_ID
    settings.ENTRA_CLIENT_ID = CLIENT_ID
    settings.ENTRA_CLIENT_SECRET = CLIENT_SECRET
    settings.KEYFAX_SSO_ADMIN_TOOL = "authentication"
    settings.KEYFAX_SSO_WEB_STAFF = "authentication_and_permissions"
    settings.KEYFAX_LOCAL_LOGIN = False
    settings.KEYFAX_REQUIRE_MFA = []
    settings.DEBUG = False
    return settings


def ids() -> set[str]:
    return {message.id for message in check_sso_settings()}


def test_a_correct_configuration_has_no_problems(sso_on):
    assert ids() == set()


def test_the_default_site_with_sso_off_has_no_problems(settings):
    settings.ENTRA_TENANT_ID = ""
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = "off"
    assert ids() == set()


@pytest.mark.parametrize("tenant", ["common", "organizations", "consumers", "contoso", "", "1234"])
def test_tenant_must_be_a_guid(sso_on, tenant):
    sso_on.ENTRA_TENANT_ID = tenant
    assert "keyfax.E001" in ids()


@pytest.mark.parametrize(
    "authority", ["http://login.microsoftonline.com", "ftp://x", "login.microsoftonline.com"]
)
def test_authority_must_be_https(sso_on, authority):
    sso_on.ENTRA_AUTHORITY = authority
    assert "keyfax.E002" in ids()


def test_graph_must_be_https(sso_on):
    sso_on.ENTRA_GRAPH_URL = "http://graph.microsoft.com"
    assert "keyfax.E007" in ids()


def test_client_id_and_secret_are_required_while_sso_is_on(sso_on):
    sso_on.ENTRA_CLIENT_ID = ""
    sso_on.ENTRA_CLIENT_SECRET = ""
    assert {"keyfax.E003", "keyfax.E004"} <= ids()


def test_unknown_mode_values_are_reported(sso_on):
    sso_on.KEYFAX_SSO_WEB_STAFF = "authentication-and-permissions"
    assert "keyfax.E005" in ids()


def test_the_emulator_from_a_non_debug_site_is_refused(sso_on):
    sso_on.ENTRA_AUTHORITY = "http://127.0.0.1:8001"
    assert ids() == {"keyfax.E006"}
    sso_on.DEBUG = True
    assert ids() == set()


def test_unknown_mfa_elements_are_reported(sso_on):
    sso_on.KEYFAX_REQUIRE_MFA = ["admin_tool", "everything"]
    assert "keyfax.E008" in ids()


def test_break_glass_and_public_web_staff_without_sso_are_warnings(sso_on):
    sso_on.KEYFAX_LOCAL_LOGIN = True
    sso_on.KEYFAX_SSO_WEB_STAFF = "off"
    sso_on.KEYFAX_WEB_STAFF_PUBLIC = True
    assert ids() == {"keyfax.W001", "keyfax.W002"}


def test_manage_py_check_fails_with_the_id_and_hint(sso_on):
    sso_on.ENTRA_TENANT_ID = "common"
    with pytest.raises(SystemCheckError, match=r"keyfax\.E001.*ENTRA_TENANT_ID must be a GUID"):
        call_command("check")
