"""Scheduled tasks (django-q2). Each takes ``now`` so tests drive it with fixed instants, and each is
idempotent: an effect per user and local day (or per object) is claimed before it happens."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.events import publish
from core.notify import notify
from core.tasks import claim_effect, release_effect
from modules.tracker import grading
from modules.tracker.events import AssignmentOverdue, PlanMissed
from modules.tracker.models import Assignment, AssignmentStatus, PlanStatus, Preferences, StudyPlan, WeeklyReport
from modules.tracker.services import zone_for

logger = logging.getLogger(__name__)
WINDOW = dt.timedelta(hours=1)


def _now(now: dt.datetime | str | None) -> dt.datetime:
    if isinstance(now, str):
        now = dt.datetime.fromisoformat(now)
    return now or timezone.now()


def _tracker_users() -> Iterator[Preferences]:
    qs = (
        Preferences.objects.select_related("user")
        .filter(user__is_active=True, user__deleted_at__isnull=True)
        .order_by("created_at")
    )
    yield from qs.iterator(chunk_size=500)


def _in_window(local: dt.datetime, at: dt.time) -> bool:
    """Is the local instant within an hour after the wall-clock time ``at`` on the same day?"""
    start = dt.datetime.combine(local.date(), at, tzinfo=local.tzinfo)
    return start <= local < start + WINDOW


def _attach(prefs: Preferences) -> Preferences:
    prefs.user._tracker_prefs = prefs  # type: ignore[attr-defined]
    return prefs


def _notify_once(key: str, user: Any, category: str, template: str, context: dict[str, Any]) -> None:
    """Notify under an already claimed key; a failure gives the key back so the next run retries."""
    try:
        with transaction.atomic():
            notify(user, category, template, context, key=key)
    except Exception:
        release_effect(key)
        raise


def send_morning_emails(now: dt.datetime | str | None = None) -> int:
    """The day's plans and total hours, at each user's morning time in their zone; once per local day."""
    now = _now(now)
    sent = 0
    for prefs in _tracker_users():
        if not prefs.email_enabled:
            continue
        user = _attach(prefs).user
        local = now.astimezone(zone_for(user, prefs))
        if not _in_window(local, prefs.morning_email_time):
            continue
        plans = list(
            StudyPlan.objects.filter(user=user, date=local.date(), status__in=[PlanStatus.PENDING, PlanStatus.IN_PROGRESS])
            .select_related("course")
            .order_by("start_time")
        )
        if not plans:
            continue
        key = f"tracker:morning:{user.pk}:{local.date().isoformat()}"
        if not claim_effect(key):
            continue
        minutes = sum(p.planned_minutes for p in plans)
        context: dict[str, Any] = {
            "date": local.date().isoformat(),
            "plans": [
                {"time": p.start_time.strftime("%H:%M"), "topic": p.topic, "course": p.course.name, "minutes": p.planned_minutes}
                for p in plans
            ],
            "total_hours": str(grading.q2(Decimal(minutes) / 60)),
        }
        _notify_once(key, user, "study_reminders", "tracker.morning_plan", context)
        sent += 1
    return sent


def send_evening_reminders(now: dt.datetime | str | None = None) -> int:
    """At the reminder time, a nudge to plan tomorrow, only when no plan exists for it."""
    now = _now(now)
    sent = 0
    for prefs in _tracker_users():
        if not (prefs.email_enabled or prefs.push_enabled):
            continue
        user = _attach(prefs).user
        local = now.astimezone(zone_for(user, prefs))
        if not _in_window(local, prefs.reminder_time):
            continue
        tomorrow = local.date() + dt.timedelta(days=1)
        if StudyPlan.objects.filter(user=user, date=tomorrow).exists():
            continue
        key = f"tracker:reminder:{user.pk}:{local.date().isoformat()}"
        if not claim_effect(key):
            continue
        _notify_once(key, user, "study_reminders", "tracker.plan_reminder", {"tomorrow": tomorrow.isoformat()})
        sent += 1
    return sent


WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def generate_weekly_reports(now: dt.datetime | str | None = None) -> int:
    """On each user's chosen day and time (their zone): the week's report, e-mailed with its PDF."""
    from modules.tracker.reports import generate_weekly_report, read_pdf, week_bounds

    now = _now(now)
    made = 0
    for prefs in _tracker_users():
        if not prefs.weekly_report_enabled:
            continue
        user = _attach(prefs).user
        local = now.astimezone(zone_for(user, prefs))
        if WEEKDAYS[local.weekday()] != prefs.weekly_report_day or not _in_window(local, prefs.weekly_report_time):
            continue
        week_start, _ = week_bounds(local.date())
        key = f"tracker:weekly:{user.pk}:{week_start.isoformat()}"
        if not claim_effect(key):
            continue
        try:
            report = generate_weekly_report(user, week_start, now=now)
        except Exception:
            release_effect(key)
            raise
        made += 1
        if prefs.email_enabled:
            send_report_email(user, report, read_pdf(report), key=key)
    return made


def send_report_email(user: Any, report: WeeklyReport, pdf: bytes, *, key: str) -> None:
    data = report.data
    context = {
        "week_start": data.get("week_start"),
        "week_end": data.get("week_end"),
        "hours": data.get("total_study_hours"),
        "planned": data.get("planned_hours"),
        "completion_rate": data.get("completion_rate"),
        "trend": data.get("performance_trend"),
        "insights": report.insights,
    }
    with transaction.atomic():
        notify(
            user,
            "reports",
            "tracker.weekly_report",
            context,
            key=key,
            attachments=[(f"weekly-report-{report.week_start.isoformat()}.pdf", pdf, "application/pdf")],
        )
        WeeklyReport.objects.filter(id=report.id).update(email_sent_at=timezone.now())


def mark_missed_plans(now: dt.datetime | str | None = None) -> int:
    """Pending plans whose planned block has ended (in the owner's zone) become missed."""
    now = _now(now)
    horizon = (now + dt.timedelta(days=1)).date()  # the furthest-ahead zone's today
    candidates = StudyPlan.objects.filter(status=PlanStatus.PENDING, date__lte=horizon).select_related(
        "user", "user__tracker_preferences"
    )
    missed: list[StudyPlan] = []
    for plan in candidates.iterator(chunk_size=1000):
        prefs = getattr(plan.user, "tracker_preferences", None)
        zone = zone_for(plan.user, prefs)
        end = dt.datetime.combine(plan.date, plan.start_time, tzinfo=zone) + dt.timedelta(minutes=plan.planned_minutes)
        if end <= now:
            missed.append(plan)
    with transaction.atomic():
        ids = [p.id for p in missed]
        StudyPlan.objects.filter(id__in=ids, status=PlanStatus.PENDING).update(
            status=PlanStatus.MISSED, updated_at=timezone.now()
        )
        from modules.tracker.apps import tracker_changed

        tracker_changed(*{p.user_id for p in missed})
        for p in missed:
            publish(PlanMissed(user_id=p.user_id, plan_id=p.id, course_id=p.course_id, date=p.date))
    return len(missed)


def mark_overdue_assignments(now: dt.datetime | str | None = None) -> int:
    """Open assignments past their due time become overdue; the owner is told once per assignment."""
    now = _now(now)
    rows = list(
        Assignment.objects.filter(
            status__in=[AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS], due_at__lt=now
        ).select_related("user", "course")
    )
    for a in rows:
        with transaction.atomic():
            changed = Assignment.objects.filter(
                id=a.id, status__in=[AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS]
            ).update(status=AssignmentStatus.OVERDUE, overdue_notified_at=now, updated_at=timezone.now())
            if not changed:
                continue
            from modules.tracker.apps import tracker_changed

            tracker_changed(a.user_id)
            publish(AssignmentOverdue(user_id=a.user_id, assignment_id=a.id, course_id=a.course_id, due_at=a.due_at))
            notify(
                a.user,
                "study_reminders",
                "tracker.assignment_overdue",
                {"title": a.title, "course": a.course.name, "due_at": a.due_at.isoformat()},
                key=f"tracker:overdue:{a.id}",
            )
    return len(rows)
