"""core.db's hand-written inserts write the same row save() would, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from core.db import batched_writes, db_uuid, from_db_row, insert_row, insert_unless_conflict, update_row
from core.models import AuditLog, EffectKey, User

pytestmark = pytest.mark.django_db


def test_insert_row_writes_what_create_would_and_sets_the_auto_key(make_user):
    actor = make_user("admin")
    heard: list[object] = []

    def listener(sender, instance, **kwargs):
        heard.append(instance)

    post_save.connect(listener, sender=AuditLog)
    try:
        before = timezone.now()
        row = AuditLog(actor=actor, action="thing.done", details={"n": 1, "names": ["a", "é"]})
        insert_row(row)
    finally:
        post_save.disconnect(listener, sender=AuditLog)
    assert row.pk is not None and not row._state.adding
    stored = AuditLog.objects.get(pk=row.pk)
    assert (stored.actor_id, stored.action, stored.details) == (actor.pk, "thing.done", {"n": 1, "names": ["a", "é"]})
    assert stored.created_at >= before and stored.ip is None and stored.target_type == ""  # defaults as save() applies them
    assert heard == []  # no signal: only for models nothing listens to
    second = AuditLog(action="thing.again")
    insert_row(second)
    assert second.pk != row.pk and AuditLog.objects.count() == 2


def test_insert_unless_conflict_keeps_the_first_row():
    assert insert_unless_conflict(EffectKey(key="mail:1")) is True
    first = EffectKey.objects.get(key="mail:1").created_at
    assert insert_unless_conflict(EffectKey(key="mail:1", created_at=timezone.now())) is False
    assert EffectKey.objects.get(key="mail:1").created_at == first and EffectKey.objects.count() == 1


def test_from_db_row_converts_a_hand_read_row_as_the_orm_does(make_user):
    actor = make_user("admin")
    row = AuditLog(actor=actor, action="thing.done", ip="192.0.2.1", details={"n": 1, "ok": True})
    insert_row(row)
    columns = ", ".join(f'"{f.column}"' for f in AuditLog._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {AuditLog._meta.db_table} WHERE id = %s", [row.pk])
        built = from_db_row(AuditLog, cursor.fetchone())
    stored = AuditLog.objects.get(pk=row.pk)
    for field in AuditLog._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(stored, field.attname), field.name
    assert built.details == {"n": 1, "ok": True} and built.created_at.tzinfo is not None
    assert not built._state.adding and built.actor_id == actor.pk  # a loaded row: save() would UPDATE it

    user_columns = ", ".join(f'"{f.column}"' for f in User._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {user_columns} FROM {User._meta.db_table} WHERE id = %s", [db_uuid(actor.pk)])
        user = from_db_row(User, cursor.fetchone())
    assert (user.pk, user.email, user.role, user.is_active, user.created_at) == (
        actor.pk,
        actor.email,
        actor.role,
        True,
        User.objects.get(pk=actor.pk).created_at,
    )


def test_batched_writes_write_every_row_in_one_statement_on_postgresql(make_user, django_assert_num_queries):
    actor = make_user("admin")
    rows = [AuditLog(actor=actor, action=f"thing.{i}", details={"i": i}) for i in range(3)]
    key = EffectKey(key="mail:batched")
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 4), batched_writes():
        for row in rows:
            insert_row(row)
        insert_row(key)
    assert len({row.pk for row in rows}) == 3 and all(not row._state.adding for row in rows)  # auto keys set
    stored = {a.pk: (a.action, a.details) for a in AuditLog.objects.all()}
    assert stored == {row.pk: (f"thing.{i}", {"i": i}) for i, row in enumerate(rows)}
    assert EffectKey.objects.filter(key="mail:batched").exists()


def test_batched_writes_write_nothing_when_the_block_fails(make_user):
    actor = make_user("admin")
    with pytest.raises(ValueError), transaction.atomic(), batched_writes():
        insert_row(AuditLog(actor=actor, action="never"))
        raise ValueError("the caller gave up")
    assert not AuditLog.objects.filter(action="never").exists()


def test_a_refused_batch_writes_none_of_its_rows(make_user):
    """One statement: a row refused (here a duplicate key) takes the others with it."""
    insert_row(EffectKey(key="mail:taken"))
    with pytest.raises(IntegrityError), transaction.atomic(), batched_writes():
        insert_row(AuditLog(action="with.the.duplicate"))
        insert_row(EffectKey(key="mail:taken"))
    assert not AuditLog.objects.filter(action="with.the.duplicate").exists()


def test_an_update_rides_in_the_same_statement(make_user, django_assert_num_queries):
    user = make_user("student")
    user.first_name = "Renamed"
    postgres = connection.vendor == "postgresql"
    with django_assert_num_queries(1 if postgres else 2), batched_writes():
        changed = update_row(user, ["first_name"])
        insert_row(EffectKey(key="mail:after-update"))
    assert changed == (None if postgres else 1)  # inside a batch the count is not known yet
    assert User.objects.get(pk=user.pk).first_name == "Renamed"
    assert EffectKey.objects.filter(key="mail:after-update").exists()
    gone = User.objects.get(pk=user.pk)
    User.objects.filter(pk=user.pk).delete()
    with batched_writes():  # an UPDATE alone that matches no row is not an error
        update_row(gone, ["first_name"])
    assert not User.objects.filter(pk=gone.pk).exists()
