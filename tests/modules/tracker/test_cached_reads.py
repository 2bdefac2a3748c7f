"""The dashboard and GPA are cached per student and follow every change of theirs at once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from modules.tracker.models import StudySession
from tests.modules.tracker.conftest import add_result, make_course


def test_gpa_follows_a_new_result_and_another_student_gets_their_own(api, student, make_user, client_for):
    course = make_course(api, "CS201", credits=3)
    add_result(api, course["id"], 95)
    assert api.get("/tracker/gpa").json()["cumulative"] == 4.0
    assert api.get("/tracker/gpa")["X-Cache"] == "hit"

    add_result(api, course["id"], 55)  # the average falls to 75: a C
    assert api.get("/tracker/gpa").json()["cumulative"] < 4.0

    other = client_for(make_user("student"))
    assert other.get("/tracker/gpa").json()["cumulative"] is None


def test_a_row_saved_outside_the_api_reaches_the_cached_dashboard(api, student):
    course = make_course(api)
    before = api.get("/tracker/dashboard/streak").json()["current_streak"]
    assert api.get("/tracker/dashboard/streak")["X-Cache"] == "hit"
    start = timezone.now() - dt.timedelta(minutes=40)
    StudySession.objects.create(  # as a schedule or another module's port would
        user=student, course_id=course["id"], started_at=start, ended_at=start + dt.timedelta(minutes=30), duration_minutes=30
    )
    assert api.get("/tracker/dashboard/streak").json()["current_streak"] == before + 1
