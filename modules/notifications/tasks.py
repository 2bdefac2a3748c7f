"""Notifications' django-q2 tasks. Each is idempotent: a broker may deliver a task twice."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from core.models import User
from core.notify import notify
from core.registry import ports
from core.tasks import claim_effect
from modules.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EmailLog,
    Notification,
    PendingMessageNotice,
    SessionReminder,
)

logger = logging.getLogger(__name__)


def _attempts() -> int:
    return max(1, int(getattr(settings, "NOTIFICATIONS_EMAIL_ATTEMPTS", 3)))


def _backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): base, 2*base, 4*base..."""
    base = float(getattr(settings, "NOTIFICATIONS_EMAIL_BACKOFF_SECONDS", 1.0))
    return base * (2 ** (attempt - 1))


def _claim(delivery_id: int, channel: str) -> Delivery | None:
    """Move a delivery to SENDING exactly once; None if another worker (or an earlier run) has it."""
    claimed = Delivery.objects.filter(
        pk=delivery_id, channel=channel, status__in=[DeliveryStatus.PENDING, DeliveryStatus.DEFERRED]
    ).update(status=DeliveryStatus.SENDING)
    if not claimed:
        return None
    return Delivery.objects.select_related("notification__user").get(pk=delivery_id)


def deliver_email(delivery_id: int, attachments: list[tuple[str, bytes, str]] | None = None) -> bool:
    """Send one notification e-mail: up to NOTIFICATIONS_EMAIL_ATTEMPTS tries (3) with exponential
    back-off (NOTIFICATIONS_EMAIL_BACKOFF_SECONDS, 1 s -> 1, 2, 4 s). Writes one EmailLog row with the
    outcome. Never raises: a dead mail server is a failed log row, not a crashed worker."""
    delivery = _claim(delivery_id, Channel.EMAIL)
    if delivery is None:
        logger.info("e-mail delivery %s already handled; skipped", delivery_id)
        return False
    user = delivery.notification.user
    error = ""
    attempts = 0
    sent = False
    for attempt in range(1, _attempts() + 1):
        attempts = attempt
        try:
            message = EmailMultiAlternatives(
                subject=delivery.subject, body=delivery.text, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
            )
            if delivery.html:
                message.attach_alternative(delivery.html, "text/html")
            for name, content, mime in attachments or []:
                message.attach(name, content, mime)
            message.send(fail_silently=False)
            sent = True
            break
        except Exception as exc:  # noqa: BLE001 - any transport failure is retried, then logged
            error = f"{type(exc).__name__}: {exc}"[:2000]
            logger.warning("e-mail delivery %s attempt %d failed: %s", delivery_id, attempt, error)
            if attempt < _attempts():
                time.sleep(_backoff(attempt))
    now = timezone.now()
    with transaction.atomic():
        delivery.status = DeliveryStatus.SENT if sent else DeliveryStatus.FAILED
        delivery.attempts = attempts
        delivery.last_error = "" if sent else error
        delivery.sent_at = now if sent else None
        delivery.save(update_fields=["status", "attempts", "last_error", "sent_at"])
        EmailLog.objects.create(
            delivery=delivery,
            type=delivery.notification.type,
            recipient=user.email,
            subject=delivery.subject,
            status="sent" if sent else "failed",
            attempts=attempts,
            error="" if sent else error,
            sent_at=now if sent else None,
        )
        if sent and delivery.notification.key:
            # The same record core's default notifier keeps, so a key stays at most once even if the
            # deployment later switches this module off.
            claim_effect(f"email:{delivery.notification.key}")
    return sent


def deliver_push(delivery_id: int) -> bool:
    delivery = _claim(delivery_id, Channel.PUSH)
    if delivery is None:
        return False
    n = delivery.notification
    try:
        sender = ports.get("notifications.push")
        sender(n.user, title=delivery.subject, body=delivery.text, data={"notification_id": str(n.pk), **(n.data or {})})
        delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, timezone.now(), ""
    except Exception as exc:  # noqa: BLE001 - a push service outage is recorded, never raised
        delivery.status, delivery.last_error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    delivery.attempts = 1
    delivery.save(update_fields=["status", "sent_at", "last_error", "attempts"])
    return delivery.status == DeliveryStatus.SENT


