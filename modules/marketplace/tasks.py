"""Scheduled tasks (django-q2). Both are idempotent: each booking is re-checked under a row lock."""

from __future__ import annotations

from modules.marketplace import services


def expire_pending_bookings() -> int:
    return services.expire_pending_bookings()


def complete_finished_bookings() -> int:
    return services.complete_finished_bookings()


def refresh_search_documents() -> int:
    return services.refresh_stale_search_documents()
