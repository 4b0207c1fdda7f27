from django.db import migrations

from permissions.defaults import seed_default_mappings


class Migration(migrations.Migration):
    """Seed the Keyfax.IT mapping (staff access to Django admin) where it is missing."""

    dependencies = [
        ("permissions", "0003_script_sets_in_scripts"),
    ]

    operations = [
        migrations.RunPython(seed_default_mappings, migrations.RunPython.noop),
    ]