def send_deferred_emails(batch: int = 500) -> int:
    """E-mails held back by quiet hours, once they end. Also fails deliveries stuck in SENDING for an
    hour (a worker died mid-send): at most once means we do not guess and resend them."""
    now = timezone.now()
    Delivery.objects.filter(
        status=DeliveryStatus.SENDING, created_at__lt=now - dt.timedelta(hours=1), sent_at__isnull=True
    ).update(status=DeliveryStatus.FAILED, last_error="abandoned while sending")
    due = list(
        Delivery.objects.filter(channel=Channel.EMAIL, status=DeliveryStatus.DEFERRED, send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", flat=True)[:batch]
    )
    return sum(1 for pk in due if deliver_email(pk))


def scan_unread_messages() -> int:
    """Notify recipients of messages still unread NOTIFICATIONS_MESSAGE_DELAY_MINUTES (10) after they
    arrived: one notification per (recipient, sender) batch, keyed so a rerun never repeats it."""
    now = timezone.now()
    delay = dt.timedelta(minutes=float(getattr(settings, "NOTIFICATIONS_MESSAGE_DELAY_MINUTES", 10)))
    due = list(
        PendingMessageNotice.objects.filter(notified_at__isnull=True, cancelled_at__isnull=True, sent_at__lte=now - delay)
        .order_by("sent_at")
        .values("message_id", "recipient_id", "sender_id", "sent_at")[:1000]
    )
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for row in due:
        groups[(row["recipient_id"], row["sender_id"])].append(row)
    users = User.objects.in_bulk({uid for pair in groups for uid in pair if uid is not None})
    made = 0
    for (recipient_id, sender_id), rows in groups.items():
        ids = [r["message_id"] for r in rows]
        claimed = PendingMessageNotice.objects.filter(
            message_id__in=ids, notified_at__isnull=True, cancelled_at__isnull=True
        ).update(notified_at=now)
        recipient = users.get(recipient_id)
        if not claimed or recipient is None:
            continue
        sender = users.get(sender_id)
        notify(
            recipient,
            "messages",
            "notifications.new_message",
            {
                "sender_name": sender.full_name if sender else "Someone",
                "count": claimed,
                "data": {"sender_id": str(sender_id) if sender_id else None, "message_ids": [str(i) for i in ids]},
            },
            key=f"unread-messages:{ids[0]}",
        )
        made += 1
    PendingMessageNotice.objects.filter(sent_at__lt=now - dt.timedelta(days=7)).delete()
    return made


def send_session_reminders() -> int:
    """24 h and 1 h before each known session, remind the student and the tutor (once each)."""
    from modules.notifications.handlers import booking_context

    now = timezone.now()
    sent = 0
    for label, field, window_start, window_end in (
        ("24h", "reminded_24h_at", now + dt.timedelta(hours=1), now + dt.timedelta(hours=24)),
        ("1h", "reminded_1h_at", now, now + dt.timedelta(hours=1)),
    ):
        rows = SessionReminder.objects.filter(
            **{f"{field}__isnull": True}, starts_at__gt=window_start, starts_at__lte=window_end
        ).select_related("student", "tutor")
        for row in rows:
            if not SessionReminder.objects.filter(pk=row.pk, **{f"{field}__isnull": True}).update(**{field: now}):
                continue
            for user, other in ((row.student, row.tutor), (row.tutor, row.student)):
                if user is None:
                    continue
                notify(
                    user,
                    "bookings",
                    f"notifications.session_reminder_{label}",
                    booking_context(user, other, booking_id=row.booking_id, starts_at=row.starts_at),
                    key=f"reminder-{label}:{row.booking_id}:{row.starts_at.isoformat()}:{user.pk}",
                )
                sent += 1
    SessionReminder.objects.filter(starts_at__lt=now - dt.timedelta(days=1)).delete()
    return sent


def purge_old_notifications(days: int | None = None) -> int:
    days = days or int(getattr(settings, "NOTIFICATIONS_RETENTION_DAYS", 90))
    _, per_model = Notification.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=days)).delete()
    return per_model.get(Notification._meta.label, 0)


def purge_email_logs(days: int | None = None) -> int:
    days = days or int(getattr(settings, "NOTIFICATIONS_EMAIL_LOG_RETENTION_DAYS", 180))
    deleted, _ = EmailLog.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=days)).delete()
    return deleted
