"""An RFC 5545 iCalendar feed: timetable classes (expanded in the user's zone, so DST is right),
study plans and assignment deadlines, all in UTC."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from core.models import User
from modules.tracker.models import Assignment, AssignmentStatus, PlanStatus, StudyPlan
from modules.tracker.services import expand_classes, user_zone

PRODID = "-//Tutoring Platform//Study tracker//EN"
WEEKS_BACK, WEEKS_AHEAD = 4, 20


def escape_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuation lines start with a space), never splitting a
    UTF-8 character."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def build_calendar(user: User, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    zone = user_zone(user)
    today = now.astimezone(zone).date()
    stamp = utc(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text('Study tracker')}",
    ]

    def event(uid: str, start: dt.datetime, end: dt.datetime, summary: str, location: str = "", description: str = "") -> None:
        lines.extend(
            [
                "BEGIN:VEVENT",
                f"UID:{uid}",
                f"DTSTAMP:{stamp}",
                f"DTSTART:{utc(start)}",
                f"DTEND:{utc(end)}",
                f"SUMMARY:{escape_text(summary)}",
            ]
        )
        if location:
            lines.append(f"LOCATION:{escape_text(location)}")
        if description:
            lines.append(f"DESCRIPTION:{escape_text(description)}")
        lines.append("END:VEVENT")

    for occ in expand_classes(user, today - dt.timedelta(weeks=WEEKS_BACK), today + dt.timedelta(weeks=WEEKS_AHEAD)):
        event(
            f"class-{occ['class_id']}-{occ['date'].isoformat()}@tracker",
            occ["start_utc"],
            occ["end_utc"],
            f"{occ['course_code']} {occ['course_name']} ({occ['class_type']})",
            occ["location"],
            occ["instructor"],
        )
    plans = StudyPlan.objects.filter(
        user=user,
        date__gte=today - dt.timedelta(weeks=WEEKS_BACK),
        status__in=[PlanStatus.PENDING, PlanStatus.IN_PROGRESS, PlanStatus.COMPLETED],
    ).select_related("course")
    for p in plans:
        start = dt.datetime.combine(p.date, p.start_time, tzinfo=zone)
        event(
            f"plan-{p.id}@tracker",
            start,
            start + dt.timedelta(minutes=p.planned_minutes),
            f"Study: {p.topic} ({p.course.code})",
            description=p.description,
        )
    for a in (
        Assignment.objects.filter(user=user, due_at__gte=now - dt.timedelta(weeks=WEEKS_BACK))
        .exclude(status=AssignmentStatus.COMPLETED)
        .select_related("course")
    ):
        event(
            f"assignment-{a.id}@tracker",
            a.due_at - dt.timedelta(minutes=30),
            a.due_at,
            f"Due: {a.title} ({a.course.code})",
            description=a.description,
        )
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
