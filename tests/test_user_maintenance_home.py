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
    assert reverse("admin_tools:scripts") == "/admin-tools/scripts/"
    assert '<a href="/admin-tools/scripts/">Scripts</a>' in text
    assert "not available yet" not in text
    assert "User Maintenance" not in text


def test_reports_and_settings_are_placeholders_for_their_holders(sign_in):
    text = sign_in("view_reports", "view_system_settings")
    # Neither page exists yet: both are listed by name, marked, and not linked.
    for name in ("reports", "settings"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin_tools:{name}")
    for name in ("Reports", "System settings"):
        assert (f'<span class="tool-name">{name}</span> '
                '<span class="muted">(not available yet)</span>') in text
        assert f">{name}</a>" not in text
    assert text.count("(not available yet)") == 2
    assert "User Maintenance" not in text and "Scripts" not in text


def test_django_admin_is_offered_to_staff_only(sign_in):
    assert '<a href="/django-admin/">Django admin</a>' in sign_in(is_staff=True)


def test_a_missing_page_is_listed_without_a_link(sign_in, monkeypatch):
    assert views._url("admin_tools:no-such-page") == ""
    assert views._url("admin_tools:users") == "/admin-tools/users/"
    monkeypatch.setattr(views, "tools_for", lambda user: [
        views.Tool("Elsewhere", "No such page.", views._url("admin_tools:no-such-page")),
        views.Tool("User Maintenance", "A page that exists.", views._url("admin_tools:users")),
    ])

    text = sign_in()

    assert ('<span class="tool-name">Elsewhere</span> '
            '<span class="muted">(not available yet)</span>') in text
    assert ">Elsewhere</a>" not in text
    assert '<a href="/admin-tools/users/">User Maintenance</a>' in text
    assert text.count("(not available yet)") == 1


def test_an_author_of_one_script_set_only_sees_scripts(client, settings):
    from guardian.shortcuts import assign_perm

    from tests.factories import ScriptSetFactory

    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    author = MaintainerFactory(keyfax_permissions=[])
    assign_perm("scripts.edit_scripts", author, ScriptSetFactory(slug="repairs"))
    client.force_login(author)

    text = client.get("/admin-tools/").text

    assert f'<a href="{reverse("admin_tools:scripts")}">Scripts</a>' in text
