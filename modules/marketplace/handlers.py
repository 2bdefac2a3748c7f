"""This module's own reactions to its events: tell the people involved (notify port + real-time push).

Handlers run after commit and are idempotent (each notification carries an effect key).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models.signals import post_delete, post_save

from core.events import event_payload, subscribe
from core.models import User
from core.notify import notify, register_template
from core.realtime.push import push_to_user_queued
from modules.marketplace import events as ev

TEMPLATES: dict[str, tuple[str, str, str]] = {
    # name: (category, subject, text)
    "marketplace.booking_requested": (
        "bookings",
        "New booking request",
        "You have a new booking request for {{ starts_at_local }}. Please confirm or decline it.",
    ),
    "marketplace.booking_confirmed": (
        "bookings",
        "Your booking is confirmed",
        "Your session on {{ starts_at_local }} is confirmed.{% if meeting_url %} Join: {{ meeting_url }}{% endif %}",
    ),
    "marketplace.booking_declined": (
        "bookings",
        "Your booking request was declined",
        "The tutor declined your request for {{ starts_at_local }}.{% if reason %} Reason: {{ reason }}{% endif %}",
    ),
    "marketplace.booking_expired": (
        "bookings",
        "A booking request expired",
        "The request for {{ starts_at_local }} was not confirmed in time and has expired.",
    ),
    "marketplace.booking_cancelled": (
        "bookings",
        "A booking was cancelled",
        "The session on {{ starts_at_local }} was cancelled.{% if reason %} Reason: {{ reason }}{% endif %}",
    ),
    "marketplace.booking_reschedule_proposed": (
        "bookings",
        "A new time is proposed for your session",
        "A new time is proposed: {{ proposed_starts_at_local }} instead of {{ starts_at_local }}.",
    ),
    "marketplace.booking_rescheduled": (
        "bookings",
        "Your session was moved",
        "Your session now starts at {{ starts_at_local }}.",
    ),
    "marketplace.booking_completed": (
        "bookings",
        "How was your session?",
        "Your session on {{ starts_at_local }} is complete. You can now leave a review.",
    ),
    "marketplace.tutor_approved": (
        "system",
        "Your tutor profile is approved",
        "Congratulations: your profile is approved and visible to students.",
    ),
    "marketplace.tutor_rejected": (
        "system",
        "Your tutor profile needs changes",
        "Your profile was not approved. Reason: {{ reason }}. Update it and submit it again.",
    ),
    "marketplace.review_created": ("reviews", "You have a new review", "A student rated a session {{ rating }}/5."),
}


def _user(user_id: uuid.UUID | None) -> User | None:
    if user_id is None:
        return None
    from core.api.auth import cached_user

    return cached_user(user_id)  # read-only here: the auth cache's row (dropped on every save)


def _tell(user_id: uuid.UUID | None, template: str, evt: Any, key: str) -> None:
    user = _user(user_id)
    if user is None:
        return
    context = event_payload(evt)
    # Times in the reader's own zone, e.g. "Mon 14 Mar 2027, 09:00 (America/New_York)".
    for name in ("starts_at", "proposed_starts_at"):
        value = getattr(evt, name, None)
        if isinstance(value, dt.datetime):
            context[f"{name}_local"] = _local(value, user.timezone)
    notify(user, TEMPLATES[template][0], template, context, key=f"{key}:{user.id}")


def _local(value: dt.datetime, tz_name: str) -> str:
    try:
        zone = ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone, tz_name = ZoneInfo("UTC"), "UTC"
    return f"{value.astimezone(zone):%a %d %b %Y, %H:%M} ({tz_name or 'UTC'})"


def _push_parties(evt: Any) -> None:
    payload = event_payload(evt)
    for user_id in {getattr(evt, "student_id", None), getattr(evt, "tutor_user_id", None)} - {None}:
        push_to_user_queued(user_id, evt.event_type, payload)


def on_booking_event(evt: Any) -> None:
    _push_parties(evt)
    key = f"mkt:{evt.event_type}:{evt.booking_id}"
    if isinstance(evt, ev.BookingRequested):
        _tell(evt.tutor_user_id, "marketplace.booking_requested", evt, key)
    elif isinstance(evt, ev.BookingConfirmed):
        _tell(evt.student_id, "marketplace.booking_confirmed", evt, key)
    elif isinstance(evt, ev.BookingDeclined):
        _tell(evt.student_id, "marketplace.booking_declined", evt, key)
    elif isinstance(evt, ev.BookingExpired):
        _tell(evt.student_id, "marketplace.booking_expired", evt, key)
    elif isinstance(evt, ev.BookingCancelled):
        other = evt.tutor_user_id if evt.cancelled_by_id == evt.student_id else evt.student_id
        _tell(other, "marketplace.booking_cancelled", evt, key)
        if evt.cancelled_by_id not in (evt.student_id, evt.tutor_user_id):  # an admin cancelled: tell both
            _tell(evt.tutor_user_id, "marketplace.booking_cancelled", evt, key)
    elif isinstance(evt, ev.BookingRescheduleProposed):
        other = evt.tutor_user_id if evt.proposed_by_id == evt.student_id else evt.student_id
        _tell(other, "marketplace.booking_reschedule_proposed", evt, f"{key}:{evt.proposed_starts_at.isoformat()}")
    elif isinstance(evt, ev.BookingRescheduled):
        for uid in (evt.student_id, evt.tutor_user_id):
            _tell(uid, "marketplace.booking_rescheduled", evt, f"{key}:{evt.starts_at.isoformat()}")
    elif isinstance(evt, ev.BookingCompleted):
        _tell(evt.student_id, "marketplace.booking_completed", evt, key)


def on_tutor_reviewed(evt: Any) -> None:
    template = "marketplace.tutor_approved" if isinstance(evt, ev.TutorApproved) else "marketplace.tutor_rejected"
    _tell(evt.tutor_user_id, template, evt, f"mkt:{evt.event_type}:{evt.tutor_id}:{evt.admin_id}")
    push_to_user_queued(evt.tutor_user_id, evt.event_type, event_payload(evt))


def on_review_created(evt: ev.ReviewCreated) -> None:
    _tell(evt.tutor_user_id, "marketplace.review_created", evt, f"mkt:{evt.event_type}:{evt.review_id}")


BOOKING_EVENTS = (
    ev.BookingRequested,
    ev.BookingConfirmed,
    ev.BookingDeclined,
    ev.BookingExpired,
    ev.BookingCancelled,
    ev.BookingCompleted,
    ev.BookingNoShow,
    ev.BookingRescheduleProposed,
    ev.BookingRescheduled,
    ev.BookingRescheduleDeclined,
)


def connect() -> None:
    for name, (category, subject, text) in TEMPLATES.items():
        register_template(name, category=category, subject=subject, text=text)
    for cls in BOOKING_EVENTS:
        subscribe(cls, on_booking_event)
    subscribe(ev.TutorApproved, on_tutor_reviewed)
    subscribe(ev.TutorRejected, on_tutor_reviewed)
    subscribe(ev.ReviewCreated, on_review_created)
    post_save.connect(on_user_saved, sender=User, dispatch_uid="marketplace.user_saved")
    from modules.marketplace.models import Booking

    post_save.connect(on_booking_written, sender=Booking, dispatch_uid="marketplace.booking_saved")
    post_delete.connect(on_booking_written, sender=Booking, dispatch_uid="marketplace.booking_deleted")


def on_booking_written(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Both parties' cached booking lists are stale once a booking row changes (saves; the few
    queryset updates call invalidate_bookings_of themselves)."""
    from modules.marketplace.services import invalidate_bookings_of

    invalidate_bookings_of(instance.student_id, instance.tutor_user_id)


# A tutor's account fields that public answers show or depend on (search rows, profiles).
_PUBLIC_USER_FIELDS = {"is_active", "deleted_at", "first_name", "last_name", "email", "avatar"}


def on_user_saved(sender: type[User], instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    """A tutor deactivated, deleted or renamed drops out of (or changes in) cached public reads at once."""
    if instance.role != "tutor" or (update_fields and not _PUBLIC_USER_FIELDS & set(update_fields)):
        return  # a login (last_login) or password change shows nowhere public
    from modules.marketplace.models import TutorProfile, TutorStatus
    from modules.marketplace.services import invalidate_public

    if TutorProfile.objects.filter(user_id=instance.pk, status=TutorStatus.APPROVED).exists():
        invalidate_public()
