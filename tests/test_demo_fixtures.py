"""The demo data `make run` loads: it loads twice without clashing and matches the emulator."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import EntraIdentity, LoginMode, User
from accounts.sso_config import Element
from admin_tools.scripts.access import visible_sets
from keyfax_site.devserver import DEMO_FIXTURES
from permissions.mappings import entitlements
from permissions.models import RoleMapping, ScriptSetGrant
from permissions.sync import sync_user
from scripts.models import Script, ScriptSet
from tests import people
from tests.conftest import point_site_at
from tests.factories import EntraIdentityFactory
from tests.people import _people
from tests.permission_helpers import entra_session, held

pytestmark = pytest.mark.django_db

TOMASZ = people.person("Script author for the Repairs script set only")
FIONA = people.person("Enquiries staff and a script author through a security group")
FIONAS_GROUP = "5b0f3c1e-8d2a-4f6b-9c7e-1a2b3c4d5e6f"
DEMO_SETS = {"day-to-day-repairs", "out-of-hours", "general-enquiries"}


def test_demo_people_load_twice_and_match_the_emulators_assigned_people():
    call_command("loaddata", "demo", "demo_people", verbosity=0)
    call_command("loaddata", "demo", "demo_people", verbosity=0)

    assigned = {p["oid"] for p in _people() if p.get("assigned", True)}
    linked = {str(oid) for oid in EntraIdentity.objects.values_list("object_id", flat=True)}
    assert linked == assigned
    assert not User.objects.filter(entra_identity__isnull=False).exclude(
        login_mode=LoginMode.SSO
    ).exists()
    assert not any(u.has_usable_password() for u in User.objects.filter(login_mode="sso"))


def test_the_break_glass_demo_account_is_local():
    call_command("loaddata", "demo", verbosity=0)
    account = User.objects.get(username="it.breakglass")
    assert account.has_usable_password() and account.is_superuser
    assert not hasattr(account, "entra_identity")


# --- demo role mappings (fixtures/demo_role_mappings.json) ---------------------------------


def _load_demo() -> None:
    call_command("loaddata", *DEMO_FIXTURES, verbosity=0)


def _rows() -> dict[str, list]:
    return {
        "mappings": sorted(RoleMapping.objects.values_list("pk", "kind", "value")),
        "mapping permissions": sorted(
            RoleMapping.permissions.through.objects.values_list("rolemapping_id", "permission_id")
        ),
        "grants": sorted(ScriptSetGrant.objects.values_list(
            "pk", "mapping__value", "script_set__slug", "permission__codename")),
        "sets": sorted(ScriptSet.objects.values_list("pk", "slug")),
        "scripts": sorted(Script.objects.values_list("pk", flat=True)),
        "users": sorted(User.objects.values_list("pk", "username")),
    }


def test_make_run_loads_the_role_mappings_after_the_script_sets_they_name():
    assert DEMO_FIXTURES.index("demo_role_mappings") > DEMO_FIXTURES.index("demo_scripts")


def test_the_demo_loads_twice_beside_the_seeded_mappings_without_duplicates():
    seeded = {m.value: (m.pk, set(m.permissions.values_list("codename", flat=True)))
              for m in RoleMapping.objects.all()}
    assert "Keyfax.Admin" in seeded  # the migration's defaults hold the low pks

    _load_demo()
    first = _rows()
    _load_demo()

    assert _rows() == first
    assert {m.value: (m.pk, set(m.permissions.values_list("codename", flat=True)))
            for m in RoleMapping.objects.exclude(value__in=["Keyfax.Author.Repairs",
                                                            FIONAS_GROUP])} == seeded
    assert sorted(row[1:] for row in first["grants"]) == [
        (FIONAS_GROUP, "general-enquiries", "edit_scripts"),
        ("Keyfax.Author.Repairs", "day-to-day-repairs", "edit_scripts"),
    ]
    tomasz = RoleMapping.objects.get_by_natural_key("role", "Keyfax.Author.Repairs")
    group = RoleMapping.objects.get_by_natural_key("group", FIONAS_GROUP)
    assert group.display_name == "Enquiries script authors (demo group)"
    for mapping in (tomasz, group):
        assert not mapping.permissions.exists()  # per Script Set only, nothing site-wide
        assert not mapping.grants_staff and not mapping.grants_superuser


def test_natural_keys_round_trip():
    _load_demo()
    for grant in ScriptSetGrant.objects.all():
        assert ScriptSetGrant.objects.get_by_natural_key(*grant.natural_key()) == grant
    assert ScriptSetGrant.objects.get(mapping__value=FIONAS_GROUP).natural_key() == (
        "group", FIONAS_GROUP, "general-enquiries", "edit_scripts", "scripts", "scriptset")
    for mapping in RoleMapping.objects.all():
        assert RoleMapping.objects.get_by_natural_key(*mapping.natural_key()) == mapping


def _edit_grants(person: dict) -> dict[str, set[str]]:
    """What the demo person's Entra roles and groups resolve to: Administration Tool grants as
    ``{"<codename>@<set slug or *>": ...}`` per element."""
    granted = entitlements(person["roles"], person["groups"])
    slugs = dict(ScriptSet.objects.values_list("pk", "slug"))
    found: dict[str, set[str]] = {}
    for grant in granted.grants:
        where = "*" if grant.script_set_id is None else slugs[grant.script_set_id]
        found.setdefault(grant.element.value, set()).add(f"{grant.codename}@{where}")
    return found


def test_tomaszs_app_role_edits_day_to_day_repairs_only():
    _load_demo()
    assert _edit_grants(TOMASZ) == {"admin_tool": {"edit_scripts@day-to-day-repairs"}}
    assert entitlements(TOMASZ["roles"], []).admits(Element.ADMIN_TOOL)
    assert not entitlements(TOMASZ["roles"], []).admits(Element.WEB_STAFF)


def test_fionas_group_edits_general_enquiries_only():
    _load_demo()
    assert _edit_grants(FIONA) == {
        "admin_tool": {"edit_scripts@general-enquiries"},
        "web_staff": {"run_enquiries_diagnostics@*"},  # her Keyfax.Staff.Enquiries role
    }
    assert _edit_grants({"roles": [], "groups": [FIONAS_GROUP.upper()]}) == {
        "admin_tool": {"edit_scripts@general-enquiries"}}


@pytest.mark.parametrize(("person", "own_set"), [
    (TOMASZ, "day-to-day-repairs"), (FIONA, "general-enquiries"),
])
def test_after_sign_in_sync_the_demo_author_edits_in_one_set_only(
    client, settings, person, own_set,
):
    _load_demo()
    point_site_at(settings, "https://login.microsoftonline.com",
                  mode="authentication_and_permissions")
    user = EntraIdentityFactory(roles=person["roles"], groups=person["groups"]).user
    sync_user(user, person["roles"], person["groups"], list(Element))
    user = type(user).objects.get(pk=user.pk)

    sets = {s.slug: s for s in ScriptSet.objects.all()}
    assert set(sets) == DEMO_SETS
    edit = "scripts.edit_scripts"
    assert {slug for slug, s in sets.items() if user.has_perm(edit, s)} == {own_set}
    assert not any(user.has_perm("scripts.publish_scripts", s) for s in sets.values())
    assert held(user)["admin_tool"] == set()  # no site-wide Administration Tool permission
    assert [s.slug for s in visible_sets(user)] == [own_set]

    # The sign-in admits the Administration Tool: the per-set grant is enough.
    granted = entitlements(person["roles"], person["groups"])
    entra_session(client, user, [e.value for e in Element if granted.admits(e)])
    home = client.get(reverse("admin_tools:home"))
    assert home.status_code == 200
    assert reverse("admin_tools:scripts") in home.text
    assert reverse("admin_tools:users") not in home.text
    listing = client.get(reverse("admin_tools:scripts"))
    assert listing.status_code == 200
    assert sets[own_set].name in listing.text
    assert all(s.name not in listing.text for slug, s in sets.items() if slug != own_set)
    for slug in DEMO_SETS:
        detail = client.get(reverse("admin_tools:script-set", args=[slug]))
        assert detail.status_code == (200 if slug == own_set else 403), slug
    own_script = Script.objects.filter(script_set__slug=own_set).first()
    other_script = Script.objects.exclude(script_set__slug=own_set).first()
    steps = reverse("admin_tools:step-create", args=[own_script.pk])
    assert client.post(steps, {"question": "Demo?"}).status_code == 302
    other_steps = reverse("admin_tools:step-create", args=[other_script.pk])
    assert client.post(other_steps, {"question": "Demo?"}).status_code == 403
    assert client.post(reverse("admin_tools:script-publish", args=[own_script.pk])
                       ).status_code == 403  # edit only: publishing is Keyfax.ScriptPublisher's
    assert client.get(reverse("admin_tools:script-set-create")).status_code == 403
