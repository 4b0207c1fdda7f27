import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_event_catalogue'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='actor_kind',
            field=models.CharField(choices=[('user', 'User'), ('anonymous', 'Anonymous visitor'), ('system', 'System'), ('scim', 'SCIM provisioning')], default='system', max_length=20),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(default='', editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(default='', editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('sign_in', 'Sign-in'), ('sign_out', 'Sign-out'), ('permissions_synced', 'Permissions synced from Entra ID'), ('permission_changed', 'Permission changed'), ('locked_edit_refused', 'Edit of an Entra-managed permission refused'), ('user_created', 'User created'), ('user_changed', 'User changed'), ('user_disabled', 'User disabled'), ('user_enabled', 'User enabled'), ('role_mapping_changed', 'Role mapping changed'), ('settings_seen', 'SSO settings seen at start-up'), ('scim_change', 'SCIM provisioning change'), ('audit_pruned', 'Audit events pruned')], max_length=40),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor_user_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor_object_id',
            field=models.CharField(blank=True, max_length=36),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['created_at', 'id'], name='audit_time_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor_username', 'created_at'], name='audit_username_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor_user_id', 'created_at'], name='audit_user_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor_object_id', 'created_at'], name='audit_object_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action', 'created_at'], name='audit_action_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['subject', 'created_at'], name='audit_subject_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['source_ip', 'created_at'], name='audit_source_ip_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['request_id'], name='audit_request_id_idx'),
        ),
    ]
