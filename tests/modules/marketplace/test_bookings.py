from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.models import Role
from modules.marketplace.models import Booking, BookingEvent, BookingStatus
from modules.marketplace.services import complete_finished_bookings, expire_pending_bookings
from tests.modules.marketplace.conftest import book, future, iso

pytestmark = pytest.mark.django_db


def test_student_books_a_free_slot_and_the_price_is_frozen(student, client_for, tutor_profile, subject, events):
    res = book(client_for(student), tutor_profile, subject, future(3, 10), duration=90, notes="Chapter 4")
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["status"] == "pending"
    assert body["price_minor"] == 9000 and body["currency"] == "USD"
    assert body["ends_at"].startswith(future(3, 11, 30).strftime("%Y-%m-%dT%H:%M"))
    assert body["history"][0]["action"] == "requested"
    tutor_profile.hourly_rate_minor = 10_000
    tutor_profile.save()
    assert client_for(student).get(f"/marketplace/bookings/{body['id']}").json()["price_minor"] == 9000
    assert [e.event_type for e in events] == ["marketplace.booking_requested.v1"]
    assert events[0].amount_minor == 9000


def test_the_same_slot_cannot_be_booked_twice(make_user, client_for, tutor_profile, subject):
    first = book(client_for(make_user(Role.STUDENT)), tutor_profile, subject, future(3, 10))
    assert first.status_code == 201
    again = book(client_for(make_user(Role.STUDENT)), tutor_profile, subject, future(3, 10, 30))
    assert again.status_code == 409
    assert again.json()["code"] == "slot_taken"
    assert Booking.objects.count() == 1


def test_a_student_cannot_hold_two_overlapping_bookings(student, client_for, make_tutor, subject):
    a, b = make_tutor(), make_tutor()
    assert book(client_for(student), a, subject, future(3, 10)).status_code == 201
    res = book(client_for(student), b, subject, future(3, 10, 30))
    assert res.status_code == 409 and res.json()["code"] == "student_busy"


def test_buffer_between_sessions_is_kept(make_user, client_for, make_tutor, subject):
    profile = make_tutor(buffer_minutes=15)
    assert book(client_for(make_user(Role.STUDENT)), profile, subject, future(3, 10)).status_code == 201
    assert book(client_for(make_user(Role.STUDENT)), profile, subject, future(3, 11)).json()["code"] == "slot_taken"
    assert book(client_for(make_user(Role.STUDENT)), profile, subject, future(3, 9)).json()["code"] == "slot_taken"
    assert book(client_for(make_user(Role.STUDENT)), profile, subject, future(3, 11, 15), duration=30).status_code == 201


@pytest.mark.parametrize(
    "starts_at, duration, status, code",
    [
        (lambda: future(-1, 10), 60, 400, "in_the_past"),
        (lambda: timezone.now() + dt.timedelta(hours=2), 60, 400, "inside_notice"),
        (lambda: future(70, 10), 60, 400, "beyond_horizon"),
        (lambda: future(3, 21), 60, 409, "outside_availability"),
        (lambda: future(3, 19, 30), 60, 409, "outside_availability"),
    ],
)
def test_a_time_the_tutor_cannot_take_answers_with_a_reason(
    student, client_for, tutor_profile, subject, starts_at, duration, status, code
):
    res = book(client_for(student), tutor_profile, subject, starts_at(), duration=duration)
    assert res.status_code == status, res.content
    assert res.json()["code"] == code
    assert res.json()["detail"]
    assert not Booking.objects.exists()


def test_a_length_the_tutor_does_not_offer_is_refused(student, client_for, make_tutor, subject):
    profile = make_tutor(session_lengths=[60])
    res = book(client_for(student), profile, subject, future(3, 10), duration=30)
    assert res.status_code == 400 and res.json()["code"] == "invalid_duration"


def test_a_pending_tutor_cannot_be_booked(student, client_for, make_tutor, subject):
    profile = make_tutor(status="pending_approval")
    assert book(client_for(student), profile, subject, future(3, 10)).status_code == 404


def test_only_students_book(tutor, client_for, tutor_profile, subject):
    assert book(client_for(tutor), tutor_profile, subject, future(3, 10)).status_code == 403


def test_write_schema_refuses_unknown_fields(student, client_for, tutor_profile, subject):
    res = book(client_for(student), tutor_profile, subject, future(3, 10), price_minor=1)
    assert res.status_code == 422


