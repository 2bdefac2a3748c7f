"""Reactions to other modules' events, subscribed by type string (payments imports no module).

marketplace.booking_completed.v1  -> the tutor's share of the booking's payment becomes available
marketplace.booking_cancelled.v1  -> refund_eligible: full refund through the provider + ledger reversal
marketplace.booking_no_show.v1    -> who == "tutor": full refund; who == "student": the tutor is paid
marketplace.booking_declined.v1 / booking_expired.v1 -> whatever was paid is refunded in full
A payment still pending when its booking is cancelled/declined/expired is refunded once it succeeds.
Each effect is idempotent (refund keys, release keyed per payment), so redelivery changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from core.events import subscribe
from modules.payments import services

logger = logging.getLogger(__name__)

BOOKING_COMPLETED = "marketplace.booking_completed.v1"
BOOKING_CANCELLED = "marketplace.booking_cancelled.v1"
BOOKING_NO_SHOW = "marketplace.booking_no_show.v1"
BOOKING_DECLINED = "marketplace.booking_declined.v1"
BOOKING_EXPIRED = "marketplace.booking_expired.v1"


def on_booking_completed(evt: Any) -> None:
    payment = services.booking_payment(evt.booking_id)
    if payment is not None:
        services.do_release(payment_id=payment.id)


def on_booking_cancelled(evt: Any) -> None:
    if not getattr(evt, "refund_eligible", False):
        return  # outside the refund window: nothing, unless an admin decides a partial refund
    payment = services.booking_payment(evt.booking_id)
    if payment is not None:
        services.do_refund(
            payment_id=payment.id, amount_minor=None, key=f"booking_cancelled:{payment.id}", reason="booking cancelled"
        )
    # a payment still pending at the provider is refunded as soon as it succeeds
    services.do_refund_owner_cancelled(kind="booking", object_id=evt.booking_id, reason="booking cancelled")


def on_booking_not_taken(evt: Any) -> None:
    """Declined or expired requests never happened: whatever was paid goes back in full."""
    services.do_refund_owner_cancelled(kind="booking", object_id=evt.booking_id, reason=evt.event_type.split(".")[1])


def on_booking_no_show(evt: Any) -> None:
    payment = services.booking_payment(evt.booking_id)
    if payment is None:
        return
    if getattr(evt, "who", "") == "tutor":
        services.do_refund(
            payment_id=payment.id, amount_minor=None, key=f"booking_no_show:{payment.id}", reason="tutor did not attend"
        )
    else:
        services.do_release(payment_id=payment.id)


def connect() -> None:
    subscribe(BOOKING_COMPLETED, on_booking_completed)
    subscribe(BOOKING_CANCELLED, on_booking_cancelled)
    subscribe(BOOKING_NO_SHOW, on_booking_no_show)
    subscribe(BOOKING_DECLINED, on_booking_not_taken)
    subscribe(BOOKING_EXPIRED, on_booking_not_taken)
