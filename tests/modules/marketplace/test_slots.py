from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from core.models import Role
from modules.marketplace.models import AvailabilityRule
from tests.modules.marketplace.conftest import book, future, iso

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def _nth_sunday(year: int, month: int, n: int) -> dt.date:
    day = dt.date(year, month, 1)
    day += dt.timedelta(days=(6 - day.weekday()) % 7)
    return day + dt.timedelta(weeks=n - 1)


def _next_change(month: int, n: int) -> dt.date:
    """The next US DST change (second Sunday of March, first Sunday of November) after next week."""
    today = timezone.now().date() + dt.timedelta(days=7)
    change = _nth_sunday(today.year, month, n)
    return change if change > today else _nth_sunday(today.year + 1, month, n)


@pytest.fixture
def ny_tutor(make_tutor):
    profile = make_tutor(tz="America/New_York", hours=("09:00", "10:00"), horizon_days=365)
    return profile


def _slots(anon, profile, start, end, tz, duration=60):
    res = anon.get(
        f"/marketplace/tutors/{profile.id}/slots",
        {"start": start.isoformat(), "end": end.isoformat(), "tz": tz, "duration": duration},
    )
    assert res.status_code == 200, res.content
    return res.json()["slots"]


@pytest.mark.parametrize("month, n, before, after", [(3, 2, "-05:00", "-04:00"), (11, 1, "-04:00", "-05:00")])
def test_a_0900_rule_stays_0900_local_across_dst(anon, ny_tutor, month, n, before, after):
    change = _next_change(month, n)
    slots = _slots(anon, ny_tutor, change - dt.timedelta(days=1), change + dt.timedelta(days=1), "America/New_York")
    assert [s["start_local"] for s in slots] == [
        f"{change - dt.timedelta(days=1)}T09:00:00{before}",
        f"{change}T09:00:00{after}",
        f"{change + dt.timedelta(days=1)}T09:00:00{after}",
    ]
    utc_hours = [dt.datetime.fromisoformat(s["start_utc"].replace("Z", "+00:00")).hour for s in slots]
    offset_before, offset_after = int(before[1:3]), int(after[1:3])
    assert utc_hours == [9 + offset_before, 9 + offset_after, 9 + offset_after]


def test_slots_in_the_students_zone_on_the_dst_day(anon, ny_tutor):
    change = _next_change(3, 2)
    slots = _slots(anon, ny_tutor, change, change, "Europe/Berlin")
    # Berlin has not changed yet in mid-March: 09:00 EDT = 13:00 UTC = 14:00 CET.
    assert [s["start_local"] for s in slots] == [f"{change}T14:00:00+01:00"]
    assert slots[0]["start_utc"].startswith(f"{change}T13:00:00")


def test_booking_follows_the_local_rule_after_the_change(student, client_for, ny_tutor, subject):
    change = _next_change(3, 2)
    monday = change + dt.timedelta(days=1)
    at_13z = dt.datetime.combine(monday, dt.time(13), tzinfo=dt.UTC)
    at_14z = dt.datetime.combine(monday, dt.time(14), tzinfo=dt.UTC)
    assert book(client_for(student), ny_tutor, subject, at_14z).json()["code"] == "outside_availability"
    assert book(client_for(student), ny_tutor, subject, at_13z).status_code == 201


def test_slots_leave_out_bookings_buffer_notice_and_horizon(anon, student, client_for, make_tutor, subject):
    profile = make_tutor(hours=("09:00", "12:00"), buffer_minutes=30)
    day = future(3).date()
    starts = [s["start_utc"][11:16] for s in _slots(anon, profile, day, day, "UTC")]
    assert starts == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert book(client_for(student), profile, subject, future(3, 10)).status_code == 201
    starts = [s["start_utc"][11:16] for s in _slots(anon, profile, day, day, "UTC")]
    # 10:00-11:00 taken, with 30 minutes either side kept free
    assert starts == []
    starts30 = [s["start_utc"][11:16] for s in _slots(anon, profile, day, day, "UTC", duration=30)]
    assert starts30 == ["09:00", "11:30"]
    # nothing inside the 12-hour notice, nothing beyond the horizon
    today = timezone.now().date()
    soon = [s for s in _slots(anon, profile, today, today + dt.timedelta(days=1), "UTC")]
    assert all(
        dt.datetime.fromisoformat(s["start_utc"].replace("Z", "+00:00")) >= timezone.now() + dt.timedelta(hours=12) for s in soon
    )
    far = today + dt.timedelta(days=61)
    assert _slots(anon, profile, far, far + dt.timedelta(days=2), "UTC") == []


