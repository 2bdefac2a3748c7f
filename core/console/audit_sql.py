"""PostgreSQL protection of the audit table: a trigger refuses UPDATE and DELETE; retention and
erasure go through dedicated functions that switch the guard off for their own transaction only."""

FORWARD = """
CREATE OR REPLACE FUNCTION core_auditlog_guard() RETURNS trigger AS $$
BEGIN
  IF current_setting('core.audit_maintenance', true) = 'on' THEN
    RETURN COALESCE(NEW, OLD);
  END IF;
  RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS core_auditlog_immutable ON core_auditlog;
CREATE TRIGGER core_auditlog_immutable BEFORE UPDATE OR DELETE ON core_auditlog
  FOR EACH ROW EXECUTE FUNCTION core_auditlog_guard();
-- TRUNCATE is not guarded: Django's test runner flushes with it, and it needs the table owner's
-- privileges, which the application's production role should not hold (see README).

CREATE OR REPLACE FUNCTION core_audit_purge(older_than timestamptz) RETURNS integer AS $$
DECLARE n integer;
BEGIN
  PERFORM set_config('core.audit_maintenance', 'on', true);
  DELETE FROM core_auditlog WHERE created_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('core.audit_maintenance', 'off', true);
  RETURN n;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION core_audit_redact(uid uuid, email text) RETURNS integer AS $$
DECLARE n integer;
BEGIN
  PERFORM set_config('core.audit_maintenance', 'on', true);
  UPDATE core_auditlog SET actor_email = '', ip = NULL, user_agent = '', details = '{}'::jsonb
   WHERE actor_id = uid OR target_id = uid::text OR details->>'email' = email;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('core.audit_maintenance', 'off', true);
  RETURN n;
END;
$$ LANGUAGE plpgsql;
"""

REVERSE = """
DROP TRIGGER IF EXISTS core_auditlog_immutable ON core_auditlog;
DROP FUNCTION IF EXISTS core_auditlog_guard();
DROP FUNCTION IF EXISTS core_audit_purge(timestamptz);
DROP FUNCTION IF EXISTS core_audit_redact(uuid, text);
"""


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)
