from __future__ import annotations

import datetime as dt

import pytest

from core.demo import seed_demo
from core.models import Role
from core.registry import HOOKS, hooks, ports
from modules.marketplace.models import Booking, PackagePurchase, Review, TutorProfile
from tests.modules.marketplace.conftest import book, future

pytestmark = pytest.mark.django_db


def _confirmed(student, client_for, tutor_profile, subject, day=3):
    booking_id = book(client_for(student), tutor_profile, subject, future(day, 10), notes="Chapter 5, please").json()["id"]
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/confirm")
    return booking_id


def test_ical_feed_is_private_valid_and_revocable(student, client_for, anon, tutor_profile, subject):
    booking_id = _confirmed(student, client_for, tutor_profile, subject)
    feed = client_for(student).get("/marketplace/calendar/feed").json()
    assert feed["url"].endswith(f"/api/v1/marketplace/calendar/{feed['token']}.ics") and len(feed["token"]) >= 40
    res = anon.get(f"/api/v1/marketplace/calendar/{feed['token']}.ics")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/calendar")
    text = res.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    start = future(3, 10).strftime("%Y%m%dT%H%M%SZ")
    assert f"UID:booking-{booking_id}@" in unfolded and f"DTSTART:{start}" in unfolded and "DTSTAMP:" in unfolded
    assert "STATUS:CONFIRMED" in unfolded and "SUMMARY:Mathematics with " in unfolded
    # the tutor's own feed has it too
    tutor_feed = client_for(tutor_profile.user).get("/marketplace/calendar/feed").json()
    assert f"UID:booking-{booking_id}@" in anon.get(
        f"/api/v1/marketplace/calendar/{tutor_feed['token']}.ics"
    ).content.decode().replace("\r\n ", "")
    # rotating revokes the old URL
    rotated = client_for(student).post("/marketplace/calendar/feed/rotate").json()
    assert rotated["token"] != feed["token"]
    assert anon.get(f"/api/v1/marketplace/calendar/{feed['token']}.ics").status_code == 404
    assert client_for(student).delete("/marketplace/calendar/feed").status_code == 204
    assert anon.get(f"/api/v1/marketplace/calendar/{rotated['token']}.ics").status_code == 404
    assert anon.get("/marketplace/calendar/feed").status_code == 401


def test_contact_policy_allows_parties_of_a_shared_booking(student, make_user, client_for, tutor_profile, subject):
    policy = dict(hooks.entries(HOOKS.CONTACT_POLICY))["marketplace"]
    stranger = make_user(Role.STUDENT)
    assert policy(student, tutor_profile.user) is None
    booking_id = book(client_for(student), tutor_profile, subject, future(3, 10)).json()["id"]
    assert policy(student, tutor_profile.user) == "shared booking"
    assert policy(tutor_profile.user, student) == "shared booking"
    assert policy(stranger, tutor_profile.user) is None
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/decline", {"reason": "No"})
    assert policy(student, tutor_profile.user) is None  # a declined request opens no conversation


def test_tutor_suggestions_port_offers_free_slots_outside_busy_times(make_tutor, subject):
    suggest = ports.get("marketplace.tutor_suggestions")
    profile = make_tutor(hours=("09:00", "11:00"), average_rating=4.5)
    make_tutor(status="pending_approval")
    first = future(1).date()
    busy = [
        (
            dt.datetime.combine(first + dt.timedelta(days=i), dt.time(9), tzinfo=dt.UTC),
            dt.datetime.combine(first + dt.timedelta(days=i), dt.time(10), tzinfo=dt.UTC),
        )
        for i in range(14)
    ]
    rows = suggest("math", busy, 5)
    assert [r["id"] for r in rows] == [profile.id]
    assert rows[0]["next_slots"] and all(s["starts_at"].hour == 10 for s in rows[0]["next_slots"])
    assert suggest("Underwater basket weaving", [], 5) == []


def test_meetings_port_can_be_replaced_by_a_plugin(student, client_for, tutor_profile, subject):
    class FakeZoom:
        def create_room(self, *, booking_id, starts_at, ends_at, title):
            return f"https://zoom.example/j/{booking_id.hex[:10]}"

    ports.register("meetings", FakeZoom())
    try:
        booking_id = _confirmed(student, client_for, tutor_profile, subject)
    finally:
        ports.unregister("meetings")
    assert Booking.objects.get(pk=booking_id).meeting_url.startswith("https://zoom.example/j/")


def test_integrity_checks_find_and_repair_drift(student, admin_user, client_for, tutor_profile, subject):
    check = dict(hooks.entries(HOOKS.INTEGRITY_CHECKS))["marketplace"]
    assert check(repair=False) == []
    TutorProfile.objects.filter(pk=tutor_profile.pk).update(review_count=3, rating_sum=12, average_rating=4)
    issues = check(repair=False)
    assert [i["check"] for i in issues] == ["marketplace.rating_aggregate"]
    assert check(repair=True)[0]["repaired"] is True
    assert check(repair=False) == []
    tutor_profile.refresh_from_db()
    assert tutor_profile.review_count == 0


