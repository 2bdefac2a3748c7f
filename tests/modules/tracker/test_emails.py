"""Morning plans and evening reminders fire at each user's own local time, at most once a local day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from modules.tracker.tasks import send_evening_reminders, send_morning_emails
from tests.modules.tracker.conftest import make_course

pytestmark = pytest.mark.django_db

DAY = "2031-03-11"  # US clocks have moved (PDT, UTC-7); UK clocks have not (GMT); Tokyo is UTC+9


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def three_zones(make_user, client_for):
    users = {}
    for tz in ("Asia/Tokyo", "Europe/London", "America/Los_Angeles"):
        user = make_user(timezone=tz)
        api = client_for(user)
        course = make_course(api, "CS201", name="Data Structures")
        for start, minutes, topic in (("09:00", 120, "Binary trees"), ("14:00", 30, "Heaps")):
            res = api.post(
                "/tracker/plans",
                {"course_id": course["id"], "topic": topic, "date": DAY, "start_time": start, "planned_minutes": minutes},
            )
            assert res.status_code == 201, res.content
        users[tz] = user
    mail.outbox.clear()
    return users


def run(task, instant: str, capture) -> list:
    before = len(mail.outbox)
    with capture(execute=True):
        task(now=utc(instant))
    return mail.outbox[before:]


def test_morning_emails_fire_at_each_users_own_seven_oclock(three_zones, django_capture_on_commit_callbacks):
    cap = django_capture_on_commit_callbacks
    tokyo, london, la = three_zones["Asia/Tokyo"], three_zones["Europe/London"], three_zones["America/Los_Angeles"]
    assert run(send_morning_emails, "2031-03-10T21:45:00", cap) == []  # 06:45 in Tokyo
    sent = run(send_morning_emails, "2031-03-10T22:00:00", cap)  # 07:00 in Tokyo
    assert [m.to for m in sent] == [[tokyo.email]]
    assert DAY in sent[0].subject and "2.50" in sent[0].subject
    assert "09:00 Data Structures: Binary trees (120 min)" in sent[0].body
    assert run(send_morning_emails, "2031-03-10T22:30:00", cap) == []  # the same hour again: nothing more
    assert [m.to for m in run(send_morning_emails, "2031-03-11T07:00:00", cap)] == [[london.email]]
    assert run(send_morning_emails, "2031-03-11T07:45:00", cap) == []
    assert run(send_morning_emails, "2031-03-11T13:45:00", cap) == []  # 06:45 PDT
    assert [m.to for m in run(send_morning_emails, "2031-03-11T14:00:00", cap)] == [[la.email]]  # 07:00 PDT, not 15:00
    assert run(send_morning_emails, "2031-03-11T14:00:00", cap) == []  # a duplicate run of the same tick


def test_every_quarter_hour_for_two_days_sends_exactly_one_each(three_zones, django_capture_on_commit_callbacks):
    instant = utc("2031-03-10T00:00:00")
    with django_capture_on_commit_callbacks(execute=True):
        while instant < utc("2031-03-12T12:00:00"):
            send_morning_emails(now=instant)
            instant += dt.timedelta(minutes=15)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in three_zones.values())


def test_no_morning_email_without_plans_or_when_turned_off(make_user, client_for, django_capture_on_commit_callbacks):
    quiet = make_user(timezone="Europe/London")
    make_course(client_for(quiet), "X1")  # a tracker user with no plans that day
    off = make_user(timezone="Europe/London")
    api = client_for(off)
    course = make_course(api, "X2")
    api.post(
        "/tracker/plans", {"course_id": course["id"], "topic": "t", "date": DAY, "start_time": "09:00", "planned_minutes": 30}
    )
    api.patch("/tracker/preferences", {"email_enabled": False})
    mail.outbox.clear()
    assert run(send_morning_emails, "2031-03-11T07:00:00", django_capture_on_commit_callbacks) == []


def test_morning_time_is_the_users_choice(make_user, client_for, django_capture_on_commit_callbacks):
    user = make_user(timezone="Asia/Tokyo")
    api = client_for(user)
    course = make_course(api)
    api.post(
        "/tracker/plans", {"course_id": course["id"], "topic": "t", "date": DAY, "start_time": "09:00", "planned_minutes": 30}
    )
    api.patch(
        "/tracker/preferences", {"morning_email_time": "06:30", "time_zone": "Europe/Paris"}
    )  # own zone overrides the profile's
    mail.outbox.clear()
    assert (
        run(send_morning_emails, "2031-03-10T21:30:00", django_capture_on_commit_callbacks) == []
    )  # 06:30 Tokyo: not the zone in use
    assert run(send_morning_emails, "2031-03-11T05:15:00", django_capture_on_commit_callbacks) == []  # 06:15 Paris (CET)
    assert len(run(send_morning_emails, "2031-03-11T05:30:00", django_capture_on_commit_callbacks)) == 1  # 06:30 Paris


def test_evening_reminder_only_without_a_plan_for_tomorrow(make_user, client_for, django_capture_on_commit_callbacks):
    """21:00 PDT on 11 March is 04:00 UTC on the 12th."""
    planner = make_user(timezone="America/Los_Angeles")
    api = client_for(planner)
    course = make_course(api)
    api.post(
        "/tracker/plans",
        {"course_id": course["id"], "topic": "t", "date": "2031-03-12", "start_time": "09:00", "planned_minutes": 30},
    )
    forgetful = make_user(timezone="America/Los_Angeles")
    make_course(client_for(forgetful), "F1")
    mail.outbox.clear()
    cap = django_capture_on_commit_callbacks
    assert run(send_evening_reminders, "2031-03-12T03:45:00", cap) == []
    sent = run(send_evening_reminders, "2031-03-12T04:00:00", cap)
    assert [m.to for m in sent] == [[forgetful.email]]
    assert "2031-03-12" in sent[0].subject
    assert run(send_evening_reminders, "2031-03-12T04:30:00", cap) == []
