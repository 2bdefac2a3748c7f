"""Other modules' events, by type string, become notifications for the right people."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from core.notify import register_template
from core.registry import is_enabled
from modules.notifications import tasks
from modules.notifications.models import Notification, SessionReminder

pytestmark = pytest.mark.django_db


def titles(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("created_at", "id").values_list("title", flat=True))


def test_booking_requested_tells_the_tutor_only(student, tutor, emit, booking_fields):
    emit("marketplace.booking_requested.v1", **booking_fields())
    assert titles(tutor) == [f"New booking request from {student.full_name}"]
    assert titles(student) == []


def test_booking_confirmed_tells_both_in_their_own_time_zone(make_user, emit):
    student = make_user("student", timezone="Asia/Tokyo")
    tutor = make_user("tutor", timezone="America/New_York")
    booking_id = uuid.uuid4()
    starts = dt.datetime(2030, 1, 10, 15, 0, tzinfo=dt.UTC)
    emit(
        "marketplace.booking_confirmed.v1", booking_id=booking_id, student_id=student.pk, tutor_user_id=tutor.pk, starts_at=starts
    )
    s = Notification.objects.get(user=student)
    t = Notification.objects.get(user=tutor)
    assert "Friday 11 January 2030, 00:00 (Asia/Tokyo)" in s.body
    assert "Thursday 10 January 2030, 10:00 (America/New_York)" in t.body
    assert s.data["booking_id"] == str(booking_id) and s.category == "bookings"


def test_a_redelivered_event_notifies_once(student, tutor, emit, booking_fields):
    fields = booking_fields()
    emit("marketplace.booking_confirmed.v1", **fields)
    emit("marketplace.booking_confirmed.v1", **fields)
    assert Notification.objects.filter(user=student).count() == 1


def test_cancellation_carries_the_reason_and_drops_the_reminders(student, tutor, emit, booking_fields):
    fields = booking_fields()
    emit("marketplace.booking_confirmed.v1", **fields)
    assert SessionReminder.objects.filter(booking_id=fields["booking_id"]).exists()
    emit("marketplace.booking_cancelled.v1", **fields, reason="Tutor is ill")
    body = Notification.objects.get(user=student, type="notifications.booking_cancelled").body
    assert "Reason: Tutor is ill" in body
    assert not SessionReminder.objects.exists()


def test_rescheduling_tells_both_and_moves_the_reminders(student, tutor, emit, booking_fields):
    fields = booking_fields()
    emit("marketplace.booking_confirmed.v1", **fields)
    later = fields["starts_at"] + dt.timedelta(days=1)
    emit("marketplace.booking_rescheduled.v1", **{**fields, "starts_at": later})
    assert Notification.objects.filter(type="notifications.booking_rescheduled").count() == 2
    assert SessionReminder.objects.get().starts_at == later


def test_a_redelivered_confirmation_keeps_sent_reminders_and_a_move_resets_them(student, tutor, emit, booking_fields):
    fields = booking_fields()
    emit("marketplace.booking_confirmed.v1", **fields)
    sent = timezone.now()
    SessionReminder.objects.update(reminded_24h_at=sent)
    emit("marketplace.booking_confirmed.v1", **fields)  # the outbox redelivers it
    row = SessionReminder.objects.get()
    assert row.reminded_24h_at == sent and row.starts_at == fields["starts_at"]
    later = fields["starts_at"] + dt.timedelta(days=2)
    emit("marketplace.booking_rescheduled.v1", **{**fields, "starts_at": later})
    row = SessionReminder.objects.get()
    assert row.starts_at == later and row.reminded_24h_at is None and row.reminded_1h_at is None


def test_reminders_24h_and_1h_before_a_session_once_each(student, tutor, emit, booking_fields):
    now = timezone.now()
    soon = booking_fields(starts_at=now + dt.timedelta(minutes=40))
    tomorrow = booking_fields(starts_at=now + dt.timedelta(hours=20))
    far = booking_fields(starts_at=now + dt.timedelta(days=3))
    for fields in (soon, tomorrow, far):
        emit("marketplace.booking_confirmed.v1", **fields)
    assert tasks.send_session_reminders() == 4  # two people, two sessions
    assert tasks.send_session_reminders() == 0
    types = list(
        Notification.objects.filter(user=student, type__startswith="notifications.session_reminder").values_list(
            "type", flat=True
        )
    )
    assert sorted(types) == ["notifications.session_reminder_1h", "notifications.session_reminder_24h"]
    assert Notification.objects.filter(user=tutor, type="notifications.session_reminder_1h").count() == 1


@pytest.mark.parametrize(
    "event_type, field, extra, category, title",
    [
        (
            "payments.payment_succeeded.v1",
            "user_id",
            {"amount_minor": 4500, "currency": "EUR"},
            "payments",
            "Payment received: 45.00 EUR",
        ),
        (
            "payments.payment_succeeded.v1",
            "user_id",
            {"amount_minor": 5000, "currency": "JPY"},
            "payments",
            "Payment received: 5,000 JPY",
        ),
        (
            "payments.withdrawal_processed.v1",
            "tutor_user_id",
            {"amount_minor": 12000, "currency": "USD", "status": "paid"},
            "payments",
            "Withdrawal paid: 120.00 USD",
        ),
        (
            "marketplace.review_created.v1",
            "tutor_user_id",
            {"review_id": uuid.uuid4(), "rating": 5},
            "reviews",
            "New review: 5 of 5",
        ),
        ("marketplace.tutor_approved.v1", "tutor_user_id", {}, "system", "Your tutor profile is approved"),
        (
            "marketplace.tutor_rejected.v1",
            "tutor_user_id",
            {"reason": "CV unreadable"},
            "system",
            "Your tutor profile needs changes",
        ),
    ],
)
def test_money_review_and_tutor_events(tutor, emit, event_type, field, extra, category, title):
    emit(event_type, **{field: tutor.pk}, **extra)
    n = Notification.objects.get(user=tutor)
    assert (n.category, n.title) == (category, title)
    if "reason" in extra:
        assert "CV unreadable" in n.body


def test_an_event_lacking_fields_is_skipped_without_error(tutor, emit):
    emit("marketplace.booking_confirmed.v1", booking_id=uuid.uuid4())  # no users
    emit("payments.payment_succeeded.v1", amount_minor=100, currency="USD")  # no user_id
    emit("marketplace.review_created.v1", tutor_user_id=uuid.uuid4(), rating=4)  # unknown user
    assert not Notification.objects.exists()


@override_settings(NOTIFICATIONS_MESSAGE_DELAY_MINUTES=10)
def test_new_message_is_notified_only_when_still_unread_after_ten_minutes(student, tutor, emit):
    now = timezone.now()

    def sent(minutes_ago: float) -> uuid.UUID:
        mid = uuid.uuid4()
        emit(
            "messaging.message_sent.v1",
            message_id=mid,
            thread_id=uuid.uuid4(),
            sender_id=tutor.pk,
            recipient_id=student.pk,
            created_at=now - dt.timedelta(minutes=minutes_ago),
            has_attachment=False,
        )
        return mid

    old_unread_1, old_unread_2 = sent(12), sent(11)
    old_read = sent(15)
    old_deleted = sent(14)
    fresh = sent(2)
    emit("messaging.messages_read.v1", reader_id=student.pk, thread_id=uuid.uuid4(), message_ids=(str(old_read),))
    emit("messaging.message_deleted.v1", message_id=old_deleted, sender_id=tutor.pk, recipient_id=student.pk)

    assert tasks.scan_unread_messages() == 1
    n = Notification.objects.get(user=student)
    assert n.title == f"2 new messages from {tutor.full_name}" and n.category == "messages"
    assert set(n.data["message_ids"]) == {str(old_unread_1), str(old_unread_2)}
    assert tasks.scan_unread_messages() == 0  # the fresh one is not due; the others are done
    assert fresh not in n.data["message_ids"]
    assert not Notification.objects.filter(user=tutor).exists()


@pytest.mark.skipif(not is_enabled("messaging"), reason="needs the messaging module")
@override_settings(NOTIFICATIONS_MESSAGE_DELAY_MINUTES=0)
def test_with_messaging_on_an_unread_message_is_notified_and_a_read_one_is_not(
    student, admin_user, client_for, django_capture_on_commit_callbacks
):
    admin = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        first = admin.post("/messaging/messages", {"recipient_id": str(student.pk), "body": "Please update your profile"}).json()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(student).post(f"/messaging/messages/{first['id']}/read")
    assert tasks.scan_unread_messages() == 0
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/messaging/messages", {"recipient_id": str(student.pk), "body": "Still waiting"})
    assert tasks.scan_unread_messages() == 1
    assert client_for(student).get("/notifications").json()["items"][0]["title"] == f"New message from {admin_user.full_name}"


def test_a_publisher_that_notifies_itself_is_not_doubled(student, tutor, emit, booking_fields):
    register_template("marketplace.booking_confirmed", category="bookings", subject="Confirmed", text="Confirmed.")
    fields = booking_fields(starts_at=timezone.now() + dt.timedelta(hours=5))
    emit("marketplace.booking_confirmed.v1", **fields)
    assert not Notification.objects.exists()  # the publishing module's own handler tells its users
    assert SessionReminder.objects.filter(booking_id=fields["booking_id"]).exists()  # reminders are still ours
