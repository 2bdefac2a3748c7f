"""Turn other modules' events into notifications. Subscribed by event TYPE STRING: this module never
imports the modules that publish them, and a handler whose publisher is switched off never runs.

Fields are read defensively (getattr); an event lacking what a handler needs is skipped and logged.

These are defaults. A publishing module that tells its own users about an event registers a template
named after the event (``marketplace.booking_confirmed`` for ``marketplace.booking_confirmed.v1``) and
calls notify itself; then the handler here stays silent for that event, so nobody hears it twice.
Session-reminder and unread-message bookkeeping happen regardless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import timezone

from core.db import insert_unless_conflict
from core.events import event_payload, subscribe
from core.models import User
from core.notify import all_templates, notify
from modules.notifications.models import PendingMessageNotice, SessionReminder
from modules.notifications.services import user_zone

logger = logging.getLogger(__name__)


def _users(*ids: Any) -> dict[Any, User]:
    wanted = [i for i in ids if i]
    return {u.pk: u for u in User.objects.filter(pk__in=wanted)} if wanted else {}


def _as_uuid(value: Any) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


_VERSION = re.compile(r"\.v\d+$")


def owner_notifies(evt: Any) -> bool:
    """Did the publishing module register its own template for this event (and so notify itself)?"""
    return _VERSION.sub("", str(getattr(evt, "event_type", ""))) in all_templates()


def _key(evt: Any, user_id: Any) -> str:
    """The same event (redelivered) gives the same key: a handler's effect happens once."""
    try:
        payload = event_payload(evt)
    except TypeError:
        payload = {"repr": repr(evt)}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"{evt.event_type}:{user_id}:{digest}"


def format_money(amount_minor: Any, currency: Any) -> str:
    from core.identity.validators import CURRENCIES

    code = str(currency or "").upper()
    digits = CURRENCIES[code][1] if code in CURRENCIES else 2
    value = int(amount_minor or 0) / (10**digits)
    return f"{value:,.{digits}f} {code}".strip()


def booking_context(
    user: User, other: User | None, *, booking_id: Any, starts_at: dt.datetime | None, **extra: Any
) -> dict[str, Any]:
    local = starts_at.astimezone(user_zone(user)) if starts_at else None
    return {
        "other_name": other.full_name if other else "your contact",
        "starts_at_local": local.strftime("%A %d %B %Y, %H:%M") + f" ({user.timezone})" if local else "",
        **extra,
        "data": {
            "booking_id": str(booking_id) if booking_id else None,
            "starts_at": starts_at.isoformat() if starts_at else None,
            **{k: v for k, v in extra.items() if isinstance(v, str | int | float | bool) or v is None},
        },
    }


# --- bookings ---------------------------------------------------------------------------------------


def _booking_parts(evt: Any) -> tuple[Any, User | None, User | None, dt.datetime | None] | None:
    booking_id = getattr(evt, "booking_id", None)
    student_id, tutor_id = getattr(evt, "student_id", None), getattr(evt, "tutor_user_id", None)
    if not booking_id or not (student_id or tutor_id):
        logger.warning("%s lacks booking_id/student_id/tutor_user_id; skipped", getattr(evt, "event_type", evt))
        return None
    users = _users(student_id, tutor_id)
    return (
        booking_id,
        users.get(_as_uuid(student_id)),
        users.get(_as_uuid(tutor_id)),
        _as_datetime(getattr(evt, "starts_at", None)),
    )


def _notify_parties(evt: Any, template: str, *, to_student: bool = True, to_tutor: bool = True, **extra: Any) -> None:
    if owner_notifies(evt):
        return
    parts = _booking_parts(evt)
    if parts is None:
        return
    booking_id, student, tutor, starts_at = parts
    targets = ([(student, tutor)] if to_student else []) + ([(tutor, student)] if to_tutor else [])
    for user, other in targets:
        if user is not None:
            notify(
                user,
                "bookings",
                template,
                booking_context(user, other, booking_id=booking_id, starts_at=starts_at, **extra),
                key=_key(evt, user.pk),
            )


def on_booking_requested(evt: Any) -> None:
    _notify_parties(evt, "notifications.booking_requested", to_student=False)


def on_booking_confirmed(evt: Any) -> None:
    _notify_parties(evt, "notifications.booking_confirmed")
    _remember_session(evt)


def on_booking_cancelled(evt: Any) -> None:
    _notify_parties(evt, "notifications.booking_cancelled", reason=str(getattr(evt, "reason", "") or ""))
    if getattr(evt, "booking_id", None):
        SessionReminder.objects.filter(booking_id=_as_uuid(evt.booking_id)).delete()


def on_booking_rescheduled(evt: Any) -> None:
    _notify_parties(evt, "notifications.booking_rescheduled")
    _remember_session(evt)


