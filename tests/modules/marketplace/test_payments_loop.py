"""The booking and package payment loop across the marketplace and payments modules, over HTTP only
(the offline provider: payments succeed at once)."""

from __future__ import annotations

import pytest

from core.registry import is_enabled
from modules.marketplace.models import Booking, PackagePurchase
from tests.modules.marketplace.conftest import book, future

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not is_enabled("payments"), reason="the payments module is switched off"),
]


def balances(api, currency: str = "USD") -> dict[str, int]:
    wallet = api.get("/payments/wallet").json()
    return next((b for b in wallet["balances"] if b["currency"] == currency), {})


def test_a_paid_booking_credits_the_tutor_after_the_fee(student, tutor_profile, subject, client_for):
    api = client_for(student)
    booking = book(api, tutor_profile, subject, future(days=3))
    assert booking.status_code == 201, booking.content
    booking_id = booking.json()["id"]
    assert booking.json()["payment_state"] == "unpaid"
    res = api.post("/payments/checkout", {"kind": "booking", "object_id": booking_id})
    assert res.status_code in (200, 201), res.content
    assert res.json()["amount_minor"] == 6000 and res.json()["currency"] == "USD"
    assert api.get(f"/marketplace/bookings/{booking_id}").json()["payment_state"] == "paid"
    again = api.post("/payments/checkout", {"kind": "booking", "object_id": booking_id})
    assert again.status_code == 409  # paid once only
    tutor_wallet = balances(client_for(tutor_profile.user))
    assert tutor_wallet.get("pending_minor") == 5100  # 6000 less the 15% platform fee
    assert tutor_wallet.get("available_minor") == 0  # until the session is completed


def test_another_students_booking_cannot_be_paid(student, make_user, tutor_profile, subject, client_for):
    booking_id = book(client_for(student), tutor_profile, subject, future(days=4)).json()["id"]
    res = client_for(make_user("student")).post("/payments/checkout", {"kind": "booking", "object_id": booking_id})
    assert res.status_code == 404
    assert Booking.objects.get(pk=booking_id).payment_state == "unpaid"


def test_paying_a_package_activates_it_and_a_tutor_cancellation_refunds(student, tutor_profile, subject, client_for):
    tutor_api, api = client_for(tutor_profile.user), client_for(student)
    package = tutor_api.post(
        "/marketplace/packages",
        {"name": "Five sessions", "session_count": 5, "duration_minutes": 60, "price_minor": 25000, "validity_days": 90},
    )
    assert package.status_code == 201, package.content
    purchase = api.post(f"/marketplace/packages/{package.json()['id']}/purchase")
    assert purchase.status_code == 201, purchase.content
    purchase_id = purchase.json()["id"]
    assert api.post("/payments/checkout", {"kind": "package", "object_id": purchase_id}).status_code in (200, 201)
    assert PackagePurchase.objects.get(pk=purchase_id).status == "active"

    booking_id = book(api, tutor_profile, subject, future(days=5)).json()["id"]
    api.post("/payments/checkout", {"kind": "booking", "object_id": booking_id})
    assert tutor_api.post(f"/marketplace/bookings/{booking_id}/confirm").status_code == 200
    assert tutor_api.post(f"/marketplace/bookings/{booking_id}/cancel", {"reason": "ill"}).status_code == 200
    assert Booking.objects.get(pk=booking_id).payment_state == "refunded"
