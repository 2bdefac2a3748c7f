"""The marketplace's side of payments, through ports and events only (payments is never imported).

- Payable ports ``payments.payable.booking`` and ``payments.payable.package`` tell the payments module
  what a student owes for a booking or a package purchase.
- ``payments.payment_succeeded.v1`` marks a booking paid or activates a package purchase;
  ``payments.payment_refunded.v1`` marks a booking refunded or cancels a refunded purchase's credits.
Handlers are idempotent: a redelivered event finds the state already applied.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, NotFound
from core.events import subscribe
from core.models import User
from core.registry import ports
from modules.marketplace.models import Booking, BookingStatus, PackagePurchase, PurchaseStatus

logger = logging.getLogger(__name__)
PAYABLE_BOOKING_STATES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


def describe_booking(object_id: uuid.UUID, payer: User) -> dict[str, Any]:
    booking = Booking.objects.select_related("subject").filter(pk=object_id, student=payer).first()
    if booking is None:
        raise NotFound("No booking with that id, or you may not see it")
    if booking.status not in PAYABLE_BOOKING_STATES:
        raise Conflict(f"A {booking.status} booking cannot be paid", code="not_payable")
    if booking.package_purchase_id:
        raise Conflict("This booking uses a package credit; there is nothing to pay", code="not_payable")
    if booking.payment_state != "unpaid":
        raise Conflict("This booking is already paid", code="already_paid")
    return {
        "amount_minor": booking.price_minor,
        "currency": booking.currency,
        "payee_user_id": booking.tutor_user_id,
        "description": f"{booking.subject.name} session, {booking.starts_at:%Y-%m-%d %H:%M} UTC",
    }


def describe_package(object_id: uuid.UUID, payer: User) -> dict[str, Any]:
    purchase = PackagePurchase.objects.select_related("package", "tutor").filter(pk=object_id, student=payer).first()
    if purchase is None:
        raise NotFound("No package purchase with that id, or you may not see it")
    if purchase.status != PurchaseStatus.PENDING:
        raise Conflict(f"A purchase that is {purchase.status} cannot be paid", code="not_payable")
    return {
        "amount_minor": purchase.price_minor,
        "currency": purchase.currency,
        "payee_user_id": purchase.tutor.user_id,
        "description": f"Package: {purchase.package.name}",
    }


def _invalidate_parties(booking_id: Any) -> None:
    from modules.marketplace.services import invalidate_bookings_of

    parties = Booking.objects.filter(pk=booking_id).values_list("student_id", "tutor_user_id").first()
    if parties:
        invalidate_bookings_of(*parties)


def on_payment_succeeded(evt: Any) -> None:
    kind, object_id = getattr(evt, "kind", None), getattr(evt, "object_id", None)
    if kind == "booking":
        updated = Booking.objects.filter(pk=object_id, payment_state="unpaid").update(
            payment_state="paid", payment_id=evt.payment_id, updated_at=timezone.now()
        )
        logger.info("booking %s paid (%d row)", object_id, updated)
        _invalidate_parties(object_id)
    elif kind == "package":
        from modules.marketplace.services import do_activate_purchase

        try:
            do_activate_purchase(purchase_id=uuid.UUID(str(object_id)))
        except (Conflict, NotFound):  # already active (a redelivered event) or gone: nothing to do
            logger.info("package purchase %s not activated: not pending", object_id)


def on_payment_refunded(evt: Any) -> None:
    kind, object_id = getattr(evt, "kind", None), getattr(evt, "object_id", None)
    if not getattr(evt, "full", False):
        return
    if kind == "booking":
        Booking.objects.filter(pk=object_id).exclude(payment_state="refunded").update(
            payment_state="refunded", updated_at=timezone.now()
        )
        _invalidate_parties(object_id)
    elif kind == "package":
        with transaction.atomic():
            purchase = PackagePurchase.objects.select_for_update().filter(pk=object_id).first()
            if purchase is not None and purchase.status != PurchaseStatus.CANCELLED:
                purchase.status = PurchaseStatus.CANCELLED
                purchase.credits_remaining = 0
                purchase.save(update_fields=["status", "credits_remaining"])


def connect() -> None:
    ports.register("payments.payable.booking", describe_booking)
    ports.register("payments.payable.package", describe_package)
    subscribe("payments.payment_succeeded.v1", on_payment_succeeded)
    subscribe("payments.payment_refunded.v1", on_payment_refunded)
