from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.models import Role
from modules.marketplace.models import Booking, PackagePurchase, TutorProfile
from tests.modules.marketplace.conftest import book, future

pytestmark = pytest.mark.django_db


@pytest.fixture
def package(client_for, tutor_profile):
    res = client_for(tutor_profile.user).post(
        "/marketplace/packages",
        {"name": "Three sessions", "session_count": 3, "duration_minutes": 60, "price_minor": 15000, "validity_days": 30},
    )
    assert res.status_code == 201, res.content
    return res.json()


def _activated_purchase(student, admin_user, client_for, package, events=None):
    bought = client_for(student).post(f"/marketplace/packages/{package['id']}/purchase")
    assert bought.status_code == 201 and bought.json()["status"] == "pending"
    purchase_id = bought.json()["id"]
    assert client_for(student).post(f"/marketplace/admin/package-purchases/{purchase_id}/activate").status_code == 403
    res = client_for(admin_user).post(f"/marketplace/admin/package-purchases/{purchase_id}/activate")
    assert res.status_code == 200 and res.json()["status"] == "active"
    return purchase_id


def test_package_credits_are_consumed_on_confirm_and_returned_on_refundable_cancel(
    student, admin_user, client_for, anon, tutor_profile, subject, package, events
):
    assert [p["id"] for p in anon.get(f"/marketplace/tutors/{tutor_profile.id}/packages").json()] == [package["id"]]
    purchase_id = _activated_purchase(student, admin_user, client_for, package)
    assert "marketplace.package_purchased.v1" in [e.event_type for e in events]
    res = book(client_for(student), tutor_profile, subject, future(5, 10), package_purchase_id=purchase_id)
    assert res.status_code == 201, res.content
    booking_id = res.json()["id"]
    assert PackagePurchase.objects.get(pk=purchase_id).credits_remaining == 3  # held, not consumed
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/confirm")
    assert PackagePurchase.objects.get(pk=purchase_id).credits_remaining == 2
    client_for(student).post(f"/marketplace/bookings/{booking_id}/cancel", {"reason": "Sick"})
    assert PackagePurchase.objects.get(pk=purchase_id).credits_remaining == 3
    assert "marketplace.package_credit_returned.v1" in [e.event_type for e in events]


def test_late_cancellation_keeps_the_credit_used(student, admin_user, client_for, tutor_profile, subject, package, settings):
    purchase_id = _activated_purchase(student, admin_user, client_for, package)
    booking_id = book(client_for(student), tutor_profile, subject, future(2, 10), package_purchase_id=purchase_id).json()["id"]
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/confirm")
    settings.BOOKING_REFUND_CUTOFF_HOURS = 24 * 5
    client_for(student).post(f"/marketplace/bookings/{booking_id}/cancel", {"reason": "Late"})
    assert PackagePurchase.objects.get(pk=purchase_id).credits_remaining == 2


def test_pending_bookings_hold_credits(student, admin_user, client_for, tutor_profile, subject, package):
    purchase_id = _activated_purchase(student, admin_user, client_for, package)
    for day in (3, 4, 5):
        assert (
            book(client_for(student), tutor_profile, subject, future(day, 10), package_purchase_id=purchase_id).status_code == 201
        )
    res = book(client_for(student), tutor_profile, subject, future(6, 10), package_purchase_id=purchase_id)
    assert res.status_code == 409 and res.json()["code"] == "no_credits"


def test_unusable_packages_are_refused(student, make_user, admin_user, client_for, tutor_profile, subject, package):
    pending = client_for(student).post(f"/marketplace/packages/{package['id']}/purchase").json()["id"]
    res = book(client_for(student), tutor_profile, subject, future(3, 10), package_purchase_id=pending)
    assert res.status_code == 409 and res.json()["code"] == "package_not_active"
    active = _activated_purchase(student, admin_user, client_for, package)
    res = book(client_for(student), tutor_profile, subject, future(3, 10), duration=30, package_purchase_id=active)
    assert res.status_code == 400 and res.json()["code"] == "package_duration"
    PackagePurchase.objects.filter(pk=active).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    res = book(client_for(student), tutor_profile, subject, future(3, 10), package_purchase_id=active)
    assert res.status_code == 409 and res.json()["code"] == "package_expired"
    other = book(client_for(make_user(Role.STUDENT)), tutor_profile, subject, future(3, 10), package_purchase_id=active)
    assert other.status_code == 404
    assert not Booking.objects.exists()


