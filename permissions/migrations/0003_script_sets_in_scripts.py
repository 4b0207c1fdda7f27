"""Script Sets moved to the ``scripts`` app: the foreign keys follow (state only; the
tables are renamed by ``scripts.0002_rename_tables``)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("permissions", "0002_default_role_mappings"),
        ("scripts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='scriptsetgrant',
                name='script_set',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='scripts.scriptset'),
            ),
            migrations.AlterField(
                model_name='scriptsetgrant',
                name='permission',
                field=models.ForeignKey(limit_choices_to={'content_type__app_label': 'scripts', 'content_type__model': 'scriptset'}, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='auth.permission'),
            ),
            migrations.AlterField(
                model_name='entragrant',
                name='script_set',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='scripts.scriptset'),
            ),
        ]),
    ]
