"""Holding maintain-users never reaches IT's accounts (DESIGN.md, "Who may change whom").

The takeover the issue names: a Keyfax administrator (an Entra session holding
maintain_users) resets the break-glass superuser's password, then signs in with it. Every
User Maintenance URL that accepts a POST is tried against an IT account; nothing changes,
each attempt is refused on the record, and the page says so before anyone tries.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import get_resolver

from accounts import services as accounts
from accounts.models import User
from audit.models import AuditEvent
from permissions.services import current_codenames
from tests.conftest import point_site_at
from tests.factories import LocalUserFactory, MaintainerFactory, UserFactory, grant
from tests.permission_helpers import entra_session

pytestmark = pytest.mark.django_db

STRONG = "correct-horse-battery-staple-42"


@pytest.fixture
def admin(client, settings):
    """A Keyfax administrator signed in through Entra (authentication mode: the User
    Maintenance page edits permissions)."""
    point_site_at(settings, "https://login.microsoftonline.com", mode="authentication")
    settings.KEYFAX_LOCAL_LOGIN = True
    user = UserFactory(username="eleanor")
    grant(user, "maintain_users", "edit_scripts", "run_repair_diagnostics")
    entra_session(client, user)
    return user


@pytest.fixture(params=["superuser", "staff", "superuser-only"])
def it_account(request):
    flags = {"superuser": {"is_superuser": True, "is_staff": True}, "staff": {"is_staff": True},
             "superuser-only": {"is_superuser": True}}[request.param]
    person = LocalUserFactory(username=f"it.{request.param.replace('-', '.')}", **flags)
    person.set_password("the-real-break-glass-password")
    person.save()
    return person


def snapshot(user: User) -> dict:
    user.refresh_from_db()
    return {"row": {f.name: getattr(user, f.name) for f in User._meta.concrete_fields},
            "permissions": current_codenames(user)}


def user_maintenance_posts(person: User) -> dict[str, dict]:
    """Every User Maintenance URL of one person that accepts a POST, with a plausible body."""
    names = {pattern.name for pattern in get_resolver("admin_tools.users.urls").url_patterns
             if pattern.name and "user_id" in str(pattern.pattern)}
    bodies = {
        "user-edit": {"username": "owned", "first_name": "Mallory", "last_name": "X",
                      "email": "m@example.org", "login_mode": "sso", "user_group": "",
                      "permissions_admin_tool": ["maintain_users"]},
        "user-password": {"new_password1": STRONG, "new_password2": STRONG},
        "user-disable": {}, "user-enable": {}, "user-end-sessions": {},
        # refused before the directory is asked: no Graph here
        "user-link": {"object_id": "57022b89-12ea-429d-a1e5-15bb6b14c3e4"}, "user-unlink": {},
    }
    paths = {"user-edit": "", "user-end-sessions": "sessions/end/"}
    assert names == set(bodies), "a new User Maintenance URL needs a case here"
    return {f"/admin-tools/users/{person.pk}/"
            + paths.get(name, name.removeprefix("user-") + "/"): body
            for name, body in bodies.items()}


def test_the_break_glass_takeover_is_refused(client, admin, it_account):
    response = client.post(f"/admin-tools/users/{it_account.pk}/password/",
                           {"new_password1": STRONG, "new_password2": STRONG})

    assert response.status_code == 403
    assert "managed by IT in Django admin" in response.text or "only a superuser" in \
        response.text
    assert not Client().login(username=it_account.username, password=STRONG)
    event = AuditEvent.objects.filter(action="user_changed").latest("id")
    assert (event.outcome, event.reason, event.actor_user_id, event.subject) == (
        "refused", "it_account", admin.pk, f"user:{it_account.pk}")
    assert event.detail["username"] == it_account.username


def test_every_user_maintenance_post_changes_nothing_of_an_it_account(client, admin,
                                                                        it_account):
    posts = user_maintenance_posts(it_account)
    for url, body in posts.items():
        it_account.is_active = url.endswith("/enable/") is False  # enable needs a disabled one
        User.objects.filter(pk=it_account.pk).update(is_active=it_account.is_active)
        before = snapshot(it_account)
        response = client.post(url, body)
        assert snapshot(it_account) == before, url
        assert response.status_code in (302, 403), (url, response.status_code)
    refused = AuditEvent.objects.filter(outcome="refused", reason="it_account")
    assert refused.count() == len(posts)  # one refusal on the record per attempt
    assert set(refused.values_list("subject", flat=True)) == {f"user:{it_account.pk}"}


def test_the_page_says_so_before_anyone_tries(client, admin, it_account):
    page = client.get(f"/admin-tools/users/{it_account.pk}/")

    assert page.status_code == 200
    assert "Read-only here." in page.text
    for action in ("password/", "disable/"):
        assert f"/admin-tools/users/{it_account.pk}/{action}" not in page.text
    assert '<button type="submit">Save</button>' not in page.text
    assert 'name="username"' in page.text and "disabled" in page.text
    assert not AuditEvent.objects.exists()  # looking is not an attempt


def test_an_ordinary_account_is_still_maintained(client, admin):
    person = LocalUserFactory(username="pat")
    response = client.post(f"/admin-tools/users/{person.pk}/password/",
                           {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    assert Client().login(username="pat", password=STRONG)


def test_a_superuser_may_maintain_it_accounts(client, settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    boss = MaintainerFactory(username="boss", is_superuser=True, is_staff=True)
    client.force_login(boss)
    staff = LocalUserFactory(username="it.staff", is_staff=True)
    response = client.post(f"/admin-tools/users/{staff.pk}/disable/")
    assert response.status_code == 302
    staff.refresh_from_db()
    assert not staff.is_active


# --- the door itself, as every surface calls it ---------------------------------------------


def test_nobody_grants_a_flag_they_do_not_hold():
    staff = UserFactory(is_staff=True)
    person = UserFactory()
    with pytest.raises(accounts.AccountRefused, match="is_superuser"):
        accounts.change_user(person, {"is_superuser": True}, accounts.Actor(user=staff))
    person.refresh_from_db()
    assert not person.is_superuser
    event = AuditEvent.objects.get()
    assert (event.outcome, event.reason) == ("refused", "not_held")
    accounts.change_user(person, {"is_staff": True}, accounts.Actor(user=staff))  # held: fine


def test_nobody_disables_or_deletes_themselves():
    boss = UserFactory(is_superuser=True, is_staff=True)
    for attempt in (lambda: accounts.set_active(boss, False, accounts.Actor(user=boss)),
                    lambda: accounts.delete_user(boss, accounts.Actor(user=boss))):
        with pytest.raises(accounts.AccountRefused, match="your own account"):
            attempt()
    boss.refresh_from_db()
    assert boss.is_active


def test_an_entra_linked_account_is_never_deleted_or_given_a_password():
    from tests.factories import EntraUserFactory

    person = EntraUserFactory()
    system = accounts.Actor()
    with pytest.raises(accounts.AccountRefused, match="disable the account instead"):
        accounts.delete_user(person, system)
    with pytest.raises(accounts.AccountRefused, match="never has a Keyfax password"):
        accounts.set_password(person, STRONG, system)
    person.refresh_from_db()
    assert not person.has_usable_password()
    assert AuditEvent.objects.filter(outcome="refused").count() == 2


def django_admin_user_posts(person: User) -> list[str]:
    """Every Django admin URL of one user (change, delete, password, history…)."""
    from django.contrib import admin

    patterns = admin.site._registry[User].get_urls()
    urls = []
    for pattern in patterns:
        route = str(pattern.pattern)
        if "<path:object_id>" in route or "<id>" in route:
            urls.append("/django-admin/accounts/user/" + route.replace(
                "<path:object_id>", str(person.pk)).replace("<id>", str(person.pk)))
    assert len(urls) >= 3, urls  # change, delete, password at least
    return urls


def test_no_django_admin_post_reaches_an_it_account_with_maintain_users_alone(
        client, admin, it_account):
    before = snapshot(it_account)
    for url in django_admin_user_posts(it_account):
        response = client.post(url, {"username": "owned", "password1": STRONG,
                                     "password2": STRONG, "post": "yes", "is_superuser": "on"})
        assert response.status_code in (302, 403), (url, response.status_code)
        assert snapshot(it_account) == before, url
    assert not Client().login(username=it_account.username, password=STRONG)


def test_the_permission_service_itself_refuses_grants_of_what_the_editor_lacks():
    """Every writer meets the rule in permissions.services, not only the pages that ask first."""
    from accounts.sso_config import Element
    from permissions import services

    editor, person = UserFactory(), UserFactory()
    grant(editor, "maintain_users")
    with pytest.raises(services.NotHeldError, match="Publish scripts"):
        services.change_permissions(person, Element.ADMIN_TOOL, grant={"publish_scripts"},
                                    actor=editor, via="test")
    assert current_codenames(person)[Element.ADMIN_TOOL] == set()
    event = AuditEvent.objects.get(action="permission_changed")
    assert (event.outcome, event.reason, event.detail["grant"]) == (
        "refused", "not_held", ["publish_scripts"])
    services.change_permissions(person, Element.ADMIN_TOOL, grant={"maintain_users"},
                                actor=editor, via="test")  # held: fine
