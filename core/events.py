"""In-process domain events, delivered after the surrounding transaction commits.

Events are frozen dataclasses with a class attribute ``event_type`` such as
``"marketplace.booking_confirmed.v1"`` and only ids and primitives as fields. ``publish`` hands them to
subscribers on commit, so a rolled-back change never has effects. ``publish(event, durable=True)`` also
writes an outbox row in the same transaction; ``drain_outbox`` (a scheduled task) redelivers rows whose
in-process delivery did not finish, so a crash after commit loses nothing. Handlers must be idempotent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Protocol, TypeVar

from django.db import connection, transaction
from django.utils import timezone

from core.db import db_uuid, insert_row

logger = logging.getLogger(__name__)


class Event(Protocol):
    event_type: ClassVar[str]


E = TypeVar("E")
Handler = Callable[[Any], None]

_subscribers: dict[str, list[Handler]] = defaultdict(list)
_event_classes: dict[str, type] = {}
_capture = threading.local()


def event(event_type: str) -> Callable[[type[E]], type[E]]:
    """Class decorator: ``@event("tracker.plan_missed.v1")`` on a dataclass."""

    def wrap(cls: type[E]) -> type[E]:
        cls = dataclasses.dataclass(frozen=True)(cls)
        cls.event_type = event_type  # type: ignore[attr-defined]
        _event_classes[event_type] = cls
        return cls

    return wrap


def subscribe(event_cls: type | str, handler: Handler) -> None:
    key = event_cls if isinstance(event_cls, str) else event_cls.event_type  # type: ignore[attr-defined]
    if handler not in _subscribers[key]:
        _subscribers[key].append(handler)


def unsubscribe(event_cls: type | str, handler: Handler) -> None:
    key = event_cls if isinstance(event_cls, str) else event_cls.event_type  # type: ignore[attr-defined]
    if handler in _subscribers[key]:
        _subscribers[key].remove(handler)


def _to_json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


def event_payload(evt: Any) -> dict[str, Any]:
    return {f.name: _to_json(getattr(evt, f.name)) for f in dataclasses.fields(evt)}


def _deliver(evt: Any, *, isolate: bool = False) -> list[str]:
    """Run every subscriber; a failing handler is logged and does not stop the others.

    ``isolate`` (the outbox drain, which delivers inside the transaction holding its row): each
    handler gets a savepoint, since on PostgreSQL a failed statement aborts the whole transaction and
    would fail every handler after it and the drain's own bookkeeping. After commit (the request
    path, autocommit) a handler's writes are its own and need none."""
    errors: list[str] = []
    for handler in list(_subscribers.get(evt.event_type, [])):
        try:
            if isolate:
                with transaction.atomic():
                    handler(evt)
            else:
                handler(evt)
        except Exception as exc:
            logger.exception("event handler %s failed for %s", getattr(handler, "__qualname__", handler), evt.event_type)
            errors.append(f"{getattr(handler, '__qualname__', handler)}: {exc!r}")
    return errors


def publish(evt: Any, *, durable: bool = False) -> None:
    """Deliver ``evt`` to its subscribers once the current transaction commits."""
    captured = getattr(_capture, "events", None)
    if captured is not None:
        captured.append(evt)
    outbox_id = None
    if durable:
        from core.models import OutboxEvent

        row = OutboxEvent(event_type=evt.event_type, payload=event_payload(evt))
        insert_row(row)
        outbox_id = row.id

    def on_commit() -> None:
        errors = _deliver(evt)
        if outbox_id is not None:
            _mark_attempted(outbox_id, errors)

    transaction.on_commit(on_commit)


def _mark_attempted(outbox_id: uuid.UUID, errors: list[str]) -> None:
    """Record the in-process delivery on the outbox row: delivered, or the errors for drain_outbox. One
    hand-written UPDATE: it follows every durable event of every request."""
    from core.models import OutboxEvent

    if errors:
        column, value = "last_error", "\n".join(errors)[:4000]
    else:
        column, value = "delivered_at", connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OutboxEvent._meta.db_table} SET attempts = 1, {column} = %s WHERE id = %s", [value, db_uuid(outbox_id)]
        )


def drain_outbox(older_than_seconds: int = 30, batch: int = 200) -> int:
    """Redeliver durable events not marked delivered (their process died, or a handler failed)."""
    from core.models import OutboxEvent

    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    delivered = 0
    ids = list(
        OutboxEvent.objects.filter(delivered_at__isnull=True, created_at__lt=cutoff, attempts__lt=10)
        .order_by("created_at")
        .values_list("id", flat=True)[:batch]
    )
    for outbox_id in ids:
        with transaction.atomic():
            row = OutboxEvent.objects.select_for_update(skip_locked=True).filter(id=outbox_id, delivered_at__isnull=True).first()
            if row is None:
                continue
            cls = _event_classes.get(row.event_type)
            if cls is None:  # the publishing module is switched off: nothing listens any more
                row.delivered_at = timezone.now()
                row.last_error = "no event class registered"
                row.save(update_fields=["delivered_at", "last_error"])
                continue
            evt = _from_payload(cls, row.payload)
            errors = _deliver(evt, isolate=True)
            row.attempts += 1
            if errors:
                row.last_error = "\n".join(errors)[:4000]
            else:
                row.delivered_at = timezone.now()
                delivered += 1
            row.save(update_fields=["attempts", "last_error", "delivered_at"])
    return delivered


def _concrete(hint: Any) -> Any:
    """``uuid.UUID | None`` (or Optional[...]) -> ``uuid.UUID``; other hints unchanged."""
    import types
    import typing

    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _from_payload(cls: type, payload: dict[str, Any]) -> Any:
    import typing

    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        raw = payload.get(f.name)
        hint = _concrete(hints.get(f.name))
        if raw is not None and hint is uuid.UUID:
            raw = uuid.UUID(raw)
        elif raw is not None and hint is dt.datetime:
            raw = dt.datetime.fromisoformat(raw)
        elif raw is not None and hint is dt.date:
            raw = dt.date.fromisoformat(raw)
        values[f.name] = raw
    return cls(**values)


@contextlib.contextmanager
def capture_events() -> Iterator[list[Any]]:
    """Test helper: collects every event published (committed or not) inside the block."""
    previous = getattr(_capture, "events", None)
    _capture.events = []
    try:
        yield _capture.events
    finally:
        _capture.events = previous
