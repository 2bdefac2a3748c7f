"""Read queries for the API and the ports, each with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone

from core.models import User
from modules.tracker import grading
from modules.tracker.models import Assignment, AssignmentStatus, Course, PlanStatus, Result, StudyPlan, StudySession
from modules.tracker.services import (
    DAY_NAMES,
    _marks_and_courses,
    expand_classes,
    gpa_summary,
    grading_bands,
    live_courses,
    prd_day,
    user_zone,
)


def courses_with_stats(user: User) -> QuerySet[Course]:
    return live_courses(user).annotate(
        results_count=Count("results", distinct=True),
        average_percentage=Avg("results__percentage"),
    )


def course_statistics(user: User, course: Course) -> dict[str, Any]:
    from modules.tracker.services import course_standing

    minutes = (
        StudySession.objects.filter(user=user, course=course, ended_at__isnull=False).aggregate(m=Sum("duration_minutes"))["m"]
        or 0
    )
    standing = course_standing(user, course)
    return {
        "total_study_hours": grading.q2(Decimal(minutes) / 60),
        "average_grade": standing["average"],
        "grade": standing["grade"],
        "results_count": standing["results_count"],
    }


def dashboard(user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Overall figures in six queries whatever the data size."""
    now = now or timezone.now()
    zone = user_zone(user)
    today = now.astimezone(zone).date()
    marks, courses = _marks_and_courses(user)  # 2 queries
    gpa = gpa_summary(user, marks=marks, courses=courses)
    overall = (sum((m.percentage for m in marks), Decimal(0)) / len(marks)) if marks else None
    minutes = StudySession.objects.filter(user=user, ended_at__isnull=False).aggregate(m=Sum("duration_minutes"))["m"] or 0
    plan_counts = StudyPlan.objects.filter(user=user, date__lte=today).aggregate(
        done=Count("id", filter=Q(status=PlanStatus.COMPLETED)),
        closed=Count("id", filter=Q(status__in=[PlanStatus.COMPLETED, PlanStatus.MISSED]) | Q(date__lt=today)),
    )
    due = Assignment.objects.filter(
        user=user,
        status__in=[AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS],
        due_at__gte=now,
        due_at__lte=now + dt.timedelta(days=7),
    ).count()
    overdue = Assignment.objects.filter(user=user, status=AssignmentStatus.OVERDUE).count()
    closed = plan_counts["closed"]
    return {
        "overall_performance": grading.q2(overall) if overall is not None else None,
        "courses_enrolled": sum(1 for c in courses.values() if c.is_active),
        "hours_studied": grading.q2(Decimal(minutes) / 60),
        "completion_rate": grading.q2(Decimal(plan_counts["done"]) * 100 / closed) if closed else None,
        "assignments_due": due,
        "assignments_overdue": overdue,
        "gpa": {"current": gpa["current"], "cumulative": gpa["cumulative"], "trend": gpa["trend"]},
    }


