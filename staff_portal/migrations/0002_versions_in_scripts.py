"""Script versions moved to the ``scripts`` app: the foreign key follows (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("staff_portal", "0001_diagnostic_results"),
        ("scripts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='diagnosticresult',
                name='version',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='results', to='scripts.scriptversion'),
            ),
        ]),
    ]
