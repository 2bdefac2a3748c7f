from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from modules.tracker.models import Assignment, Course, Result, StudyPlan, StudySession, Timetable, TimetableClass
from tests.modules.tracker.conftest import make_course, queries_for

pytestmark = pytest.mark.django_db

LIST_URLS = [
    "/tracker/dashboard",
    "/tracker/dashboard/upcoming-classes",
    "/tracker/dashboard/streak",
    "/tracker/dashboard/activities",
    "/tracker/courses",
    "/tracker/results",
    "/tracker/plans",
    "/tracker/assignments",
    "/tracker/sessions",
    "/tracker/timetables",
    "/tracker/gpa",
    "/tracker/reports",
]


def populate(user, n: int) -> None:
    """n courses, each with results, a class, a plan, an assignment and sessions."""
    now = timezone.now()
    tt, _ = Timetable.objects.get_or_create(user=user, semester="Fall 2030")
    for i in range(n):
        c = Course.objects.create(user=user, name=f"Course {i}", code=f"C{i}", credits=1 + i % 6, semester=f"S{i % 3}")
        for j in range(2):
            Result.objects.create(
                user=user,
                course=c,
                assessment_type="quiz",
                score=50 + j,
                max_score=100,
                percentage=50 + j,
                grade="F",
                semester=c.semester,
                date=dt.date(2030, 1 + i % 12, 1),
            )
        TimetableClass.objects.create(timetable=tt, course=c, day_of_week=i % 7, start_time=dt.time(9), end_time=dt.time(10))
        StudyPlan.objects.create(
            user=user,
            course=c,
            topic="t",
            date=now.date() - dt.timedelta(days=i),
            start_time=dt.time(8),
            planned_minutes=30,
            status="completed" if i % 2 else "missed",
            completed_at=now,
        )
        Assignment.objects.create(
            user=user,
            course=c,
            title="a",
            due_at=now + dt.timedelta(days=1 + i % 5),
            status="completed" if i % 3 == 0 else "pending",
            completed_at=now if i % 3 == 0 else None,
        )
        start = now - dt.timedelta(days=i, hours=2)
        StudySession.objects.create(
            user=user, course=c, started_at=start, ended_at=start + dt.timedelta(minutes=45), duration_minutes=45
        )


@pytest.mark.parametrize("url", LIST_URLS)
def test_dashboard_and_lists_run_a_fixed_number_of_queries(api, student, make_user, client_for, url, settings):
    settings.PUBLIC_READ_CACHE = False  # the view's own queries (the cache has its own tests)
    api.get("/tracker/preferences")  # first use creates the preferences row
    populate(student, 1)
    api.get(url)  # warm the session cache the same way for both measurements
    one, res = queries_for(lambda: api.get(url))
    assert res.status_code == 200, res.content
    populate(student, 12)
    many, res = queries_for(lambda: api.get(url))
    assert res.status_code == 200
    assert many == one, f"{url}: {one} queries for 1 course, {many} for 13"


def test_dashboard_figures(api, student):
    course = make_course(api, "CS", credits=4)
    now = timezone.now()
    for score in (80, 90):
        api.post(
            "/tracker/results", {"course_id": course["id"], "assessment_type": "quiz", "score": str(score), "date": "2030-01-01"}
        )
    for days, status in ((1, "completed"), (2, "missed"), (3, "completed"), (4, "completed")):
        StudyPlan.objects.create(
            user=student,
            course_id=course["id"],
            topic="t",
            date=now.date() - dt.timedelta(days=days),
            start_time=dt.time(8),
            planned_minutes=30,
            status=status,
        )
    start = now - dt.timedelta(hours=5)
    api.post(
        "/tracker/sessions",
        {"course_id": course["id"], "started_at": start.isoformat(), "ended_at": (start + dt.timedelta(minutes=150)).isoformat()},
    )
    dash = api.get("/tracker/dashboard").json()
    assert dash["overall_performance"] == 85.0
    assert dash["courses_enrolled"] == 1
    assert dash["hours_studied"] == 2.5
    assert dash["completion_rate"] == 75.0
    assert dash["gpa"] == {"current": 3.0, "cumulative": 3.0, "trend": "stable"}


def test_study_streak_counts_local_days(api, student):
    """Sessions on the three days up to yesterday, and one ten days ago: current 3, longest 3."""
    course = make_course(api)
    now = timezone.now()
    for days in (1, 2, 3, 10):
        start = now - dt.timedelta(days=days)
        StudySession.objects.create(
            user=student, course_id=course["id"], started_at=start, ended_at=start + dt.timedelta(minutes=30), duration_minutes=30
        )
    streak = api.get("/tracker/dashboard/streak").json()
    assert streak["current_streak"] == 3 and streak["longest_streak"] == 3
    assert [d["completed"] for d in streak["days"]] == [False, False, False, True, True, True, False]
    # A session today, in the student's own zone: in the first 40 minutes after their midnight,
    # "40 minutes ago" would still be yesterday (CI once ran at 00:2x local and saw 3).
    local_now = now.astimezone(ZoneInfo(student.timezone))
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now - dt.timedelta(minutes=40), midnight)
    StudySession.objects.create(user=student, course_id=course["id"], started_at=start, ended_at=now, duration_minutes=35)
    streak = api.get("/tracker/dashboard/streak").json()
    assert streak["current_streak"] == 4 and streak["longest_streak"] == 4


def test_upcoming_classes_and_activity(api, student):
    course = make_course(api, "CS201", name="Data Structures")
    api.post(
        "/tracker/timetables",
        {
            "semester": "Fall 2030",
            "classes": [
                {"course_id": course["id"], "day_of_week": d, "start_time": "23:58", "end_time": "23:59", "location": "R1"}
                for d in range(7)
            ],
        },
    )
    upcoming = api.get("/tracker/dashboard/upcoming-classes", {"days": 3, "limit": 10}).json()
    assert 2 <= len(upcoming) <= 3 and upcoming[0]["course_code"] == "CS201"
    assert upcoming == sorted(upcoming, key=lambda o: o["start_utc"])
    api.post(
        "/tracker/results",
        {"course_id": course["id"], "assessment_type": "midterm", "name": "Midterm", "score": "85", "date": "2030-01-01"},
    )
    acts = api.get("/tracker/dashboard/activities").json()
    assert acts[0]["type"] == "result_added" and acts[0]["metadata"]["percentage"] == "85.00"