# --- the state machine ---------------------------------------------------------------------------


def _booking(student, client_for, tutor_profile, subject, when=None):
    res = book(client_for(student), tutor_profile, subject, when or future(3, 10))
    assert res.status_code == 201, res.content
    return res.json()["id"]


def test_tutor_confirms_and_an_online_booking_gets_a_meeting_link(student, client_for, tutor_profile, subject, events):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    res = client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/confirm")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["status"] == "confirmed"
    assert body["meeting_url"].startswith("https://meet.jit.si/tutoring-")
    assert len(body["meeting_url"].split("tutoring-", 1)[1]) >= 24
    assert [h["action"] for h in body["history"]] == ["requested", "confirmed"]
    assert body["history"][1]["actor_id"] == str(tutor_profile.user_id)
    assert events[-1].event_type == "marketplace.booking_confirmed.v1"


def test_a_student_cannot_confirm(student, client_for, tutor_profile, subject):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    res = client_for(student).post(f"/marketplace/bookings/{booking_id}/confirm")
    assert res.status_code == 403
    assert Booking.objects.get(pk=booking_id).status == "pending"


def test_another_students_booking_is_not_found(student, make_user, client_for, tutor_profile, subject, admin_user):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    other = client_for(make_user(Role.STUDENT))
    assert other.get(f"/marketplace/bookings/{booking_id}").status_code == 404
    assert other.post(f"/marketplace/bookings/{booking_id}/cancel", {"reason": "x"}).status_code == 404
    other_tutor = client_for(make_user(Role.TUTOR))
    assert other_tutor.post(f"/marketplace/bookings/{booking_id}/confirm").status_code == 404
    assert client_for(admin_user).get(f"/marketplace/bookings/{booking_id}").status_code == 200
    assert client_for(tutor_profile.user).get(f"/marketplace/bookings/{booking_id}").status_code == 200


def _set(booking_id, **fields):
    Booking.objects.filter(pk=booking_id).update(**fields)


ILLEGAL = [
    # (state set up, who acts, path)
    ("confirmed", "tutor", "confirm"),
    ("confirmed", "tutor", "decline"),
    ("declined", "tutor", "confirm"),
    ("declined", "student", "cancel"),
    ("expired", "tutor", "confirm"),
    ("cancelled", "tutor", "confirm"),
    ("cancelled", "student", "cancel"),
    ("completed", "student", "cancel"),
    ("completed", "tutor", "complete"),
    ("completed", "tutor", "no-show-student"),
    ("pending", "tutor", "complete"),
    ("pending", "tutor", "no-show-student"),
    ("pending", "admin", "no-show-tutor"),
    ("no_show_student", "tutor", "complete"),
    ("no_show_tutor", "student", "cancel"),
]


@pytest.mark.parametrize("state, who, action", ILLEGAL)
def test_every_illegal_transition_answers_409_and_changes_nothing(
    student, admin_user, client_for, tutor_profile, subject, state, who, action
):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    _set(booking_id, status=state)
    before = Booking.objects.get(pk=booking_id)
    history = BookingEvent.objects.filter(booking_id=booking_id).count()
    actor = {"tutor": tutor_profile.user, "student": student, "admin": admin_user}[who]
    res = client_for(actor).post(
        f"/marketplace/bookings/{booking_id}/{action}", {"reason": "r"} if action in ("decline", "cancel") else None
    )
    assert res.status_code == 409, res.content
    assert res.json()["code"] == "invalid_transition"
    after = Booking.objects.get(pk=booking_id)
    assert (after.status, after.updated_at, after.status_reason) == (before.status, before.updated_at, before.status_reason)
    assert BookingEvent.objects.filter(booking_id=booking_id).count() == history


def test_decline_with_reason_frees_the_slot(student, make_user, client_for, tutor_profile, subject, events):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    res = client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/decline", {"reason": "Away that week"})
    assert res.json()["status"] == "declined" and res.json()["status_reason"] == "Away that week"
    assert events[-1].event_type == "marketplace.booking_declined.v1"
    assert book(client_for(make_user(Role.STUDENT)), tutor_profile, subject, future(3, 10)).status_code == 201


