"""The script models now belong to the ``scripts`` app (state only: no row is touched)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("admin_tools", "0002_scripts"),
        ("scripts", "0001_initial"),
        ("permissions", "0003_script_sets_in_scripts"),
        ("staff_portal", "0002_versions_in_scripts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveField(model_name="script", name="published_version"),
            migrations.RemoveField(model_name="script", name="start_step"),
            migrations.DeleteModel(name="Answer"),
            migrations.DeleteModel(name="Outcome"),
            migrations.DeleteModel(name="Step"),
            migrations.DeleteModel(name="ScriptVersion"),
            migrations.DeleteModel(name="Script"),
            migrations.DeleteModel(name="ScriptSet"),
        ]),
    ]
