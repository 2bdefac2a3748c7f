"""RFC 5545 iCalendar text for a user's bookings (subscribable by Google and Apple Calendar)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings

from modules.marketplace.models import Booking


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded: CRLF followed by one space (RFC 5545 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for ch in line:
        encoded = ch.encode("utf-8")
        if len(current) + len(encoded) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
            limit = 74  # continuation lines start with a space
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


STATUS_MAP = {"pending": "TENTATIVE", "confirmed": "CONFIRMED"}


def render_calendar(bookings: Iterable[Booking], *, for_user_id: object, now: dt.datetime) -> str:
    host = getattr(settings, "ICS_UID_DOMAIN", "tutoring.example")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Tutoring Platform//Marketplace//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Tutoring sessions",
        "X-PUBLISHED-TTL:PT1H",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
    ]
    for b in bookings:
        is_tutor = b.tutor_user_id == for_user_id
        other = b.student.full_name if is_tutor else b.tutor_user.full_name
        summary = f"{b.subject.name} with {other}"
        description = f"Status: {b.status}"
        if b.meeting_url and b.status == "confirmed":
            description += f"\nJoin: {b.meeting_url}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:booking-{b.id}@{host}",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(b.starts_at)}",
            f"DTEND:{_utc(b.ends_at)}",
            f"LAST-MODIFIED:{_utc(b.updated_at)}",
            f"SUMMARY:{_escape(summary)}",
            f"DESCRIPTION:{_escape(description)}",
            f"STATUS:{STATUS_MAP.get(b.status, 'CANCELLED')}",
        ]
        if b.meeting_url and b.status == "confirmed":
            lines.append(f"URL:{b.meeting_url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
