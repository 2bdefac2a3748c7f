"""Events run after commit, never after rollback; a failing handler never breaks the publisher."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from core.events import capture_events, drain_outbox, event, publish, subscribe, unsubscribe
from core.models import OutboxEvent


@event("tests.thing_happened.v1")
class ThingHappened:
    thing_id: uuid.UUID
    at: dt.datetime
    other_id: uuid.UUID | None = None
    on: dt.date | None = None


@pytest.fixture
def received():
    seen: list = []

    def handler(evt):
        seen.append(evt)

    subscribe(ThingHappened, handler)
    yield seen
    unsubscribe(ThingHappened, handler)


@pytest.mark.django_db(transaction=True)
def test_handler_runs_after_commit_not_before(received):
    evt = ThingHappened(thing_id=uuid.uuid4(), at=timezone.now())
    with transaction.atomic():
        publish(evt)
        assert received == []  # still inside the transaction
    assert received == [evt]


@pytest.mark.django_db(transaction=True)
def test_handler_never_runs_after_rollback(received):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(ThingHappened(thing_id=uuid.uuid4(), at=timezone.now()))
        raise RuntimeError("boom")
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_failing_handler_is_logged_and_others_still_run(received, caplog):
    def broken(evt):
        raise ValueError("handler bug")

    subscribe(ThingHappened, broken)
    try:
        with transaction.atomic():
            publish(ThingHappened(thing_id=uuid.uuid4(), at=timezone.now()))
    finally:
        unsubscribe(ThingHappened, broken)
    assert len(received) == 1
    assert "handler" in caplog.text and "failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_durable_event_is_redelivered_until_handlers_succeed(received):
    attempts = {"n": 0}

    def flaky(evt):
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise ConnectionError("smtp down")

    subscribe(ThingHappened, flaky)
    try:
        with transaction.atomic():
            publish(
                ThingHappened(thing_id=uuid.uuid4(), at=timezone.now(), other_id=uuid.uuid4(), on=dt.date(2026, 3, 8)),
                durable=True,
            )
        row = OutboxEvent.objects.get()
        assert row.delivered_at is None and "smtp down" in row.last_error
        OutboxEvent.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
        assert drain_outbox() == 1
        row.refresh_from_db()
        assert row.delivered_at is not None
        redelivered = received[-1]
        assert isinstance(redelivered.thing_id, uuid.UUID) and isinstance(redelivered.at, dt.datetime)
        assert isinstance(redelivered.other_id, uuid.UUID) and redelivered.on == dt.date(2026, 3, 8)  # optional fields too
        assert drain_outbox() == 0  # delivered rows are not delivered again
    finally:
        unsubscribe(ThingHappened, flaky)


@pytest.mark.django_db(transaction=True)
def test_durable_event_rolled_back_leaves_no_outbox_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(ThingHappened(thing_id=uuid.uuid4(), at=timezone.now()), durable=True)
        raise RuntimeError
    assert OutboxEvent.objects.count() == 0


def test_capture_events_collects_published_events():
    with capture_events() as captured, transaction.atomic():
        publish(ThingHappened(thing_id=uuid.uuid4(), at=timezone.now()))
    assert [type(e) for e in captured] == [ThingHappened]


test_capture_events_collects_published_events = pytest.mark.django_db(test_capture_events_collects_published_events)


@pytest.mark.django_db(transaction=True)
def test_a_handler_failing_in_the_database_during_the_drain_spoils_neither_the_others_nor_the_batch():
    """The drain delivers inside a transaction (it holds the outbox row). A handler whose statement
    fails there (on PostgreSQL that aborts the transaction) must spoil neither the handlers after it,
    nor the row's bookkeeping, nor the rows after it in the batch."""
    from django.db import connection

    failing = {"on": True}
    after: list = []

    def bad_sql(evt):
        if failing["on"]:
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")

    def records(evt):
        OutboxEvent.objects.count()  # a statement of its own, after the failed one
        after.append(evt)

    subscribe(ThingHappened, bad_sql)
    subscribe(ThingHappened, records)
    try:
        for _ in range(2):
            publish(ThingHappened(thing_id=uuid.uuid4(), at=timezone.now()), durable=True)
        OutboxEvent.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
        after.clear()
        assert drain_outbox() == 0  # both fail again in the drain...
        assert len(after) == 2  # ...the handler after the failing one still ran for each...
        rows = list(OutboxEvent.objects.all())
        assert len(rows) == 2 and all(r.attempts == 2 and "no_such_table" in r.last_error for r in rows)  # ...and it counted
        failing["on"] = False
        assert drain_outbox() == 2  # recovered: both delivered on the next drain
        assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == 0
    finally:
        unsubscribe(ThingHappened, bad_sql)
        unsubscribe(ThingHappened, records)
