"""Give the adopted tables this app's names; foreign keys follow the rename."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("scripts", "0001_initial"),
        ("admin_tools", "0003_scripts_moved_to_scripts_app"),
    ]

    operations = [
        migrations.AlterModelTable(name=name, table=None)
        for name in ("scriptset", "script", "step", "outcome", "answer", "scriptversion")
    ]