def test_exceptions_take_a_day_off_and_add_hours(client_for, anon, make_tutor):
    profile = make_tutor(hours=("09:00", "10:00"))
    tutor_api = client_for(profile.user)
    day = future(4).date()
    assert (
        tutor_api.post("/marketplace/tutors/me/availability/exceptions", {"date": day.isoformat(), "kind": "off"}).status_code
        == 201
    )
    assert _slots(anon, profile, day, day, "UTC") == []
    res = tutor_api.post(
        "/marketplace/tutors/me/availability/exceptions",
        {"date": day.isoformat(), "kind": "extra", "start_time": "18:00", "end_time": "19:00"},
    )
    assert res.status_code == 201
    assert [s["start_utc"][11:16] for s in _slots(anon, profile, day, day, "UTC")] == ["18:00"]
    assert tutor_api.delete(f"/marketplace/tutors/me/availability/exceptions/{res.json()['id']}").status_code == 204


def test_a_range_over_62_days_answers_400(anon, tutor_profile):
    start = timezone.now().date()
    res = anon.get(
        f"/marketplace/tutors/{tutor_profile.id}/slots",
        {"start": start.isoformat(), "end": (start + dt.timedelta(days=62)).isoformat()},
    )
    assert res.status_code == 400 and res.json()["code"] == "range_too_long"
    ok = anon.get(
        f"/marketplace/tutors/{tutor_profile.id}/slots",
        {"start": start.isoformat(), "end": (start + dt.timedelta(days=61)).isoformat()},
    )
    assert ok.status_code == 200


def test_slots_refuse_bad_zone_and_length(anon, tutor_profile):
    day = future(3).date().isoformat()
    assert (
        anon.get(f"/marketplace/tutors/{tutor_profile.id}/slots", {"start": day, "end": day, "tz": "Mars/Base"}).status_code
        == 422
    )
    res = anon.get(f"/marketplace/tutors/{tutor_profile.id}/slots", {"start": day, "end": day, "duration": 25})
    assert res.status_code == 400 and res.json()["code"] == "invalid_duration"


def test_schedule_bulk_replace_add_and_delete_rule(client_for, anon, make_tutor):
    profile = make_tutor(hours=("09:00", "10:00"))
    api = client_for(profile.user)
    day = future(5).date()
    rules = [{"weekday": d, "start_time": "15:00", "end_time": "16:30"} for d in range(7)]
    res = api.put("/marketplace/tutors/me/availability/rules", {"rules": rules})
    assert res.status_code == 200 and len(res.json()) == 7
    assert AvailabilityRule.objects.filter(profile=profile).count() == 7
    assert [s["start_utc"][11:16] for s in _slots(anon, profile, day, day, "UTC")] == ["15:00", "15:30"]
    added = api.post(
        "/marketplace/tutors/me/availability/rules", {"weekday": day.weekday(), "start_time": "07:00", "end_time": "08:00"}
    )
    assert added.status_code == 201
    assert [s["start_utc"][11:16] for s in _slots(anon, profile, day, day, "UTC")] == ["07:00", "15:00", "15:30"]
    assert api.delete(f"/marketplace/tutors/me/availability/rules/{added.json()['id']}").status_code == 204
    assert (
        api.post(
            "/marketplace/tutors/me/availability/rules", {"weekday": 1, "start_time": "10:00", "end_time": "09:00"}
        ).status_code
        == 422
    )
    settings = api.patch(
        "/marketplace/tutors/me/availability", {"min_notice_minutes": 60, "buffer_minutes": 10, "session_lengths": [60, 90]}
    )
    assert settings.status_code == 200 and settings.json()["session_lengths"] == [60, 90]


def test_slots_of_a_pending_tutor_are_not_public(anon, make_tutor):
    profile = make_tutor(status="pending_approval")
    day = future(3).date().isoformat()
    assert anon.get(f"/marketplace/tutors/{profile.id}/slots", {"start": day, "end": day}).status_code == 404


def test_only_tutors_edit_availability(student, client_for):
    assert client_for(student).put("/marketplace/tutors/me/availability/rules", {"rules": []}).status_code == 403
    assert Role.STUDENT == "student"


def test_slot_cache_is_invalidated_by_a_booking(anon, student, client_for, make_tutor, subject):
    profile = make_tutor(hours=("09:00", "10:00"))
    day = future(3).date()
    assert len(_slots(anon, profile, day, day, "UTC")) == 1
    assert book(client_for(student), profile, subject, future(3, 9)).status_code == 201
    assert _slots(anon, profile, day, day, "UTC") == []
    assert iso(future(3, 9)).endswith("Z")


def test_an_evening_rule_ending_2359_runs_to_midnight(anon, make_tutor):
    profile = make_tutor(hours=("22:00", "23:59"))
    day = future(3).date()
    assert [s["start_utc"][11:16] for s in _slots(anon, profile, day, day, "UTC")] == ["22:00", "22:30", "23:00"]