def test_packages_are_managed_by_their_tutor(client_for, make_user, tutor_profile, package, student):
    api = client_for(tutor_profile.user)
    assert api.patch(f"/marketplace/packages/{package['id']}", {"is_active": False}).json()["is_active"] is False
    assert (
        client_for(make_user(Role.TUTOR)).patch(f"/marketplace/packages/{package['id']}", {"is_active": True}).status_code == 404
    )
    assert client_for(student).post(f"/marketplace/packages/{package['id']}/purchase").status_code == 404  # not on sale
    assert (
        client_for(student)
        .post("/marketplace/packages", {"name": "x", "session_count": 1, "duration_minutes": 60, "price_minor": 1})
        .status_code
        == 403
    )
    assert [p["id"] for p in api.get("/marketplace/tutors/me/packages").json()] == [package["id"]]


# --- reviews ----------------------------------------------------------------------------------------


def _completed_booking(student, client_for, tutor_profile, subject):
    booking_id = book(client_for(student), tutor_profile, subject, future(3, 10)).json()["id"]
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/confirm")
    past = timezone.now() - dt.timedelta(hours=3)
    Booking.objects.filter(pk=booking_id).update(
        starts_at=past, ends_at=past + dt.timedelta(hours=1), blocked_until=past + dt.timedelta(hours=1)
    )
    assert client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/complete").json()["status"] == "completed"
    return booking_id


def test_review_once_respond_once_and_hide(student, admin_user, client_for, anon, tutor_profile, subject, events):
    booking_id = _completed_booking(student, client_for, tutor_profile, subject)
    assert client_for(tutor_profile.user).post("/marketplace/reviews", {"booking_id": booking_id, "rating": 5}).status_code == 403
    assert client_for(student).post("/marketplace/reviews", {"booking_id": booking_id, "rating": 6}).status_code == 422
    res = client_for(student).post("/marketplace/reviews", {"booking_id": booking_id, "rating": 4, "comment": "Very clear"})
    assert res.status_code == 201, res.content
    review_id = res.json()["id"]
    again = client_for(student).post("/marketplace/reviews", {"booking_id": booking_id, "rating": 1})
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"
    tutor_profile.refresh_from_db()
    assert (tutor_profile.review_count, float(tutor_profile.average_rating)) == (1, 4.0)
    assert "marketplace.review_created.v1" in [e.event_type for e in events]

    assert client_for(student).post(f"/marketplace/reviews/{review_id}/response", {"response": "x"}).status_code == 403
    tutor_api = client_for(tutor_profile.user)
    assert (
        tutor_api.post(f"/marketplace/reviews/{review_id}/response", {"response": "Thank you!"}).json()["response"]
        == "Thank you!"
    )
    assert tutor_api.post(f"/marketplace/reviews/{review_id}/response", {"response": "Again"}).status_code == 409

    public = anon.get(f"/marketplace/tutors/{tutor_profile.id}/reviews").json()
    assert public["total"] == 1 and public["items"][0]["comment"] == "Very clear"
    assert anon.get(f"/marketplace/tutors/{tutor_profile.id}").json()["average_rating"] == 4.0

    assert client_for(student).post(f"/marketplace/admin/reviews/{review_id}/hide", {"hidden": True}).status_code == 403
    assert (
        client_for(admin_user).post(f"/marketplace/admin/reviews/{review_id}/hide", {"hidden": True}).json()["is_hidden"] is True
    )
    assert anon.get(f"/marketplace/tutors/{tutor_profile.id}/reviews").json()["total"] == 0
    tutor_profile.refresh_from_db()
    assert (tutor_profile.review_count, float(tutor_profile.average_rating)) == (0, 0.0)


def test_only_completed_bookings_are_reviewed(student, make_user, client_for, tutor_profile, subject):
    booking_id = book(client_for(student), tutor_profile, subject, future(3, 10)).json()["id"]
    res = client_for(student).post("/marketplace/reviews", {"booking_id": booking_id, "rating": 5})
    assert res.status_code == 409 and res.json()["code"] == "not_completed"
    assert (
        client_for(make_user(Role.STUDENT)).post("/marketplace/reviews", {"booking_id": booking_id, "rating": 5}).status_code
        == 404
    )


# --- favourites -------------------------------------------------------------------------------------


def test_favourites_add_list_remove(student, client_for, make_tutor, tutor):
    a, b = make_tutor(first_name="Ann"), make_tutor(first_name="Bob")
    pending = make_tutor(status="pending_approval")
    api = client_for(student)
    assert api.post(f"/marketplace/favourites/{a.id}").status_code == 201
    assert api.post(f"/marketplace/favourites/{a.id}").status_code == 200
    assert api.post(f"/marketplace/favourites/{b.id}").status_code == 201
    assert api.post(f"/marketplace/favourites/{pending.id}").status_code == 404
    assert [r["id"] for r in api.get("/marketplace/favourites").json()] == [str(a.id), str(b.id)]
    assert api.delete(f"/marketplace/favourites/{a.id}").status_code == 204
    assert [r["id"] for r in api.get("/marketplace/favourites").json()] == [str(b.id)]
    assert client_for(tutor).get("/marketplace/favourites").status_code == 403
    assert TutorProfile.objects.count() == 3
