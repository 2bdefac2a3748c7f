"""core.db's hand-written inserts write the same row save() would, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from core.db import insert_row, insert_unless_conflict
from core.models import AuditLog, EffectKey

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