def _remember_session(evt: Any) -> None:
    """Upsert the session's reminder row from the event's ids (no user rows needed): a new booking
    inserts it; a moved one resets its reminders; a redelivered event changes nothing."""
    booking_id, starts_at = _as_uuid(getattr(evt, "booking_id", None)), _as_datetime(getattr(evt, "starts_at", None))
    student_id, tutor_id = _as_uuid(getattr(evt, "student_id", None)), _as_uuid(getattr(evt, "tutor_user_id", None))
    if booking_id is None or starts_at is None or not (student_id or tutor_id):
        return
    # One statement (PostgreSQL and SQLite 3.24+ both speak it) where update-then-insert made two on
    # every confirmation. The parties exist: a booking's accounts cannot be deleted under it.
    fields = {f.attname: f for f in SessionReminder._meta.concrete_fields}
    values = {"booking_id": booking_id, "student_id": student_id, "tutor_id": tutor_id, "starts_at": starts_at}
    table = SessionReminder._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (booking_id, student_id, tutor_id, starts_at, reminded_24h_at, reminded_1h_at)
                VALUES (%s, %s, %s, %s, NULL, NULL)
                ON CONFLICT (booking_id) DO UPDATE SET student_id = excluded.student_id, tutor_id = excluded.tutor_id,
                    starts_at = excluded.starts_at, reminded_24h_at = NULL, reminded_1h_at = NULL
                WHERE {table}.starts_at <> excluded.starts_at""",
            [fields[name].get_db_prep_value(value, connection) for name, value in values.items()],
        )


# --- tutors, reviews, money -------------------------------------------------------------------------


def _single(evt: Any, field: str, category: str, template: str, **context: Any) -> None:
    if owner_notifies(evt):
        return
    user = _users(getattr(evt, field, None)).get(_as_uuid(getattr(evt, field, None)))
    if user is None:
        logger.warning("%s: no user in %s; skipped", getattr(evt, "event_type", evt), field)
        return
    notify(user, category, template, context, key=_key(evt, user.pk))


def on_tutor_approved(evt: Any) -> None:
    _single(evt, "tutor_user_id", "system", "notifications.tutor_approved", data={})


def on_tutor_rejected(evt: Any) -> None:
    reason = str(getattr(evt, "reason", "") or "")
    _single(evt, "tutor_user_id", "system", "notifications.tutor_rejected", reason=reason, data={"reason": reason})


def on_review_created(evt: Any) -> None:
    rating = getattr(evt, "rating", None)
    review_id = getattr(evt, "review_id", None)
    _single(
        evt,
        "tutor_user_id",
        "reviews",
        "notifications.review_received",
        rating=rating,
        data={"review_id": str(review_id) if review_id else None, "rating": rating},
    )


def on_payment_succeeded(evt: Any) -> None:
    amount = format_money(getattr(evt, "amount_minor", 0), getattr(evt, "currency", ""))
    _single(
        evt,
        "user_id",
        "payments",
        "notifications.payment_received",
        amount=amount,
        data={"amount_minor": getattr(evt, "amount_minor", None), "currency": getattr(evt, "currency", None)},
    )


def on_withdrawal_processed(evt: Any) -> None:
    amount = format_money(getattr(evt, "amount_minor", 0), getattr(evt, "currency", ""))
    status = str(getattr(evt, "status", "") or "processed")
    _single(
        evt,
        "tutor_user_id",
        "payments",
        "notifications.withdrawal_processed",
        amount=amount,
        status=status,
        data={"amount_minor": getattr(evt, "amount_minor", None), "currency": getattr(evt, "currency", None), "status": status},
    )


# --- messages: notify only when still unread after a delay (tasks.scan_unread_messages) -------------


def on_message_sent(evt: Any) -> None:
    message_id, recipient_id = _as_uuid(getattr(evt, "message_id", None)), _as_uuid(getattr(evt, "recipient_id", None))
    if message_id is None or recipient_id is None:
        return
    # One INSERT that a redelivered event turns into nothing. Both accounts exist: the message that was
    # just committed references them.
    insert_unless_conflict(
        PendingMessageNotice(
            message_id=message_id,
            recipient_id=recipient_id,
            sender_id=_as_uuid(getattr(evt, "sender_id", None)),
            thread_id=_as_uuid(getattr(evt, "thread_id", None)),
            sent_at=_as_datetime(getattr(evt, "created_at", None)) or timezone.now(),
        )
    )


def on_messages_read(evt: Any) -> None:
    ids = [i for i in (_as_uuid(x) for x in getattr(evt, "message_ids", ()) or ()) if i]
    if ids:
        PendingMessageNotice.objects.filter(message_id__in=ids, cancelled_at__isnull=True).update(cancelled_at=timezone.now())


def on_message_deleted(evt: Any) -> None:
    mid = _as_uuid(getattr(evt, "message_id", None))
    if mid:
        PendingMessageNotice.objects.filter(message_id=mid, cancelled_at__isnull=True).update(cancelled_at=timezone.now())


HANDLERS: dict[str, Callable[[Any], None]] = {
    "marketplace.booking_requested.v1": on_booking_requested,
    "marketplace.booking_confirmed.v1": on_booking_confirmed,
    "marketplace.booking_cancelled.v1": on_booking_cancelled,
    "marketplace.booking_rescheduled.v1": on_booking_rescheduled,
    "marketplace.tutor_approved.v1": on_tutor_approved,
    "marketplace.tutor_rejected.v1": on_tutor_rejected,
    "marketplace.review_created.v1": on_review_created,
    "payments.payment_succeeded.v1": on_payment_succeeded,
    "payments.withdrawal_processed.v1": on_withdrawal_processed,
    "messaging.message_sent.v1": on_message_sent,
    "messaging.messages_read.v1": on_messages_read,
    "messaging.message_deleted.v1": on_message_deleted,
}


def subscribe_all() -> None:
    for event_type, handler in HANDLERS.items():
        subscribe(event_type, handler)