def test_cancel_before_the_cutoff_is_refundable_after_is_not(student, client_for, tutor_profile, subject, settings):
    early = _booking(student, client_for, tutor_profile, subject, future(5, 10))
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{early}/confirm")
    res = client_for(student).post(f"/marketplace/bookings/{early}/cancel", {"reason": "Exam moved"})
    assert res.json()["status"] == "cancelled" and res.json()["refund_eligible"] is True

    settings.BOOKING_REFUND_CUTOFF_HOURS = 24 * 10
    late = _booking(student, client_for, tutor_profile, subject, future(6, 10))
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{late}/confirm")
    res = client_for(student).post(f"/marketplace/bookings/{late}/cancel", {"reason": "Changed my mind"})
    assert res.json()["refund_eligible"] is False
    # When the tutor cancels, the student is always refunded.
    third = _booking(student, client_for, tutor_profile, subject, future(7, 10))
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{third}/confirm")
    res = client_for(tutor_profile.user).post(f"/marketplace/bookings/{third}/cancel", {"reason": "Ill"})
    assert res.json()["refund_eligible"] is True


def test_complete_and_no_show_only_after_the_session(student, admin_user, client_for, tutor_profile, subject):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    tutor_client = client_for(tutor_profile.user)
    tutor_client.post(f"/marketplace/bookings/{booking_id}/confirm")
    assert tutor_client.post(f"/marketplace/bookings/{booking_id}/complete").json()["code"] == "not_ended"
    assert tutor_client.post(f"/marketplace/bookings/{booking_id}/no-show-student").json()["code"] == "not_started"
    past = timezone.now() - dt.timedelta(hours=2)
    _set(booking_id, starts_at=past, ends_at=past + dt.timedelta(hours=1), blocked_until=past + dt.timedelta(hours=1))
    assert client_for(student).post(f"/marketplace/bookings/{booking_id}/no-show-tutor").status_code == 403
    assert tutor_client.post(f"/marketplace/bookings/{booking_id}/no-show-student").json()["status"] == "no_show_student"


def test_admin_marks_tutor_no_show(student, admin_user, client_for, tutor_profile, subject):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/confirm")
    past = timezone.now() - dt.timedelta(minutes=30)
    _set(booking_id, starts_at=past, ends_at=past + dt.timedelta(hours=1), blocked_until=past + dt.timedelta(hours=1))
    assert client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/no-show-tutor").status_code == 403
    res = client_for(admin_user).post(f"/marketplace/bookings/{booking_id}/no-show-tutor")
    assert res.json()["status"] == "no_show_tutor" and res.json()["refund_eligible"] is True


def test_scheduled_tasks_expire_and_complete(student, make_user, client_for, tutor_profile, subject, events):
    stale = _booking(student, client_for, tutor_profile, subject, future(3, 10))
    _set(stale, created_at=timezone.now() - dt.timedelta(hours=25))
    fresh = _booking(student, client_for, tutor_profile, subject, future(4, 10))
    done = _booking(student, client_for, tutor_profile, subject, future(5, 10))
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{done}/confirm")
    past = timezone.now() - dt.timedelta(hours=5)
    _set(done, starts_at=past, ends_at=past + dt.timedelta(hours=1), blocked_until=past + dt.timedelta(hours=1))

    assert expire_pending_bookings() == 1
    assert expire_pending_bookings() == 0  # idempotent
    assert complete_finished_bookings() == 1
    assert complete_finished_bookings() == 0
    assert Booking.objects.get(pk=stale).status == BookingStatus.EXPIRED
    assert Booking.objects.get(pk=fresh).status == BookingStatus.PENDING
    assert Booking.objects.get(pk=done).status == BookingStatus.COMPLETED
    types = [e.event_type for e in events]
    assert "marketplace.booking_expired.v1" in types and "marketplace.booking_completed.v1" in types


