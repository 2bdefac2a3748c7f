"""PostgreSQL only: exclusion constraints against double booking, and the full-text GIN index.

An ExclusionConstraint in Meta breaks `migrate` on SQLite, so these run only when the connection is
PostgreSQL; SQLite relies on the serialised check in services (BEGIN IMMEDIATE transactions).
"""

from django.db import migrations

ACTIVE = "('pending', 'confirmed')"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE marketplace_booking ADD CONSTRAINT mkt_booking_tutor_no_overlap
        EXCLUDE USING gist (tutor_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&)
        WHERE (status IN {ACTIVE})""",
    f"""ALTER TABLE marketplace_booking ADD CONSTRAINT mkt_booking_student_no_overlap
        EXCLUDE USING gist (student_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (status IN {ACTIVE})""",
    """CREATE INDEX IF NOT EXISTS mkt_tutor_search_gin ON marketplace_tutorprofile
        USING gin (to_tsvector('english'::regconfig, COALESCE(search_document, '')))""",
]

BACKWARD = [
    "DROP INDEX IF EXISTS mkt_tutor_search_gin",
    "ALTER TABLE marketplace_booking DROP CONSTRAINT IF EXISTS mkt_booking_student_no_overlap",
    "ALTER TABLE marketplace_booking DROP CONSTRAINT IF EXISTS mkt_booking_tutor_no_overlap",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
