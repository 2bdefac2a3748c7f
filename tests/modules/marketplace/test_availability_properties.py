"""Property tests of the pure availability expansion: wall-clock rules survive every DST rule we know."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from modules.marketplace.availability import BusyIndex, DayException, Rule, availability_utc, free_slots

ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Africa/Cairo",
    "UTC",
]
RULES = [Rule(d, dt.time(9), dt.time(17)) for d in range(7)]


def _expand(zone: str, first: dt.date, days: int, exceptions=()):
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(first, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(first + dt.timedelta(days=days), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    availability = availability_utc(tz_name=zone, rules=RULES, exceptions=exceptions, start=start, end=end)
    return free_slots(
        availability=availability,
        busy=BusyIndex([]),
        duration=60,
        buffer=0,
        earliest=start,
        latest=end,
        window_start=start,
        window_end=end,
    ), tz


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES), offset=st.integers(min_value=0, max_value=730), days=st.integers(min_value=1, max_value=10))
def test_every_day_has_the_same_local_slots_whatever_the_offset(zone, offset, days):
    first = dt.date(2026, 1, 1) + dt.timedelta(days=offset)
    slots, tz = _expand(zone, first, days)
    by_day: dict[dt.date, list[str]] = {}
    for s in slots:
        local = s.astimezone(tz)
        by_day.setdefault(local.date(), []).append(local.strftime("%H:%M"))
    expected = [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)][:15]
    assert sorted(by_day) == [first + dt.timedelta(days=i) for i in range(days)]
    assert all(times == expected for times in by_day.values()), by_day


@settings(max_examples=30, deadline=None)
@given(zone=st.sampled_from(ZONES), offset=st.integers(min_value=0, max_value=730))
def test_a_day_off_removes_exactly_that_local_day(zone, offset):
    first = dt.date(2026, 1, 1) + dt.timedelta(days=offset)
    off = first + dt.timedelta(days=1)
    slots, tz = _expand(zone, first, 3, exceptions=[DayException(off, "off", None, None)])
    days = {s.astimezone(tz).date() for s in slots}
    assert days == {first, first + dt.timedelta(days=2)}


def test_busy_index_overlap_is_half_open():
    t = dt.datetime(2027, 1, 1, 10, tzinfo=dt.UTC)
    busy = BusyIndex([(t, t + dt.timedelta(hours=1))])
    assert busy.overlaps(t + dt.timedelta(minutes=30), t + dt.timedelta(minutes=90))
    assert not busy.overlaps(t + dt.timedelta(hours=1), t + dt.timedelta(hours=2))
    assert not busy.overlaps(t - dt.timedelta(hours=1), t)
