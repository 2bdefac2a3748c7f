"""Preferences and quiet hours decide which channels a notification uses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from core.models import EffectKey, User
from core.notify import notify
from modules.notifications import tasks
from modules.notifications.models import Delivery, Notification, QuietHours
from modules.notifications.services import quiet_until

pytestmark = pytest.mark.django_db


def generic(user: User, key: str = "k1") -> None:
    notify(user, "bookings", "notifications.booking_confirmed", {"other_name": "Ada", "starts_at_local": "Monday"}, key=key)


def quiet_now(client, user: User) -> None:
    """Quiet hours from an hour ago to an hour ahead, in the user's own zone."""
    local = timezone.now().astimezone(ZoneInfo(user.timezone))
    start, end = (local - dt.timedelta(hours=1)).time(), (local + dt.timedelta(hours=1)).time()
    res = client.put(
        "/notifications/preferences", {"quiet_hours": {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}}
    )
    assert res.status_code == 200, res.content


def test_defaults_use_every_channel(student, push, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        generic(student)
    assert Notification.objects.get(user=student).in_app
    assert [m.to for m in mailoutbox] == [[student.email]]
    assert [p["user"] for p in push.sent] == [student.pk]
    assert EffectKey.objects.filter(key="email:k1").exists()  # the record core's default notifier also keeps


def test_email_off_for_a_category_sends_no_email_but_keeps_in_app_and_push(
    student, client_for, push, mailoutbox, django_capture_on_commit_callbacks
):
    res = client_for(student).put("/notifications/preferences", {"categories": [{"category": "bookings", "email": False}]})
    assert res.status_code == 200, res.content
    bookings = next(c for c in res.json()["categories"] if c["category"] == "bookings")
    assert bookings == {"category": "bookings", "in_app": True, "email": False, "push": True}
    with django_capture_on_commit_callbacks(execute=True):
        generic(student)
        notify(student, "payments", "notifications.payment_received", {"amount": "10.00 USD"}, key="pay")
    assert [m.subject for m in mailoutbox] == ["Payment received: 10.00 USD"]  # other categories unaffected
    assert len(push.sent) == 2
    assert client_for(student).get("/notifications").json()["items"][1]["type"] == "notifications.booking_confirmed"


def test_in_app_off_keeps_it_out_of_the_centre_but_email_still_goes(
    student, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    client_for(student).put("/notifications/preferences", {"categories": [{"category": "bookings", "in_app": False}]})
    with django_capture_on_commit_callbacks(execute=True):
        generic(student)
    assert client_for(student).get("/notifications").json()["items"] == []
    assert client_for(student).get("/notifications/unread-count").json() == {"unread_count": 0}
    assert len(mailoutbox) == 1


def test_every_channel_off_records_nothing(student, client_for, push, mailoutbox, django_capture_on_commit_callbacks):
    client_for(student).put(
        "/notifications/preferences", {"categories": [{"category": "bookings", "in_app": False, "email": False, "push": False}]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        generic(student)
    assert not Notification.objects.exists() and mailoutbox == [] and push.sent == []


def test_quiet_hours_silence_push_and_hold_email_until_they_end(
    make_user, client_for, push, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user("student", timezone="Asia/Tokyo")
    quiet_now(client_for(user), user)
    with django_capture_on_commit_callbacks(execute=True):
        generic(user)
    # in-app arrives at once; push is suppressed; e-mail waits
    assert client_for(user).get("/notifications/unread-count").json() == {"unread_count": 1}
    assert push.sent == [] and mailoutbox == []
    assert Delivery.objects.get(channel="push").status == "suppressed"
    email = Delivery.objects.get(channel="email")
    assert email.status == "deferred"
    local_end = email.send_after.astimezone(ZoneInfo("Asia/Tokyo"))
    expected_end = (timezone.now().astimezone(ZoneInfo("Asia/Tokyo")) + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    assert abs(local_end - expected_end) <= dt.timedelta(minutes=1)

    assert tasks.send_deferred_emails() == 0 and mailoutbox == []  # still quiet
    Delivery.objects.filter(pk=email.pk).update(send_after=timezone.now() - dt.timedelta(seconds=1))  # the hour has passed
    assert tasks.send_deferred_emails() == 1
    assert [m.to for m in mailoutbox] == [[user.email]]
    assert tasks.send_deferred_emails() == 0 and len(mailoutbox) == 1


def test_quiet_hours_outside_the_window_change_nothing(
    make_user, client_for, push, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user("tutor", timezone="America/New_York")
    local = timezone.now().astimezone(ZoneInfo("America/New_York"))
    start, end = (local + dt.timedelta(hours=2)).time(), (local + dt.timedelta(hours=3)).time()
    client_for(user).put("/notifications/preferences", {"quiet_hours": {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}})
    with django_capture_on_commit_callbacks(execute=True):
        generic(user)
    assert len(mailoutbox) == 1 and len(push.sent) == 1


@pytest.mark.parametrize(
    "zone, start, end, utc_now, expected_end_utc",
    [
        # 22:00-07:00 in Tokyo (UTC+9): 23:30 local is quiet until 07:00 local next day = 22:00 UTC
        ("Asia/Tokyo", "22:00", "07:00", "2030-01-10T14:30", "2030-01-10T22:00"),
        # 02:00 local, after midnight, still in the same window
        ("Asia/Tokyo", "22:00", "07:00", "2030-01-10T17:00", "2030-01-10T22:00"),
        # 12:00 local: not quiet
        ("Asia/Tokyo", "22:00", "07:00", "2030-01-10T03:00", None),
        # London across the spring-forward night (31 March 2030): 01:30 UTC is 02:30 BST, ends 07:00 BST = 06:00 UTC
        ("Europe/London", "22:00", "07:00", "2030-03-31T01:30", "2030-03-31T06:00"),
        # A same-day window 13:00-14:00 in New York (UTC-5 in January)
        ("America/New_York", "13:00", "14:00", "2030-01-10T18:15", "2030-01-10T19:00"),
    ],
)
def test_quiet_hours_are_computed_in_the_users_zone(make_user, zone, start, end, utc_now, expected_end_utc):
    user = make_user("student", timezone=zone)
    window = QuietHours(user=user, start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end))
    now = dt.datetime.fromisoformat(utc_now).replace(tzinfo=dt.UTC)
    got = quiet_until(user, now, window=window)
    expected = dt.datetime.fromisoformat(expected_end_utc).replace(tzinfo=dt.UTC) if expected_end_utc else None
    assert got == expected


def test_preferences_api_shape_and_validation(student, client_for):
    c = client_for(student)
    body = c.get("/notifications/preferences").json()
    assert body["timezone"] == "UTC" and body["quiet_hours"] is None and body["push_available"] is False
    assert [x["category"] for x in body["categories"]] == [
        "bookings",
        "messages",
        "payments",
        "reviews",
        "study_reminders",
        "reports",
        "system",
    ]
    assert all(x["in_app"] and x["email"] and x["push"] for x in body["categories"])
    res = c.put("/notifications/preferences", {"quiet_hours": {"start": "22:00", "end": "07:00"}})
    assert res.json()["quiet_hours"] == {"start": "22:00:00", "end": "07:00:00"}
    assert c.put("/notifications/preferences", {"categories": [{"category": "gossip", "email": False}]}).status_code == 422
    assert c.put("/notifications/preferences", {"quiet_hours": {"start": "22:00", "end": "22:00"}}).status_code == 422
    assert c.put("/notifications/preferences", {"unknown": 1}).status_code == 422
    # leaving quiet_hours out keeps them; null turns them off
    assert c.put("/notifications/preferences", {"categories": []}).json()["quiet_hours"] is not None
    assert c.put("/notifications/preferences", {"quiet_hours": None}).json()["quiet_hours"] is None


@pytest.mark.django_db(transaction=True)
def test_a_notification_is_never_left_without_its_email_delivery(student, mailoutbox):
    """Handlers notify after commit, outside any transaction. When the e-mail delivery row cannot be
    written (here a trigger refuses it), the notification is not kept on its own: the event's
    redelivery (the same key, which makes a second notify a no-op) then writes both, and the e-mail goes."""
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_delivery() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_delivery BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_delivery()"
            )
        else:
            cursor.execute(f"CREATE TRIGGER refuse_delivery BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'refused'); END")
    try:
        with pytest.raises(DatabaseError):
            generic(student)
        assert not Notification.objects.filter(user=student).exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER refuse_delivery{' ON ' + table if connection.vendor == 'postgresql' else ''}")
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION refuse_delivery()")
    generic(student)  # the redelivery
    n = Notification.objects.get(user=student)
    assert Delivery.objects.filter(notification=n, channel="email").exists()
    assert [m.to for m in mailoutbox] == [[student.email]]
