"""Expanding weekly rules and date exceptions into free times. Pure functions: no queries here.

Rules live in the tutor's IANA zone; a 09:00 rule is 09:00 local on both sides of a DST change
because each local date is combined with its wall-clock times and only then converted to UTC.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC
SLOT_STEP_MINUTES = 30


@dataclass(frozen=True)
class Rule:
    weekday: int
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class DayException:
    date: dt.date
    kind: str  # "off" | "extra"
    start: dt.time | None
    end: dt.time | None


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _subtract(intervals: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for a, b in intervals:
        if cut[1] <= a or cut[0] >= b:
            out.append((a, b))
            continue
        if a < cut[0]:
            out.append((a, cut[0]))
        if cut[1] < b:
            out.append((cut[1], b))
    return out


def _union(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _end_minutes(t: dt.time) -> int:
    """An end of 23:59 means the end of the day (a TimeField cannot hold 24:00)."""
    return 24 * 60 if (t.hour, t.minute) == (23, 59) else _minutes(t)


def local_day_intervals(
    day: dt.date, rules_by_weekday: dict[int, list[Rule]], exceptions: Sequence[DayException]
) -> list[tuple[int, int]]:
    """Free minutes-of-day intervals on one local date."""
    intervals = [(_minutes(r.start), _end_minutes(r.end)) for r in rules_by_weekday.get(day.weekday(), [])]
    for exc in sorted(exceptions, key=lambda e: e.kind != "off"):  # time off first, then extra hours
        if exc.kind == "off":
            if exc.start is None or exc.end is None:
                intervals = []
            else:
                intervals = _subtract(intervals, (_minutes(exc.start), _end_minutes(exc.end)))
        elif exc.start is not None and exc.end is not None:
            intervals.append((_minutes(exc.start), _end_minutes(exc.end)))
    return _union([i for i in intervals if i[0] < i[1]])


def availability_utc(
    *, tz_name: str, rules: Iterable[Rule], exceptions: Iterable[DayException], start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Free intervals (UTC) of a tutor between ``start`` and ``end`` (aware datetimes)."""
    tz = ZoneInfo(tz_name)
    by_weekday: dict[int, list[Rule]] = defaultdict(list)
    for rule in rules:
        by_weekday[rule.weekday].append(rule)
    by_date: dict[dt.date, list[DayException]] = defaultdict(list)
    for exc in exceptions:
        by_date[exc.date].append(exc)
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    out: list[tuple[dt.datetime, dt.datetime]] = []
    day = first
    while day <= last:
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        for a, b in local_day_intervals(day, by_weekday, by_date.get(day, ())):
            # Wall-clock arithmetic on an aware datetime: 09:00 local whatever the offset that day.
            s = (midnight + dt.timedelta(minutes=a)).astimezone(UTC)
            e = (midnight + dt.timedelta(minutes=b)).astimezone(UTC)
            if e > start and s < end:
                out.append((s, e))
        day += dt.timedelta(days=1)
    return out


class BusyIndex:
    """Existing bookings as [start, blocked_until) ranges, for O(log n) overlap tests."""

    def __init__(self, ranges: Iterable[tuple[dt.datetime, dt.datetime]]) -> None:
        items = sorted(ranges)
        self.starts = [s for s, _ in items]
        self.prefix_max: list[dt.datetime] = []
        current: dt.datetime | None = None
        for _, e in items:
            current = e if current is None or e > current else current
            self.prefix_max.append(current)

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        idx = bisect_left(self.starts, end)  # ranges starting before ``end``
        return idx > 0 and self.prefix_max[idx - 1] > start


def free_slots(
    *,
    availability: Sequence[tuple[dt.datetime, dt.datetime]],
    busy: BusyIndex,
    duration: int,
    buffer: int,
    earliest: dt.datetime,
    latest: dt.datetime,
    window_start: dt.datetime,
    window_end: dt.datetime,
    step: int = SLOT_STEP_MINUTES,
) -> list[dt.datetime]:
    """Start times (UTC) of free sessions of ``duration`` minutes."""
    length = dt.timedelta(minutes=duration)
    guarded = dt.timedelta(minutes=duration + buffer)
    stride = dt.timedelta(minutes=step)
    out: list[dt.datetime] = []
    for a, b in availability:
        s = a
        while s + length <= b:
            if s >= window_start and s < window_end and s >= earliest and s <= latest and not busy.overlaps(s, s + guarded):
                out.append(s)
            s += stride
    out.sort()
    return out


def within_availability(availability: Sequence[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime) -> bool:
    return any(a <= start and end <= b for a, b in availability)
