"""What the coach contributes: the weekly-insights port and GDPR export/erasure of conversations."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import User
from core.registry import HOOKS, hooks, ports

LABEL = "coach"
WEEKLY_INSIGHTS_PORT = "coach.weekly_insights"


def register() -> None:
    from modules.coach.services import weekly_insights

    ports.register(WEEKLY_INSIGHTS_PORT, weekly_insights)
    hooks.register(HOOKS.USER_EXPORT, LABEL, export_user)
    hooks.register(HOOKS.USER_ERASE, LABEL, erase_user)


def export_user(user: User) -> dict[str, Any]:
    from modules.coach.models import CoachMessage, CoachSession

    sessions = [
        {
            "id": str(s["id"]),
            "title": s["title"],
            "created_at": s["created_at"].isoformat(),
            "last_activity_at": s["last_activity_at"].isoformat(),
        }
        for s in CoachSession.objects.filter(user=user)
        .order_by("created_at")
        .values("id", "title", "created_at", "last_activity_at")
    ]
    messages = [
        {
            **m,
            "id": str(m["id"]),
            "session_id": str(m["session_id"]),
            "created_at": m["created_at"].isoformat(),
        }
        for m in CoachMessage.objects.filter(user=user)
        .order_by("created_at", "id")
        .values("id", "session_id", "role", "text", "created_at", "tokens_in", "tokens_out", "engine", "context_sections")
    ]
    return {"sessions": sessions, "messages": messages}


def erase_user(user: User) -> None:
    from modules.coach.models import CoachMessage, CoachSession

    with transaction.atomic():
        CoachMessage.objects.filter(user=user).delete()
        CoachSession.objects.filter(user=user).delete()
