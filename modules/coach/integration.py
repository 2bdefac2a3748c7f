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
    hooks.register(HOOKS.ADMIN_FIGURES, LABEL, admin_figures)


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


def admin_figures(months: int = 12, **_: Any) -> dict[str, Any]:
    """Usage counts only; operators never see what students wrote."""
    import datetime as dt

    from django.db.models import Count, Q, Sum
    from django.utils import timezone

    from modules.coach.models import CoachMessage, CoachSession

    since = timezone.now() - dt.timedelta(days=31 * months)
    month_ago = timezone.now() - dt.timedelta(days=30)
    agg = CoachMessage.objects.filter(created_at__gte=since).aggregate(
        questions=Count("id", filter=Q(role="user")),
        replies=Count("id", filter=Q(role="assistant")),
        tokens=Sum("tokens_in") + Sum("tokens_out"),
        users_30d=Count("user", filter=Q(created_at__gte=month_ago), distinct=True),
    )
    return {
        "coach_sessions": CoachSession.objects.count(),
        "coach_questions_last_months": agg["questions"] or 0,
        "coach_replies_last_months": agg["replies"] or 0,
        "coach_unanswered_last_months": max(0, (agg["questions"] or 0) - (agg["replies"] or 0)),
        "coach_tokens_last_months": agg["tokens"] or 0,
        "coach_users_30d": agg["users_30d"] or 0,
    }
