"""Core's tasks (django-q2). Every task is idempotent: brokers may deliver twice."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import EffectKey

logger = logging.getLogger(__name__)


def claim_effect(key: str) -> bool:
    """Record that an effect is happening; False when it already happened (or is happening)."""
    try:
        with transaction.atomic():
            EffectKey.objects.create(key=key[:200])
        return True
    except IntegrityError:
        return False


def release_effect(key: str) -> None:
    EffectKey.objects.filter(key=key[:200]).delete()


def send_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    key: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> bool:
    """Send one e-mail; with a key, at most once. A failure releases the key and raises, so the
    broker retries (Q_CLUSTER max_attempts)."""
    if key and not claim_effect(key):
        logger.info("e-mail %s already sent; skipped", key)
        return False
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    if html:
        message.attach_alternative(html, "text/html")
    for name, content, mime in attachments or []:
        message.attach(name, content, mime)
    try:
        message.send(fail_silently=False)
    except Exception:
        if key:
            release_effect(key)
        raise
    return True


def drain_outbox() -> int:
    from core.events import drain_outbox as drain

    return drain()


def purge_effect_keys(days: int = 30) -> int:
    deleted, _ = EffectKey.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=days)).delete()
    return deleted
