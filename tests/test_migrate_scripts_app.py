"""Moving the script models from ``admin_tools`` to ``scripts`` loses no row and no grant.

The database is taken back to the schema before the move, filled the way a running site
fills it (scripts, versions, results, role-mapping and per-Script-Set grants), and migrated
forward again.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [
    ("admin_tools", "0002_scripts"),
    ("permissions", "0002_default_role_mappings"),
    ("staff_portal", "0001_diagnostic_results"),
    ("scripts", None),
]


def migrate(targets):
    """Migrate to ``targets``; the models as they are there (every other app at its latest)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    named = {app for app, _ in targets}
    nodes = [t for t in targets if t[1]] + [
        leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] not in named]
    return executor.loader.project_state(nodes).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def fill_the_old_schema(apps) -> dict:
    """One of everything, written through the models as they were before the move."""
    user = apps.get_model("accounts", "User").objects.create(username="author")
    script_set = apps.get_model("admin_tools", "ScriptSet").objects.create(
        name="Day-to-day repairs", slug="repairs")
    script = apps.get_model("admin_tools", "Script").objects.create(
        script_set=script_set, category="Plumbing", topic="Leaking tap")
    step = apps.get_model("admin_tools", "Step").objects.create(script=script, question="Where?")
    outcome = apps.get_model("admin_tools", "Outcome").objects.create(
        script=script, code="PL01", description="Fix the tap", priority="R", response_days=5)
    apps.get_model("admin_tools", "Answer").objects.create(
        step=step, text="Kitchen", action="outcome", outcome=outcome)
    script.start_step = step
    version = apps.get_model("admin_tools", "ScriptVersion").objects.create(
        script=script, number=1, kind="repair", category="Plumbing", topic="Leaking tap",
        graph={"steps": []}, published_at=timezone.now(), published_by=user)
    script.published_version = version
    script.save()
    apps.get_model("staff_portal", "DiagnosticResult").objects.create(
        user=user, version=version, kind="repair", script_set="Day-to-day repairs",
        category="Plumbing", topic="Leaking tap", path=[], ending="outcome", code="PL01")
    content_type = apps.get_model("contenttypes", "ContentType").objects.get(
        app_label="admin_tools", model="scriptset")
    edit = apps.get_model("auth", "Permission").objects.get(
        content_type=content_type, codename="edit_scripts")
    mapping = apps.get_model("permissions", "RoleMapping").objects.create(
        kind="role", value="Keyfax.Author.Repairs")
    apps.get_model("permissions", "ScriptSetGrant").objects.create(
        mapping=mapping, script_set=script_set, permission=edit)
    apps.get_model("permissions", "EntraGrant").objects.create(
        user=user, element="admin_tool", permission=edit, script_set=script_set,
        sources=["role:Keyfax.Author.Repairs"])
    apps.get_model("guardian", "UserObjectPermission").objects.create(
        user=user, permission=edit, content_type=content_type, object_pk=str(script_set.pk))
    return {"user": user.pk, "set": script_set.pk, "script": script.pk, "step": step.pk,
            "outcome": outcome.pk, "version": version.pk, "edit": edit.pk}


def test_every_row_and_grant_survives_the_move():
    made = fill_the_old_schema(migrate(BEFORE_THE_MOVE))

    migrate(latest())
    ContentType.objects.clear_cache()

    from accounts.models import User
    from permissions.models import EntraGrant, ScriptSetGrant
    from scripts.models import Answer, Script, ScriptSet, ScriptVersion
    from staff_portal.models import DiagnosticResult

    script = Script.objects.get(pk=made["script"])
    assert (script.script_set_id, script.start_step_id, script.published_version_id) == (
        made["set"], made["step"], made["version"])
    assert Answer.objects.get(step_id=made["step"]).outcome_id == made["outcome"]
    version = ScriptVersion.objects.get(pk=made["version"])
    assert version.published_by_id == made["user"]
    assert DiagnosticResult.objects.get().version_id == made["version"]
    assert ScriptSetGrant.objects.get().script_set_id == made["set"]
    assert EntraGrant.objects.get().script_set_id == made["set"]
    # The per-set grant (django-guardian) still means what it meant.
    author, repairs = User.objects.get(pk=made["user"]), ScriptSet.objects.get(pk=made["set"])
    assert author.has_perm("scripts.edit_scripts", repairs)
    assert ScriptSetGrant.objects.get().permission_id == made["edit"]
    assert ScriptSet._meta.db_table == "scripts_scriptset"
    assert "scripts_scriptset" in connection.introspection.table_names()
    assert not ContentType.objects.filter(app_label="admin_tools", model="scriptset").exists()
