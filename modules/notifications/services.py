"""The notify implementation (in-app + e-mail + push by preference), the centre's operations, quiet hours."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape, linebreaks

from core.cache import bump_now_and_on_commit
from core.db import insert_unless_conflict_with
from core.errors import NotFound, ValidationFailed
from core.models import User
from core.notify import CATEGORIES, render
from core.realtime.push import push_to_user_on_commit
from core.registry import ports
from modules.notifications.models import Channel, Delivery, DeliveryStatus, Notification, Preference, QuietHours

logger = logging.getLogger(__name__)
PUSH_PORT = "notifications.push"
DEFAULTS = {"in_app": True, "email": True, "push": True}


class PushSender(Protocol):
    """The push port (a web-push plugin may register one under PUSH_PORT). Off when nothing registers."""

    def __call__(self, user: User, *, title: str, body: str, data: dict[str, Any]) -> None: ...


# --- preferences and quiet hours --------------------------------------------------------------------


def preferences_for(user: User, category: str) -> dict[str, bool]:
    row = Preference.objects.filter(user=user, category=category).values("in_app", "email", "push").first()
    return row or dict(DEFAULTS)


def _as_time(value: Any) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))  # SQLite answers text


def delivery_settings(user: User, category: str) -> tuple[dict[str, bool], QuietHours | None]:
    """The category's channel preferences and the quiet-hours window, in one query (notify's hot path):
    a one-row LEFT JOIN of both tables, so a user without either row gets the defaults."""
    pref, qn = Preference._meta, connection.ops.quote_name
    sql = (
        f"SELECT p.in_app, p.email, p.push, q.start, q.{qn('end')} FROM (SELECT 1 AS one) AS o "
        f"LEFT JOIN {qn(pref.db_table)} AS p ON p.user_id = %s AND p.category = %s "
        f"LEFT JOIN {qn(QuietHours._meta.db_table)} AS q ON q.user_id = %s"
    )
    user_id = pref.get_field("user").get_db_prep_value(user.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, category, user_id])
        in_app, email, push, start, end = cursor.fetchone()
    prefs = dict(DEFAULTS) if in_app is None else {"in_app": bool(in_app), "email": bool(email), "push": bool(push)}
    window = None if start is None else QuietHours(user_id=user.pk, start=_as_time(start), end=_as_time(end))
    return prefs, window


def all_preferences(user: User) -> list[dict[str, Any]]:
    rows = {r["category"]: r for r in Preference.objects.filter(user=user).values("category", "in_app", "email", "push")}
    return [rows.get(c) or {"category": c, **DEFAULTS} for c in CATEGORIES]


def user_zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def quiet_until(user: User, now: dt.datetime | None = None, *, window: QuietHours | None = None) -> dt.datetime | None:
    """If ``now`` falls in the user's quiet hours (their own zone), the UTC moment they end; else None."""
    window = window if window is not None else QuietHours.objects.filter(user=user).first()
    if window is None or window.start == window.end:
        return None
    now = now or timezone.now()
    zone = user_zone(user)
    local = now.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    # A window whose start is after its end spans midnight, e.g. 22:00-07:00.
    inside = (window.start <= t < window.end) if window.start < window.end else (t >= window.start or t < window.end)
    if not inside:
        return None
    end_date = local.date() if t < window.end else local.date() + dt.timedelta(days=1)
    # Wall-clock end in the user's zone (zoneinfo resolves DST gaps and folds), then UTC.
    end_local = dt.datetime.combine(end_date, window.end, tzinfo=zone)
    return end_local.astimezone(dt.UTC)


@transaction.atomic
def do_update_preferences(*, user: User, categories: list[dict[str, Any]] | None, quiet_hours: Any, set_quiet: bool) -> None:
    for item in categories or []:
        category = item["category"]
        if category not in CATEGORIES:
            raise ValidationFailed(f"Unknown category {category!r}", code="unknown_category")
        current = preferences_for(user, category)
        values = {k: item[k] if item.get(k) is not None else current[k] for k in ("in_app", "email", "push")}
        Preference.objects.update_or_create(user=user, category=category, defaults=values)
    if set_quiet:
        if quiet_hours is None:
            QuietHours.objects.filter(user=user).delete()
        else:
            if quiet_hours["start"] == quiet_hours["end"]:
                raise ValidationFailed("Quiet hours must start and end at different times", code="empty_quiet_hours")
            QuietHours.objects.update_or_create(user=user, defaults={"start": quiet_hours["start"], "end": quiet_hours["end"]})


# --- the notify port --------------------------------------------------------------------------------


def _json_safe(value: Any, depth: int = 0) -> Any:
    if depth > 4:
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items() if _json_safe(v, depth + 1) is not None}
    if isinstance(value, list | tuple):
        return [_json_safe(v, depth + 1) for v in value]
    return None  # model instances and other objects are not data a client should get


def notification_payload(n: Notification) -> dict[str, Any]:
    return {
        "id": str(n.pk),
        "type": n.type,
        "category": n.category,
        "title": n.title,
        "body": n.body,
        "data": n.data,
        "is_read": n.read_at is not None,
        "read_at": n.read_at.isoformat() if n.read_at else None,
        "created_at": n.created_at.isoformat(),
    }


def _html_fallback(text: str) -> str:
    return linebreaks(escape(text))


def centre_namespace(user_id: Any) -> str:
    """A user's cached notification centre (core.api.public_cache)."""
    return f"notif:centre:{user_id}"