def test_reschedule_holds_the_original_until_accepted(student, make_user, client_for, tutor_profile, subject, events):
    booking_id = _booking(student, client_for, tutor_profile, subject, future(3, 10))
    tutor_client = client_for(tutor_profile.user)
    tutor_client.post(f"/marketplace/bookings/{booking_id}/confirm")
    res = tutor_client.post(
        f"/marketplace/bookings/{booking_id}/reschedule", {"starts_at": iso(future(3, 14)), "reason": "Clash"}
    )
    assert res.status_code == 200, res.content
    assert res.json()["proposed_starts_at"].startswith(future(3, 14).strftime("%Y-%m-%dT%H:%M"))
    # the original time is still held
    assert book(client_for(make_user(Role.STUDENT)), tutor_profile, subject, future(3, 10)).json()["code"] == "slot_taken"
    # the proposer cannot accept their own proposal; a second proposal waits
    assert tutor_client.post(f"/marketplace/bookings/{booking_id}/reschedule/accept").status_code == 403
    again = tutor_client.post(f"/marketplace/bookings/{booking_id}/reschedule", {"starts_at": iso(future(3, 15))})
    assert again.json()["code"] == "reschedule_pending"
    res = client_for(student).post(f"/marketplace/bookings/{booking_id}/reschedule/accept")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["starts_at"].startswith(future(3, 14).strftime("%Y-%m-%dT%H:%M")) and body["status"] == "confirmed"
    assert body["proposed_starts_at"] is None
    assert [h["action"] for h in body["history"]][-2:] == ["reschedule_proposed", "rescheduled"]
    assert book(client_for(make_user(Role.STUDENT)), tutor_profile, subject, future(3, 10)).status_code == 201
    assert "marketplace.booking_rescheduled.v1" in [e.event_type for e in events]


def test_reschedule_declined_keeps_the_time(student, client_for, tutor_profile, subject):
    booking_id = _booking(student, client_for, tutor_profile, subject, future(3, 10))
    client_for(student).post(f"/marketplace/bookings/{booking_id}/reschedule", {"starts_at": iso(future(3, 16))})
    res = client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/reschedule/decline")
    assert res.json()["proposed_starts_at"] is None
    assert res.json()["starts_at"].startswith(future(3, 10).strftime("%Y-%m-%dT%H:%M"))
    assert (
        client_for(student).post(f"/marketplace/bookings/{booking_id}/reschedule/accept").json()["code"]
        == "no_reschedule_pending"
    )


def test_reschedule_to_an_unavailable_time_is_refused(student, client_for, tutor_profile, subject):
    booking_id = _booking(student, client_for, tutor_profile, subject, future(3, 10))
    res = client_for(student).post(f"/marketplace/bookings/{booking_id}/reschedule", {"starts_at": iso(future(3, 22))})
    assert res.status_code == 409 and res.json()["code"] == "outside_availability"


def test_booking_lists_for_student_and_tutor(student, client_for, tutor_profile, subject):
    a = _booking(student, client_for, tutor_profile, subject, future(3, 10))
    b = _booking(student, client_for, tutor_profile, subject, future(4, 10))
    client_for(tutor_profile.user).post(f"/marketplace/bookings/{b}/confirm")
    mine = client_for(student).get("/marketplace/bookings", {"when": "upcoming"}).json()
    assert [i["id"] for i in mine["items"]] == [a, b] and mine["total"] == 2
    confirmed = client_for(tutor_profile.user).get("/marketplace/bookings", {"status": "confirmed"}).json()
    assert [i["id"] for i in confirmed["items"]] == [b]
    assert client_for(student).get("/marketplace/bookings", {"when": "past"}).json()["total"] == 0
    assert client_for(student).get("/marketplace/bookings", {"status": "nonsense"}).status_code == 400


def _bulk_bookings(tutor_profile, student, subject, n, offset=0):
    Booking.objects.bulk_create(
        Booking(
            tutor=tutor_profile,
            tutor_user=tutor_profile.user,
            student=student,
            subject=subject,
            starts_at=future(2, 0) + dt.timedelta(hours=i),
            ends_at=future(2, 1) + dt.timedelta(hours=i),
            blocked_until=future(2, 1) + dt.timedelta(hours=i),
            duration_minutes=60,
            price_minor=100,
            currency="USD",
            status="declined",
        )
        for i in range(offset, offset + n)
    )


