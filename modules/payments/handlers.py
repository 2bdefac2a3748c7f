"""Reactions to other modules' events, subscribed by type string (payments imports no module).

marketplace.booking_completed.v1  -> the tutor's share of the booking's payment becomes available
marketplace.booking_cancelled.v1  -> refund_eligible: full refund through the provider + ledger reversal
marketplace.booking_no_show.v1    -> who == "tutor": full refund; who == "student": the tutor is paid
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
