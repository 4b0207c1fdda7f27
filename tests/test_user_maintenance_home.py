"""The Administration Tool home shows each person only what their permissions allow."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from admin_tools import views
from tests.factories import MaintainerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign_in(client, settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"

    def signed_in(*codenames: str, **fields):
        user = MaintainerFactory(keyfax_permissions=list(codenames), **fields)
        client.force_login(user)
        response = client.get("/admin-tools/")
        assert response.status_code == 200  # answered here, no redirect
        return response.text

    return signed_in


def scripts_url() -> str | None:
    try:
        return reverse("admin_tools:scripts")
    except NoReverseMatch:
        return None


def test_nothing_to_use_says_so(sign_in):
    text = sign_in()
    assert "no Administration Tool permissions yet" in text
    assert "User Maintenance" not in text and "Django admin" not in text


def test_a_maintainer_sees_user_maintenance_only(sign_in):
    text = sign_in("maintain_users")
    assert '<a href="/admin-tools/users/">User Maintenance</a>' in text
    for hidden in ("Scripts", "Reports", "System settings", "Django admin"):
        assert hidden not in text


@pytest.mark.parametrize("codename", ["edit_scripts", "publish_scripts"])
def test_script_people_see_scripts(sign_in, codename):
    text = sign_in(codename)
    assert "Scripts" in text and "User Maintenance" not in text
    url = scripts_url()
    if url is None:
        assert "Scripts</span> <span class=\"muted\">(not available yet)" in text
    else:
        assert f'<a href="{url}">Scripts</a>' in text


def test_reports_and_settings_are_placeholders_for_their_holders(sign_in):
    text = sign_in("view_reports", "view_system_settings")
    assert "Reports</span>" in text and "System settings</span>" in text
    assert "User Maintenance" not in text


def test_django_admin_is_offered_to_staff_only(sign_in):
    assert '<a href="/django-admin/">Django admin</a>' in sign_in(is_staff=True)


def test_a_missing_page_is_listed_without_a_link():
    assert views._url("admin_tools:no-such-page") == ""
    assert views._url("admin_tools:users") == "/admin-tools/users/"


def test_an_author_of_one_script_set_only_sees_scripts(client, settings):
    from guardian.shortcuts import assign_perm

    from tests.factories import ScriptSetFactory

    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    author = MaintainerFactory(keyfax_permissions=[])
    assign_perm("scripts.edit_scripts", author, ScriptSetFactory(slug="repairs"))
    client.force_login(author)

    text = client.get("/admin-tools/").text

    assert f'<a href="{reverse("admin_tools:scripts")}">Scripts</a>' in text
