"""Which sign-ins each element admits, per its mode."""

from __future__ import annotations

import pytest

from accounts.sessions import ADMITTED_ELEMENTS, SIGN_IN_METHOD
from accounts.sso_config import Element, sso_config
from tests.conftest import point_site_at
from tests.factories import LocalUserFactory

pytestmark = pytest.mark.django_db


def admitted(*elements: str) -> dict[str, str]:
    config = sso_config()
    return {e: config.admission_key(Element(e)) for e in elements}


def signed_in(client, method: str):
    user = LocalUserFactory()
    client.force_login(user)
    session = client.session
    session[SIGN_IN_METHOD] = method
    if method == "entra":  # the elements the sign-in admitted, under today's settings
        session[ADMITTED_ELEMENTS] = admitted("admin_tool", "web_staff")
    session.save()
    return user


@pytest.mark.parametrize("path", ["/admin-tools/", "/staff/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, settings, path):
    point_site_at(settings, "https://login.microsoftonline.com")
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize(
    ("mode", "method", "local_login", "expected"),
    [
        ("authentication", "entra", False, 200),
        ("authentication_and_permissions", "entra", False, 200),
        ("authentication", "password", False, 403),
        ("authentication", "password", True, 200),  # break-glass
        ("off", "password", False, 200),
        ("off", "entra", False, 403),
    ],
)
def test_admin_tool_admits_sign_ins_by_mode(client, settings, mode, method, local_login,
                                            expected):
    point_site_at(settings, "https://login.microsoftonline.com", mode=mode)
    settings.KEYFAX_LOCAL_LOGIN = local_login
    signed_in(client, method)
    assert client.get("/admin-tools/").status_code == expected


def test_public_web_staff_never_admits_a_password_sign_in(client, settings):
    point_site_at(settings, "https://login.microsoftonline.com")
    settings.KEYFAX_LOCAL_LOGIN = True
    settings.KEYFAX_WEB_STAFF_PUBLIC = True
    signed_in(client, "password")

    response = client.get("/staff/")

    assert response.status_code == 403
    assert "Sign in with Microsoft" in response.text
    assert client.get("/admin-tools/").status_code == 200


def test_an_entra_sign_in_enters_only_the_elements_it_was_admitted_to(client, settings):
    point_site_at(settings, "https://login.microsoftonline.com")
    signed_in(client, "entra")
    session = client.session
    session[ADMITTED_ELEMENTS] = admitted("web_staff")
    session.save()

    refused = client.get("/admin-tools/")

    assert refused.status_code == 403
    assert "does not include Keyfax Administration Tool" in refused.text
    assert "Sign in again with Microsoft" in refused.text
    assert client.get("/staff/").status_code == 200


def test_internal_web_staff_admits_break_glass(client, settings):
    point_site_at(settings, "https://login.microsoftonline.com")
    settings.KEYFAX_LOCAL_LOGIN = True
    settings.KEYFAX_WEB_STAFF_PUBLIC = False
    signed_in(client, "password")
    assert client.get("/staff/").status_code == 200


@pytest.mark.parametrize(("change", "web_staff_status"), [
    ({"KEYFAX_SSO_ADMIN_TOOL": "authentication_and_permissions"}, 200),
    ({"KEYFAX_REQUIRE_MFA": ["admin_tool"]}, 200),
    ({"KEYFAX_SSO_ACCESS_ROLES": ["Keyfax.Admin"]}, 302),  # both elements use them
])
def test_a_settings_change_sends_an_admitted_session_through_sign_in_again(
        client, settings, change, web_staff_status):
    """A session admitted under other settings does not keep working until it ends: the
    sign-in (and, for Entra-managed permissions, the sync) runs again first."""
    point_site_at(settings, "https://login.microsoftonline.com")
    signed_in(client, "entra")
    assert client.get("/admin-tools/").status_code == 200
    for name, value in change.items():
        setattr(settings, name, value)

    response = client.get("/admin-tools/?page=2")

    assert response.status_code == 302
    assert response["Location"] == "/oidc/authenticate/?next=%2Fadmin-tools%2F%3Fpage%3D2"
    assert client.get("/staff/").status_code == web_staff_status


def test_a_session_from_before_admission_keys_is_sent_through_sign_in(client, settings):
    point_site_at(settings, "https://login.microsoftonline.com")
    signed_in(client, "entra")
    session = client.session
    session[ADMITTED_ELEMENTS] = ["admin_tool"]  # an older session's shape
    session.save()
    assert client.get("/admin-tools/").status_code == 403