def test_export_and_erase_keep_bookings_but_remove_free_text(student, client_for, tutor_profile, subject):
    booking_id = _confirmed(student, client_for, tutor_profile, subject)
    Booking.objects.filter(pk=booking_id).update(status="completed")
    Review.objects.create(booking_id=booking_id, tutor=tutor_profile, student=student, rating=5, comment="Loved it")
    exported = dict(hooks.entries(HOOKS.USER_EXPORT))["marketplace"](student)
    assert exported["bookings"][0]["notes"] == "Chapter 5, please" and exported["reviews_written"][0]["comment"] == "Loved it"
    dict(hooks.entries(HOOKS.USER_ERASE))["marketplace"](student)
    booking = Booking.objects.get(pk=booking_id)
    assert booking.status == "completed" and "Chapter 5" not in booking.notes
    assert "Loved" not in Review.objects.get(booking_id=booking_id).comment


def test_admin_figures(student, client_for, tutor_profile, subject, make_tutor):
    _confirmed(student, client_for, tutor_profile, subject)
    make_tutor(status="pending_approval")
    figures = dict(hooks.entries(HOOKS.ADMIN_FIGURES))["marketplace"]()
    assert figures["tutors_pending_approval"] == 1
    assert figures["bookings_by_status"]["confirmed"] == 1
    assert figures["subject_distribution"][0] == {"subject": "Mathematics", "bookings": 1, "tutors": 1}
    assert figures["session_metrics"]["total_sessions"] == 1


def test_demo_data_is_idempotent(client_for, anon):
    seed_demo()
    seed_demo()
    tutors = anon.get("/marketplace/tutors").json()
    assert tutors["total"] == 2
    assert Booking.objects.filter(notes__startswith="[demo]").count() == 3
    assert Review.objects.count() == 1
    assert {s["name"] for s in anon.get("/marketplace/subjects").json()} >= {"Mathematics", "Spanish"}
    assert PackagePurchase.objects.count() == 0
    tutor1 = TutorProfile.objects.get(user__email="tutor1@demo.local")
    day = future(7).date()
    slots = anon.get(
        f"/marketplace/tutors/{tutor1.id}/slots", {"start": day.isoformat(), "end": (day + dt.timedelta(days=6)).isoformat()}
    )
    assert slots.status_code == 200 and slots.json()["slots"]


def test_erasing_a_tutor_cancels_their_future_bookings_with_events(student, client_for, tutor_profile, subject, events):
    booking_id = _confirmed(student, client_for, tutor_profile, subject)
    dict(hooks.entries(HOOKS.USER_ERASE))["marketplace"](tutor_profile.user)
    booking = Booking.objects.get(pk=booking_id)
    assert booking.status == "cancelled" and booking.refund_eligible is True
    assert events[-1].event_type == "marketplace.booking_cancelled.v1"
    tutor_profile.refresh_from_db()
    assert tutor_profile.status == "draft" and tutor_profile.bio == ""


def test_admin_figures_accept_months(student, client_for, tutor_profile, subject):
    _confirmed(student, client_for, tutor_profile, subject)
    figures = hooks.call(HOOKS.ADMIN_FIGURES, months=3)["marketplace"]
    assert sum(row["bookings"] for row in figures["bookings_by_month"]) == 1


def test_parties_are_notified_after_commit(
    student, client_for, tutor_profile, subject, django_capture_on_commit_callbacks, mailoutbox
):
    student.timezone = "Asia/Tokyo"
    student.save()
    with django_capture_on_commit_callbacks(execute=True):
        booking_id = book(client_for(student), tutor_profile, subject, future(3, 10)).json()["id"]
    assert [m.to for m in mailoutbox] == [[tutor_profile.user.email]]
    assert "booking request" in mailoutbox[0].subject.lower()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/confirm")
    assert [m.to for m in mailoutbox] == [[student.email]]
    assert "meet.jit.si" in mailoutbox[0].body
    assert "19:00 (Asia/Tokyo)" in mailoutbox[0].body  # 10:00 UTC in the student's own zone


def test_integrity_checks_repair_package_credits(student, make_tutor, subject):
    from django.utils import timezone

    from modules.marketplace.models import Package

    profile = make_tutor()
    package = Package.objects.create(tutor=profile, name="P", session_count=4, duration_minutes=60, price_minor=1, currency="USD")
    purchase = PackagePurchase.objects.create(
        package=package,
        student=student,
        tutor=profile,
        status="active",
        sessions_total=4,
        credits_remaining=1,
        duration_minutes=60,
        price_minor=1,
        currency="USD",
        validity_days=30,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    start = future(3, 10)
    Booking.objects.create(
        tutor=profile,
        tutor_user=profile.user,
        student=student,
        subject=subject,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        blocked_until=start + dt.timedelta(hours=1),
        duration_minutes=60,
        price_minor=1,
        currency="USD",
        package_purchase=purchase,
        credit_consumed=True,
        status="confirmed",
    )
    check = dict(hooks.entries(HOOKS.INTEGRITY_CHECKS))["marketplace"]
    assert [i["check"] for i in check(repair=True)] == ["marketplace.package_credits"]
    purchase.refresh_from_db()
    assert purchase.credits_remaining == 3
    assert check(repair=False) == []