def test_booking_lists_use_the_same_number_of_queries_for_1_and_50_rows(student, client_for, tutor_profile, subject, settings):
    from core.testing import count_queries, describe

    settings.PUBLIC_READ_CACHE = False  # the view's own queries (the cache: test_public_cache.py)

    api = client_for(student)
    tutor_api = client_for(tutor_profile.user)
    _bulk_bookings(tutor_profile, student, subject, 1)
    api.get("/marketplace/bookings")  # warm the session cache
    tutor_api.get("/marketplace/bookings")
    with count_queries() as one:
        assert len(api.get("/marketplace/bookings", {"page_size": 100}).json()["items"]) == 1
    with count_queries() as one_tutor:
        assert len(tutor_api.get("/marketplace/bookings", {"page_size": 100}).json()["items"]) == 1
    _bulk_bookings(tutor_profile, student, subject, 49, offset=1)
    with count_queries() as fifty:
        assert len(api.get("/marketplace/bookings", {"page_size": 100}).json()["items"]) == 50
    with count_queries() as fifty_tutor:
        assert len(tutor_api.get("/marketplace/bookings", {"page_size": 100}).json()["items"]) == 50
    assert len(one) == len(fifty), describe(fifty)
    assert len(one_tutor) == len(fifty_tutor), describe(fifty_tutor)


def test_admins_list_every_booking_others_may_not(student, admin_user, client_for, tutor_profile, subject):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    res = client_for(admin_user).get("/marketplace/admin/bookings", {"tutor_id": str(tutor_profile.id), "status": "pending"})
    assert res.status_code == 200 and [b["id"] for b in res.json()["items"]] == [booking_id]
    assert client_for(student).get("/marketplace/admin/bookings").status_code == 403


def test_a_request_not_confirmed_before_its_start_expires(student, client_for, tutor_profile, subject):
    booking_id = _booking(student, client_for, tutor_profile, subject)
    started = timezone.now() - dt.timedelta(minutes=5)
    _set(booking_id, starts_at=started, ends_at=started + dt.timedelta(hours=1), blocked_until=started + dt.timedelta(hours=1))
    res = client_for(tutor_profile.user).post(f"/marketplace/bookings/{booking_id}/confirm")
    assert res.status_code == 409 and res.json()["code"] == "booking_started"
    assert expire_pending_bookings() == 1
    detail = client_for(student).get(f"/marketplace/bookings/{booking_id}").json()
    assert detail["status"] == "expired" and detail["history"][-1]["action"] == "expired"


def test_request_and_confirm_tell_the_other_party_in_a_bounded_number_of_statements(
    student, client_for, tutor_profile, subject, django_capture_on_commit_callbacks
):
    """The write paths the benchmark drives, with their commit handlers (notification, e-mail
    delivery row, reminder row, outbox): a regression guard on statements per request (on full data
    they went from 22 to 14 for a request and from 28 to 13 for a confirmation)."""
    from core.testing import count_queries, describe
    from modules.notifications.models import Notification, SessionReminder

    def before_the_email_task(ctx: object) -> list[str]:
        """Tests run django-q tasks inline (sync); the request's own statements end where the e-mail
        task takes its delivery."""
        sql = [q["sql"] for q in ctx.captured_queries]  # type: ignore[attr-defined]
        end = next((i for i, q in enumerate(sql) if "SET \"status\" = 'sending'" in q), len(sql))
        return sql[:end]

    api, tutor_api = client_for(student), client_for(tutor_profile.user)
    api.get("/marketplace/bookings")  # sessions and users warm, as for a signed-in client
    tutor_api.get("/marketplace/bookings")
    with count_queries() as created, django_capture_on_commit_callbacks(execute=True):
        res = book(api, tutor_profile, subject, future(3, 10))
    assert res.status_code == 201, res.content
    assert res.json()["tutor"]["name"] == tutor_profile.user.full_name and res.json()["subject"]["name"] == subject.name
    assert Notification.objects.filter(user=tutor_profile.user, type="marketplace.booking_requested").count() == 1
    with count_queries() as confirmed, django_capture_on_commit_callbacks(execute=True):
        res = tutor_api.post(f"/marketplace/bookings/{res.json()['id']}/confirm")
    assert res.status_code == 200, res.content
    assert [h["action"] for h in res.json()["history"]] == ["requested", "confirmed"]
    assert Notification.objects.filter(user=student, type="marketplace.booking_confirmed").count() == 1
    assert SessionReminder.objects.filter(booking_id=res.json()["id"]).exists()
    # Savepoints stand in for BEGIN/COMMIT inside the test's transaction.
    assert len(before_the_email_task(created)) <= 14, describe(created)
    assert len(before_the_email_task(confirmed)) <= 14, describe(confirmed)
