"""Adopt the script models from ``admin_tools`` (no table is created or copied).

The tables keep their ``admin_tools_*`` names until ``0002_rename_tables``, after the
foreign keys of ``permissions`` and ``staff_portal`` point here. The content types move
with the models, so every django-guardian grant on a Script Set, every permission row and
every admin log entry keeps pointing at the same thing.
"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("scriptset", "script", "step", "outcome", "answer", "scriptversion")


def move_content_types(apps, schema_editor, source="admin_tools", target="scripts"):
    content_types = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    taken = set(content_types.objects.using(db).filter(
        app_label=target, model__in=MODELS).values_list("model", flat=True))
    if taken:  # made by a `migrate` that ran before this one: the old rows carry the grants
        content_types.objects.using(db).filter(app_label=target, model__in=taken).delete()
    content_types.objects.using(db).filter(app_label=source, model__in=MODELS).update(
        app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="scripts", target="admin_tools")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("admin_tools", "0002_scripts"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name='ScriptSet',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('slug', models.SlugField(max_length=100, unique=True)),
                ('description', models.TextField(blank=True)),
            ],
            options={
                'ordering': ['name'],
                'permissions': [('edit_scripts', 'Edit scripts in this Script Set'), ('publish_scripts', 'Publish scripts in this Script Set')],
                'db_table': 'admin_tools_scriptset',
            },
        ),
        migrations.CreateModel(
            name='Script',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('repair', 'Repair'), ('enquiry', 'Enquiry')], default='repair', help_text='Repair Diagnostics runs repair scripts; Enquiries Diagnostics runs enquiry scripts.', max_length=10)),
                ('category', models.CharField(help_text='For example Plumbing or Heating.', max_length=100)),
                ('topic', models.CharField(help_text='For example Leaking tap.', max_length=100)),
                ('description', models.TextField(blank=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('script_set', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='scripts', to='scripts.scriptset')),
            ],
            options={
                'ordering': ['script_set__name', 'category', 'topic'],
                'db_table': 'admin_tools_script',
            },
        ),
        migrations.CreateModel(
            name='Outcome',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=30, verbose_name='Service / SOR code')),
                ('description', models.CharField(max_length=300)),
                ('priority', models.CharField(help_text='For example E (emergency), U (urgent), R (routine).', max_length=10, verbose_name='Priority code')),
                ('response_days', models.PositiveSmallIntegerField(help_text='Working days to complete; 0 means today.', validators=[django.core.validators.MaxValueValidator(365)])),
                ('script', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='outcomes', to='scripts.script')),
            ],
            options={
                'ordering': ['code', 'id'],
                'db_table': 'admin_tools_outcome',
            },
        ),
        migrations.CreateModel(
            name='ScriptVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('kind', models.CharField(choices=[('repair', 'Repair'), ('enquiry', 'Enquiry')], max_length=10)),
                ('category', models.CharField(max_length=100)),
                ('topic', models.CharField(max_length=100)),
                ('graph', models.JSONField()),
                ('published_at', models.DateTimeField()),
                ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('script', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='scripts.script')),
            ],
            options={
                'ordering': ['script', '-number'],
                'db_table': 'admin_tools_scriptversion',
            },
        ),
        migrations.AddField(
            model_name='script',
            name='published_version',
            field=models.ForeignKey(blank=True, help_text='The version Web Staff runs.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='scripts.scriptversion'),
        ),
        migrations.CreateModel(
            name='Step',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField(default=0)),
                ('question', models.CharField(max_length=300)),
                ('help_text', models.TextField(blank=True, help_text='Guidance for the advisor (optional).')),
                ('script', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='scripts.script')),
            ],
            options={
                'ordering': ['position', 'id'],
                'db_table': 'admin_tools_step',
            },
        ),
        migrations.AddField(
            model_name='script',
            name='start_step',
            field=models.ForeignKey(blank=True, help_text='The step the script opens with.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='scripts.step'),
        ),
        migrations.CreateModel(
            name='Answer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField(default=0)),
                ('text', models.CharField(max_length=200)),
                ('action', models.CharField(choices=[('goto', 'Go to step'), ('outcome', 'Outcome'), ('end', 'End (no repair needed)'), ('cancel', 'Cancel the diagnostic')], default='goto', max_length=10)),
                ('outcome', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='scripts.outcome')),
                ('next_step', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='scripts.step')),
                ('step', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='answers', to='scripts.step')),
            ],
            options={
                'ordering': ['position', 'id'],
                'db_table': 'admin_tools_answer',
            },
        ),
        migrations.AddConstraint(
            model_name='scriptversion',
            constraint=models.UniqueConstraint(fields=('script', 'number'), name='script_version_unique_number'),
        ),
        migrations.AddConstraint(
            model_name='script',
            constraint=models.UniqueConstraint(fields=('script_set', 'category', 'topic'), name='script_unique_topic_in_set'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
