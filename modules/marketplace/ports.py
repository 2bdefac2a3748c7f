"""Ports this module defines (meetings) and the ones it offers other modules (tutor suggestions)."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any, Protocol

from django.conf import settings

from core.registry import ports

MEETINGS_PORT = "meetings"
SUGGESTIONS_PORT = "marketplace.tutor_suggestions"


class Meetings(Protocol):
    """Creates a video room for an online booking; a plugin (Zoom, Meet...) may replace the default."""

    def create_room(self, *, booking_id: uuid.UUID, starts_at: dt.datetime, ends_at: dt.datetime, title: str) -> str: ...


class JitsiMeetings:
    """Default: a public Jitsi room whose name cannot be guessed."""

    def create_room(self, *, booking_id: uuid.UUID, starts_at: dt.datetime, ends_at: dt.datetime, title: str) -> str:
        base = getattr(settings, "MEETING_BASE_URL", "https://meet.jit.si").rstrip("/")
        return f"{base}/tutoring-{secrets.token_urlsafe(24)}"


def meetings() -> Meetings:
    return ports.get(MEETINGS_PORT)


def tutor_suggestions(subject_name: str, busy: list[tuple[dt.datetime, dt.datetime]], limit: int = 5) -> list[dict[str, Any]]:
    from modules.marketplace.selectors import suggest_tutors

    return suggest_tutors(subject_name=subject_name, busy=busy, limit=limit)


def register_default_ports() -> None:
    if not ports.has(MEETINGS_PORT):  # core or a plugin may already provide one
        ports.set_default(MEETINGS_PORT, JitsiMeetings())
    ports.register(SUGGESTIONS_PORT, tutor_suggestions)
