"""Seal existing events into the hash chain; on PostgreSQL, guard the table with a trigger.

The trigger refuses UPDATE, DELETE and TRUNCATE on audit_auditevent. Two controlled ways
through, both transaction- or command-scoped settings: ``keyfax.audit_prune = 'on'`` lets
``prune_audit`` DELETE, ``keyfax.audit_flush = 'on'`` lets ``manage.py flush`` TRUNCATE.
``keyfax_audit_chain_head()`` serialises chain appends (see audit.chain.lock_chain_head).
"""

from django.db import migrations

from audit import chain

CHAIN_LOCK_KEY = 7021864201  # pg_advisory_xact_lock key of the audit chain

FORWARD_SQL = f"""
CREATE OR REPLACE FUNCTION keyfax_audit_chain_head() RETURNS varchar
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head varchar;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit events are appended under READ COMMITTED, not %',
            current_setting('transaction_isolation');
    END IF;
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    -- A VOLATILE function's statements take a fresh snapshot: this sees the last commit.
    SELECT hash INTO head FROM audit_auditevent ORDER BY id DESC LIMIT 1;
    RETURN head;
END
$$;

CREATE OR REPLACE FUNCTION keyfax_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('keyfax.audit_prune', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_setting('keyfax.audit_flush', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION keyfax_audit_append_only();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS keyfax_audit_append_only();
DROP FUNCTION IF EXISTS keyfax_audit_chain_head();
"""


def seal_existing_events(apps, schema_editor):
    """Chain the events written before the chain existed, oldest first."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    previous = chain.GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=1000):
        known = event.actor_user_id is not None or event.actor_object_id
        kind = "user" if known else ("anonymous" if event.request_id else "system")
        values = {name: getattr(event, name) for name in chain.HASHED_FIELDS}
        values.update(actor_kind=kind, prev_hash=previous)
        previous = chain.seal(values)
        AuditEvent.objects.filter(pk=event.pk).update(
            actor_kind=kind, prev_hash=values["prev_hash"], hash=previous
        )


def guard_table(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD_SQL, params=None)


def unguard_table(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_actor_kind_chain_indexes'),
    ]

    operations = [
        migrations.RunPython(seal_existing_events, migrations.RunPython.noop),
        migrations.RunPython(guard_table, unguard_table),
    ]
