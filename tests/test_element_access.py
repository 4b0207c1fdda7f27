"""Which sign-ins each element admits, per its mode."""

from __future__ import annotations

import pytest

from accounts.sessions import ADMITTED_ELEMENTS, SIGN_IN_METHOD
from tests.conftest import point_site_at
from tests.factories import LocalUserFactory

pytestmark = pytest.mark.django_db


def signed_in(client, method: str):
    user = LocalUserFactory()
    client.force_login(user)
    session = client.session
    session[SIGN_IN_METHOD] = method
    if method == "entra":  # the elements the sign-in admitted (issue 3)
        session[ADMITTED_ELEMENTS] = ["admin_tool", "web_staff"]
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
    session[ADMITTED_ELEMENTS] = ["web_staff"]
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