def upcoming_classes(user: User, *, days: int, limit: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    now = now or timezone.now()
    today = now.astimezone(user_zone(user)).date()
    occurrences = expand_classes(user, today, today + dt.timedelta(days=days - 1))
    return [o for o in occurrences if o["end_utc"] > now][:limit]


def _study_days(user: User) -> set[dt.date]:
    zone = user_zone(user)
    starts = StudySession.objects.filter(user=user, ended_at__isnull=False).values_list("started_at", flat=True)
    return {s.astimezone(zone).date() for s in starts}


def study_streak(user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Days with any finished study session, in the user's zone. The current streak runs to today,
    or to yesterday while today is still open."""
    now = now or timezone.now()
    today = now.astimezone(user_zone(user)).date()
    days = _study_days(user)
    current = 0
    cursor = today if today in days else today - dt.timedelta(days=1)
    while cursor in days:
        current += 1
        cursor -= dt.timedelta(days=1)
    longest = run = 0
    prev: dt.date | None = None
    for d in sorted(days):
        run = run + 1 if prev is not None and d - prev == dt.timedelta(days=1) else 1
        longest = max(longest, run)
        prev = d
    last7 = [today - dt.timedelta(days=i) for i in range(6, -1, -1)]
    return {
        "current_streak": current,
        "longest_streak": longest,
        "days": [{"date": d, "day": DAY_NAMES[prd_day(d)][:3], "completed": d in days} for d in last7],
    }


def recent_activity(user: User, *, limit: int) -> list[dict[str, Any]]:
    """Completed plans, results, finished sessions and completed assignments, newest first (4 queries)."""
    items: list[dict[str, Any]] = []
    for p in (
        StudyPlan.objects.filter(user=user, status=PlanStatus.COMPLETED)
        .select_related("course")
        .order_by("-completed_at")[:limit]
    ):
        items.append(
            {
                "id": p.id,
                "type": "plan_completed",
                "timestamp": p.completed_at,
                "description": f"Completed study plan '{p.topic}' for {p.course.name}",
                "metadata": {"course": p.course.code, "duration": p.actual_minutes},
            }
        )
    for r in Result.objects.filter(user=user).select_related("course").order_by("-created_at")[:limit]:
        items.append(
            {
                "id": r.id,
                "type": "result_added",
                "timestamp": r.created_at,
                "description": f"Recorded {r.get_assessment_type_display().lower()} {r.name or ''} in {r.course.name}".replace(
                    "  ", " "
                ),
                "metadata": {"course": r.course.code, "percentage": str(r.percentage), "grade": r.grade},
            }
        )
    for s in (
        StudySession.objects.filter(user=user, ended_at__isnull=False).select_related("course").order_by("-ended_at")[:limit]
    ):
        items.append(
            {
                "id": s.id,
                "type": "session_logged",
                "timestamp": s.ended_at,
                "description": f"Studied {s.duration_minutes} minutes" + (f" of {s.course.name}" if s.course else ""),
                "metadata": {"course": s.course.code if s.course else None, "duration": s.duration_minutes},
            }
        )
    for a in (
        Assignment.objects.filter(user=user, status=AssignmentStatus.COMPLETED)
        .select_related("course")
        .order_by("-completed_at")[:limit]
    ):
        items.append(
            {
                "id": a.id,
                "type": "assignment_completed",
                "timestamp": a.completed_at,
                "description": f"Completed assignment '{a.title}' for {a.course.name}",
                "metadata": {"course": a.course.code},
            }
        )
    items.sort(key=lambda i: i["timestamp"], reverse=True)
    return items[:limit]


def coach_context(user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """What a study coach needs to know, in a fixed number of queries (7)."""
    now = now or timezone.now()
    marks, courses = _marks_and_courses(user)  # 2
    gpa = gpa_summary(user, marks=marks, courses=courses)  # + prefs (cached on the user)
    bands = grading_bands(user)
    by_course: dict[Any, list[grading.Mark]] = defaultdict(list)
    for m in marks:
        by_course[m.course_id].append(m)
    course_rows = []
    for cid, course in courses.items():
        cm = by_course.get(cid, [])
        avg = grading.course_average(cm)
        pcts = [m.percentage for m in cm]
        course_rows.append(
            {
                "course_id": str(cid),
                "code": course.code,
                "name": course.name,
                "credits": course.credits,
                "average": str(grading.q2(avg)) if avg is not None else None,
                "grade": grading.band_for(grading.q2(avg), bands).letter if avg is not None else None,
                "trend": grading.trend_of(pcts, threshold=Decimal(3)),
                "results_count": len(cm),
            }
        )
    type_rows = (
        Result.objects.filter(user=user, course_id__in=list(courses))
        .values("assessment_type")
        .annotate(avg=Avg("percentage"), n=Count("id"))
    )
    by_type = sorted(
        (
            {"assessment_type": r["assessment_type"], "average": str(grading.q2(Decimal(r["avg"]))), "count": r["n"]}
            for r in type_rows
        ),
        key=lambda r: Decimal(r["average"]),
    )
    overall = (sum((m.percentage for m in marks), Decimal(0)) / len(marks)) if marks else None
    weak_types = [r for r in by_type if overall is not None and Decimal(r["average"]) < overall]
    since = now - dt.timedelta(days=28)
    hours = (
        StudySession.objects.filter(user=user, ended_at__isnull=False, started_at__gte=since)
        .values("course_id")
        .annotate(m=Sum("duration_minutes"))
    )
    hours_by_course = {str(h["course_id"]) if h["course_id"] else None: str(grading.q2(Decimal(h["m"] or 0) / 60)) for h in hours}
    today = now.astimezone(user_zone(user)).date()
    plans = StudyPlan.objects.filter(user=user, date__gte=today - dt.timedelta(days=28), date__lte=today).aggregate(
        total=Count("id"),
        completed=Count("id", filter=Q(status=PlanStatus.COMPLETED)),
        missed=Count("id", filter=Q(status=PlanStatus.MISSED)),
    )
    due = (
        Assignment.objects.filter(
            user=user,
            status__in=[AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS],
            due_at__gte=now,
            due_at__lte=now + dt.timedelta(days=14),
        )
        .select_related("course")
        .order_by("due_at")[:50]
    )
    prefs = getattr(user, "_tracker_prefs", None)
    target = prefs.target_gpa if prefs is not None else None
    return {
        "courses": course_rows,
        "weak_assessment_types": weak_types,
        "assessment_types": by_type,
        "study_hours_last_4_weeks": hours_by_course,
        "plans_last_4_weeks": {
            **plans,
            "completion_rate": str(grading.q2(Decimal(plans["completed"]) * 100 / plans["total"])) if plans["total"] else None,
        },
        "assignments_due_14_days": [
            {"id": str(a.id), "title": a.title, "course": a.course.code, "due_at": a.due_at.isoformat(), "priority": a.priority}
            for a in due
        ],
        "gpa": {
            "current": str(gpa["current"]) if gpa["current"] is not None else None,
            "cumulative": str(gpa["cumulative"]) if gpa["cumulative"] is not None else None,
            "trend": gpa["trend"],
            "target": str(target) if target is not None else None,
            "gap": str(grading.q2(target - gpa["cumulative"])) if target is not None and gpa["cumulative"] is not None else None,
        },
    }
