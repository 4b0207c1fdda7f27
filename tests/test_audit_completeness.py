"""Audit completeness: every write through every surface writes exactly its events.

One scripted session drives the real pages (Django's test Client against the site's URLs)
and the management commands, as the people who use them would: a maintainer on User
Maintenance, IT in Django admin, commands on the host (``set_permissions``,
``createsuperuser``), a publisher and an author in the Administration Tool's script pages,
and sign-outs (the Sign out button, Django admin's Log out). After each step the events
written since the step before are compared with the step's expected events — (action,
outcome, actor, subject, element), one for one and in order: none missing, none extra. At
the end the hash chain verifies (what ``manage.py verify_audit`` checks).

docs/audit.md is the catalogue; DESIGN.md, "Audit", the promise: every account write from
any surface, permission edit, refused edit, role-mapping change and sign-out writes one event.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from audit.integrity import verify_chain
from audit.models import AuditEvent
from permissions.catalogue import global_permission_rows
from permissions.models import RoleMapping
from scripts.models import Script
from tests.admin_forms import form_data
from tests.factories import (
    LocalUserFactory,
    MaintainerFactory,
    ScriptFactory,
    StepFactory,
    UserFactory,
    grant,
    leaking_tap_script,
)

pytestmark = pytest.mark.django_db

STRONG = "tangerine-Horizon-42"
UM = "/admin-tools/users/"
ADMIN_USERS = "/django-admin/accounts/user/"
ADMIN_GROUPS = "/django-admin/auth/group/"
ADMIN_MAPPINGS = "/django-admin/permissions/rolemapping/"
NEW = {"username": "new.person", "first_name": "Nia", "last_name": "Newton",
       "email": "nia@example.org", "login_mode": "password", "user_group": "Repairs",
       "notes": "Starts Monday."}

Subject = str | Callable[[], str]
Expected = tuple[str, str, str | None, Subject, str]  # action, outcome, actor, subject, element
Step = tuple[str, Callable[[], None], list[Expected]]


# --- helpers -------------------------------------------------------------------------------


def user_subject(username: str) -> Callable[[], str]:
    """``user:<id>`` of ``username``, looked up after the step ran (it may create them)."""
    return lambda: f"user:{User.objects.get(username=username).pk}"


def written(after_id: int) -> list[tuple[str, str, str | None, str, str]]:
    """The events written after event ``after_id``, oldest first, as compared here.

    The actor is the username, ``None`` for the system (a command on the host), and
    ``<kind>`` for anything else without a username, so it never passes for the system."""
    rows = AuditEvent.objects.filter(pk__gt=after_id).order_by("pk").values_list(
        "action", "outcome", "actor_kind", "actor_username", "subject", "element")
    return [(action, outcome,
             username or (None if kind == "system" else f"<{kind}>"), subject, element)
            for action, outcome, kind, username, subject, element in rows]


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def resolved(expected: list[Expected]) -> list[tuple[str, str, str | None, str, str]]:
    return [(action, outcome, actor, subject() if callable(subject) else subject, element)
            for action, outcome, actor, subject, element in expected]


def admin_form(client: Client, url: str, **changes: Any) -> dict:
    """GET a Django admin form and return its data with ``changes`` (``False``: unticked)."""
    page = client.get(url)
    assert page.status_code == 200, f"GET {url}: {page.status_code}"
    data = form_data(page)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def posted(client: Client, url: str, data: dict | None = None, status: int = 302):
    response = client.post(url, data or {})
    assert response.status_code == status, (
        f"POST {url}: HTTP {response.status_code}, expected {status}: "
        f"{response.content[:600]!r}")
    return response


def signed_in(user: User) -> Client:
    """A password session (SSO is off here, so every element admits it)."""
    client = Client()
    client.force_login(user)
    return client


# --- the session ---------------------------------------------------------------------------


@pytest.fixture
def people(settings):
    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    settings.KEYFAX_SSO_WEB_STAFF = "off"
    return {
        "mina": MaintainerFactory(username="mina", keyfax_permissions=[
            "maintain_users", "view_reports", "run_repair_diagnostics"]),
        "it.boss": LocalUserFactory(username="it.boss", is_staff=True, is_superuser=True),
        "it.ops": LocalUserFactory(username="it.ops", is_staff=True),  # an IT account
        "pat": LocalUserFactory(username="pat", first_name="Pat"),
        "temp": LocalUserFactory(username="temp"),
        "pub": UserFactory(username="pub"),
        "ed": UserFactory(username="ed"),
    }


def session(people: dict[str, User]) -> list[Step]:
    """Every write through every surface, as (description, do it, the events it writes)."""
    mina, boss, it_ops, pat, temp = (people[n] for n in ("mina", "it.boss", "it.ops", "pat",
                                                         "temp"))
    grant(people["pub"], "publish_scripts")
    grant(people["ed"], "edit_scripts")
    maintainer, it, publisher, author = (signed_in(people[n]) for n in ("mina", "it.boss",
                                                                       "pub", "ed"))
    group = Group.objects.create(name="Call centre")
    script = leaking_tap_script()[0]
    broken = ScriptFactory(script_set=script.script_set, topic="Dead end")
    broken.start_step = StepFactory(script=broken, question="No answers?")  # a dead end
    broken.save()
    new = user_subject("new.person")

    def new_pk() -> int:
        return User.objects.get(username="new.person").pk

    # --- User Maintenance -------------------------------------------------------------------
    def um_create():
        posted(maintainer, f"{UM}new/", NEW)
        assert User.objects.filter(username="new.person").exists()

    def um_details():
        posted(maintainer, f"{UM}{new_pk()}/", {**NEW, "first_name": "Niamh"})
        assert User.objects.get(pk=new_pk()).first_name == "Niamh"

    def um_permissions():
        posted(maintainer, f"{UM}{new_pk()}/", {
            **NEW, "first_name": "Niamh", "permissions_admin_tool": ["view_reports"],
            "permissions_web_staff": ["run_repair_diagnostics"]})
        person = User.objects.get(pk=new_pk())
        assert person.has_perm("permissions.view_reports")
        assert person.has_perm("permissions.run_repair_diagnostics")

    def um_password():
        posted(maintainer, f"{UM}{new_pk()}/password/",
               {"new_password1": STRONG, "new_password2": STRONG})
        assert User.objects.get(pk=new_pk()).check_password(STRONG)

    def um_disable():
        posted(maintainer, f"{UM}{new_pk()}/disable/")
        assert not User.objects.get(pk=new_pk()).is_active

    def um_enable():
        posted(maintainer, f"{UM}{new_pk()}/enable/")
        assert User.objects.get(pk=new_pk()).is_active

    def um_refused():
        posted(maintainer, f"{UM}{it_ops.pk}/", {**NEW, "username": "it.ops",
                                                 "first_name": "Owned"}, status=403)
        assert User.objects.get(pk=it_ops.pk).first_name != "Owned"

    def um_refused_disable():
        posted(maintainer, f"{UM}{it_ops.pk}/disable/")  # back to the page, with the reason
        assert User.objects.get(pk=it_ops.pk).is_active

    def um_refused_self():
        posted(maintainer, f"{UM}{mina.pk}/disable/")
        assert User.objects.get(pk=mina.pk).is_active

    # --- Django admin -----------------------------------------------------------------------
    def admin_add():
        data = admin_form(it, f"{ADMIN_USERS}add/", username="added.person",
                          usable_password="true", password1=STRONG, password2=STRONG)
        posted(it, f"{ADMIN_USERS}add/", data)
        assert User.objects.get(username="added.person").check_password(STRONG)

    def admin_change():
        url = f"{ADMIN_USERS}{pat.pk}/change/"
        posted(it, url, admin_form(it, url, first_name="Patricia", is_active=False))
        person = User.objects.get(pk=pat.pk)
        assert (person.first_name, person.is_active) == ("Patricia", False)

    def admin_password():
        posted(it, f"{ADMIN_USERS}{pat.pk}/password/", {
            "usable_password": "true", "password1": STRONG, "password2": STRONG,
            "set-password": "1"})
        assert User.objects.get(pk=pat.pk).check_password(STRONG)

    def admin_delete():
        posted(it, f"{ADMIN_USERS}{temp.pk}/delete/", {"post": "yes"})
        assert not User.objects.filter(pk=temp.pk).exists()

    wanted = [Permission.objects.get(codename="view_user"),
              global_permission_rows().get(codename="run_repair_diagnostics")]

    def admin_group():
        url = f"{ADMIN_GROUPS}{group.pk}/change/"
        posted(it, url, admin_form(it, url, permissions=[str(p.pk) for p in wanted]))
        assert set(group.permissions.all()) == set(wanted)

    def admin_mapping_add():
        view_reports = global_permission_rows().get(codename="view_reports")
        data = admin_form(it, f"{ADMIN_MAPPINGS}add/", kind="role", value="Keyfax.Auditors",
                          display_name="Auditors", permissions=[str(view_reports.pk)])
        posted(it, f"{ADMIN_MAPPINGS}add/", data)
        assert RoleMapping.objects.get(value="Keyfax.Auditors").permissions.count() == 1

    def admin_mapping_change():
        mapping = RoleMapping.objects.get(kind="role", value="Keyfax.Auditors")
        url = f"{ADMIN_MAPPINGS}{mapping.pk}/change/"
        posted(it, url, admin_form(it, url, display_name="Internal auditors"))
        mapping.refresh_from_db()
        assert mapping.display_name == "Internal auditors"

    # --- a management command, script publishing, sign-out ----------------------------------
    def command():
        out = io.StringIO()
        call_command("set_permissions", "pat", "--element", "admin_tool",
                     "--grant", "view_reports", stdout=out)
        assert "view_reports" in out.getvalue()

    def createsuperuser():
        call_command("createsuperuser", interactive=False, username="root",
                     email="root@example.org", stdout=io.StringIO())
        assert User.objects.get(username="root").is_superuser

    def publish():
        posted(publisher, f"/admin-tools/scripts/{script.pk}/publish/")
        assert Script.objects.get(pk=script.pk).published_version.number == 1

    def publish_broken():
        posted(publisher, f"/admin-tools/scripts/{broken.pk}/publish/", status=400)
        assert Script.objects.get(pk=broken.pk).published_version is None

    def publish_refused():
        response = posted(author, f"/admin-tools/scripts/{script.pk}/publish/", status=403)
        assert "You do not have permission" in response.text
        assert Script.objects.get(pk=script.pk).versions.count() == 1

    def sign_out():
        posted(maintainer, "/oidc/logout/")
        assert maintainer.get(f"{UM}").status_code == 302  # to the sign-in page

    def admin_sign_out():
        posted(it, "/django-admin/logout/")  # on to the signed-out page
        assert it.get(ADMIN_USERS).status_code == 302  # to the sign-in page

    return [
        ("create new.person (User Maintenance)", um_create,
         [("user_created", "success", "mina", new, "")]),
        ("change new.person's details (User Maintenance)", um_details,
         [("user_changed", "success", "mina", new, "")]),
        ("change new.person's permissions (User Maintenance)", um_permissions,
         [("permission_changed", "success", "mina", new, "admin_tool"),
          ("permission_changed", "success", "mina", new, "web_staff")]),
        ("reset new.person's password (User Maintenance)", um_password,
         [("user_changed", "success", "mina", new, "")]),
        ("disable new.person (User Maintenance)", um_disable,
         [("user_disabled", "success", "mina", new, "")]),
        ("enable new.person (User Maintenance)", um_enable,
         [("user_enabled", "success", "mina", new, "")]),
        ("change the IT account it.ops: refused (User Maintenance)", um_refused,
         [("user_changed", "refused", "mina", f"user:{it_ops.pk}", "")]),
        ("disable the IT account it.ops: refused, as a user_changed (User Maintenance)",
         um_refused_disable, [("user_changed", "refused", "mina", f"user:{it_ops.pk}", "")]),
        ("mina disables herself: refused (User Maintenance)", um_refused_self,
         [("user_disabled", "refused", "mina", f"user:{mina.pk}", "")]),
        ("add added.person (Django admin)", admin_add,
         [("user_created", "success", "it.boss", user_subject("added.person"), "")]),
        ("change pat's name and disable pat (Django admin)", admin_change,
         [("user_disabled", "success", "it.boss", f"user:{pat.pk}", "")]),
        ("set pat's password (Django admin)", admin_password,
         [("user_changed", "success", "it.boss", f"user:{pat.pk}", "")]),
        ("delete the local user temp (Django admin)", admin_delete,
         [("user_deleted", "success", "it.boss", f"user:{temp.pk}", "")]),
        ("change a group's permissions (Django admin)", admin_group,
         [("group_changed", "success", "it.boss", f"group:{group.pk}", "")]),
        ("create a role mapping (Django admin)", admin_mapping_add,
         [("role_mapping_changed", "success", "it.boss", "role_mapping:role:Keyfax.Auditors",
           "")]),
        ("change a role mapping (Django admin)", admin_mapping_change,
         [("role_mapping_changed", "success", "it.boss", "role_mapping:role:Keyfax.Auditors",
           "")]),
        ("grant pat view_reports (manage.py set_permissions)", command,
         [("permission_changed", "success", None, f"user:{pat.pk}", "admin_tool")]),
        ("create the superuser root (manage.py createsuperuser)", createsuperuser,
         [("user_created", "success", None, user_subject("root"), "")]),
        ("publish a script (Administration Tool)", publish,
         [("script_published", "success", "pub", f"script:{script.pk}", "admin_tool")]),
        ("publish a draft with a dead end: refused, nothing published", publish_broken, []),
        ("publish without publish_scripts: the 403 page", publish_refused,
         [("access_refused", "refused", "ed", f"path:/admin-tools/scripts/{script.pk}/publish/",
           "admin_tool")]),
        ("sign mina out (the Sign out button)", sign_out,
         [("sign_out", "success", "mina", f"user:{mina.pk}", "")]),
        ("sign it.boss out of Django admin", admin_sign_out,
         [("sign_out", "success", "it.boss", f"user:{boss.pk}", "")]),
    ]


def test_every_write_through_every_surface_writes_exactly_its_events(people):
    steps = session(people)
    problems = []
    for description, do, expected in steps:
        before = last_event_id()
        do()
        got, want = written(before), resolved(expected)
        if got != want:
            problems.append(f"step {description!r} wrote {got} expected {want}")
    assert not problems, "\n".join(problems)

    report = verify_chain()
    assert report.ok, f"verify_audit: event #{report.broken_id}: {report.problem}"
    assert report.count == AuditEvent.objects.count()


def test_the_session_covers_every_surface_and_kind_of_write(people):
    """The session above is the list the issue asks for: if a step goes, this says which."""
    expected = [event for _d, _do, events in session(people) for event in events]
    assert {action for action, *_ in expected} >= {
        "user_created", "user_changed", "user_disabled", "user_enabled", "user_deleted",
        "permission_changed", "group_changed", "role_mapping_changed", "script_published",
        "access_refused", "sign_out"}
    refused = {(action, outcome) for action, outcome, *_ in expected}
    assert {("user_changed", "refused"), ("user_disabled", "refused")} <= refused
    assert None in {actor for _a, _o, actor, *_ in expected}  # a command on the host