def notify_user(
    user: User,
    category: str,
    template: str,
    context: dict[str, Any],
    *,
    key: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> Notification | None:
    """core.notify's port, as this module implements it.

    - In-app: a Notification in the centre (pushed live as ``notification``) unless in-app is off.
    - E-mail: a Delivery sent by a django-q2 task; during quiet hours it waits until they end.
    - Push: only when a push sender is registered (PUSH_PORT); suppressed during quiet hours.
    At most once per ``key`` for a user, and at most once per (notification, channel).
    """
    if not user.is_usable:
        return None
    if category not in CATEGORIES:
        raise ValueError(f"Unknown notification category {category!r}")
    prefs, window = delivery_settings(user, category)
    want_email = prefs["email"] and bool(user.email)
    want_push = prefs["push"] and ports.has(PUSH_PORT)
    if not (prefs["in_app"] or want_email or want_push):
        return None
    rendered = render(template, {"user": {"first_name": user.first_name, "full_name": user.full_name}, **context})
    data = _json_safe(context.get("data")) if isinstance(context.get("data"), dict) else _json_safe(context)
    n = Notification(
        user=user,
        type=template,
        category=category,
        title=rendered.subject or template,
        body=rendered.text.strip(),
        data=data or {},
        in_app=prefs["in_app"],
        key=key[:200] if key else None,
    )
    ends = quiet_until(user, window=window) if (want_email or want_push) and window is not None else None
    email = push = None
    if want_email:
        email = Delivery(
            notification=n,
            channel=Channel.EMAIL,
            status=DeliveryStatus.DEFERRED if ends else DeliveryStatus.PENDING,
            send_after=ends,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html or _html_fallback(rendered.text),
        )
    if want_push:
        status = DeliveryStatus.SUPPRESSED if ends else DeliveryStatus.PENDING
        push = Delivery(notification=n, channel=Channel.PUSH, status=status, subject=rendered.subject, text=rendered.text)
    # The notification and its delivery rows are written together (one statement on PostgreSQL): the
    # key makes a redelivered event a no-op, so a notification committed without its e-mail row would
    # never get one. Nothing is written for a key already used (a redelivery, a concurrent twin).
    if not insert_unless_conflict_with(n, *(d for d in (email, push) if d is not None)):
        return None
    if n.in_app:
        bump_now_and_on_commit(centre_namespace(user.pk))
        push_to_user_on_commit(user.pk, "notification", notification_payload(n))
    if email is not None and not ends:
        _enqueue("modules.notifications.tasks.deliver_email", email.pk, attachments=attachments or [], group=f"email:{category}")
    if push is not None and not ends:
        _enqueue("modules.notifications.tasks.deliver_push", push.pk, group="push")
    return n


def _enqueue(func: str, delivery_id: int, *, group: str, **kwargs: Any) -> None:
    def go() -> None:
        from django_q.tasks import async_task

        async_task(func, delivery_id, **kwargs, q_options={"group": group})

    transaction.on_commit(go)


# --- the centre ---------------------------------------------------------------------------------------


def get_own(*, user: User, notification_id: uuid.UUID) -> Notification:
    n = Notification.objects.filter(pk=notification_id, user=user, in_app=True).first()
    if n is None:
        raise NotFound("No notification with that id")
    return n


def do_mark_read(*, user: User, notification_id: uuid.UUID) -> Notification:
    n = get_own(user=user, notification_id=notification_id)
    if n.read_at is None:
        n.read_at = timezone.now()
        n.save(update_fields=["read_at"])
    return n


def do_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).update(read_at=timezone.now())


def do_delete(*, user: User, notification_id: uuid.UUID) -> None:
    n = get_own(user=user, notification_id=notification_id)
    if n.deliveries.exists():
        # Keep the row for the delivery record (at most once per channel), out of the centre.
        n.in_app = False
        n.save(update_fields=["in_app"])
    else:
        n.delete()


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).count()


# --- hooks ------------------------------------------------------------------------------------------


def export_user(user: User) -> dict[str, Any]:
    return {
        "notifications": [
            {**notification_payload(n), "in_app": n.in_app}
            for n in Notification.objects.filter(user=user).order_by("created_at", "id")
        ],
        "preferences": all_preferences(user),
        "quiet_hours": QuietHours.objects.filter(user=user).values("start", "end").first(),
    }


def erase_user(user: User) -> None:
    """Erasure: the user's notifications, preferences and quiet hours go; e-mail log rows lose the address."""
    from modules.notifications.models import EmailLog, PendingMessageNotice, SessionReminder

    with transaction.atomic():
        EmailLog.objects.filter(delivery__notification__user=user).update(recipient="erased@invalid", subject="")
        if user.email:
            EmailLog.objects.filter(recipient=user.email).update(recipient="erased@invalid", subject="")
        Notification.objects.filter(user=user).delete()
        Preference.objects.filter(user=user).delete()
        QuietHours.objects.filter(user=user).delete()
        PendingMessageNotice.objects.filter(recipient=user).delete()
        SessionReminder.objects.filter(Q(student=user) | Q(tutor=user)).delete()


def admin_figures(**_: Any) -> dict[str, Any]:
    """Figures for the admin dashboard (core passes months=...; these are recent counts)."""
    from modules.notifications.models import EmailLog

    since = timezone.now() - dt.timedelta(days=1)
    return {
        "notifications_24h": Notification.objects.filter(created_at__gte=since).count(),
        "emails_sent_24h": EmailLog.objects.filter(created_at__gte=since, status="sent").count(),
        "emails_failed_24h": EmailLog.objects.filter(created_at__gte=since, status="failed").count(),
    }
