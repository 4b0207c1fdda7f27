from django.db import migrations

from permissions.defaults import seed_default_mappings


class Migration(migrations.Migration):
    """Seed the default app-role mappings (Keyfax.Admin, Keyfax.Staff, ...)."""

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin_tools", "0001_initial"),
        ("permissions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_default_mappings, migrations.RunPython.noop),
    ]
