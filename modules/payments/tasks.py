"""Scheduled tasks (django-q2); idempotent."""

from __future__ import annotations

from modules.payments import services


def release_due_payments() -> int:
    return services.release_due_payments()
