"""What other parts of the platform use: ports, GDPR export and erasure, admin figures, demo data, ICS."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from core.identity.bootstrap import ensure_user
from core.registry import HOOKS, hooks, ports
from modules.tracker.models import Course, Preferences, Result, StudyPlan, TimetableClass, WeeklyReport
from tests.modules.tracker.conftest import add_result, make_course, queries_for

pytestmark = pytest.mark.django_db


def test_busy_times_are_classes_in_utc_for_the_users_zone(api, student):
    """A Monday 09:00-10:30 class in New York: 13:00-14:30 UTC in summer (EDT)."""
    api.patch("/tracker/preferences", {"time_zone": "America/New_York"})
    course = make_course(api)
    api.post(
        "/tracker/timetables",
        {
            "semester": "Summer 2031",
            "classes": [{"course_id": course["id"], "day_of_week": 1, "start_time": "09:00", "end_time": "10:30"}],
        },
    )
    busy = ports.get("tracker.busy_times")(
        student, dt.datetime(2031, 6, 2, tzinfo=dt.UTC), dt.datetime(2031, 6, 16, tzinfo=dt.UTC)
    )
    assert busy == [
        (dt.datetime(2031, 6, 2, 13, 0, tzinfo=dt.UTC), dt.datetime(2031, 6, 2, 14, 30, tzinfo=dt.UTC)),
        (dt.datetime(2031, 6, 9, 13, 0, tzinfo=dt.UTC), dt.datetime(2031, 6, 9, 14, 30, tzinfo=dt.UTC)),
    ]


def test_busy_times_for_the_coming_days_are_cached_until_a_class_changes(api, student):
    """The coach asks for the next 14 days on every message: the second ask reads no timetable rows,
    and a class added, moved or deleted shows in the very next answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    course = make_course(api)
    tt = api.post("/tracker/timetables", {"semester": "Now", "classes": []}).json()
    busy = ports.get("tracker.busy_times")
    now = timezone.now()
    window = (now, now + dt.timedelta(days=14))
    student.__dict__.pop("_tracker_prefs", None)
    assert busy(student, *window) == []
    with CaptureQueriesContext(connection) as ctx:
        assert busy(student, *window) == []
    assert not [q for q in ctx.captured_queries if "tracker_timetableclass" in q["sql"]]

    weekday = (now + dt.timedelta(days=2)).isoweekday() % 7  # 0 = Sunday, as the API counts days
    klass = api.post(
        f"/tracker/timetables/{tt['id']}/classes",
        {"course_id": course["id"], "day_of_week": weekday, "start_time": "09:00", "end_time": "10:00"},
    ).json()
    assert len(busy(student, *window)) == 2  # two weeks: two occurrences
    api.patch(f"/tracker/classes/{klass['id']}", {"end_time": "11:00"})
    assert {(b - a) for a, b in busy(student, *window)} == {dt.timedelta(hours=2)}
    assert api.delete(f"/tracker/classes/{klass['id']}").status_code == 204
    assert busy(student, *window) == []


def test_coach_context_in_a_fixed_number_of_queries(api, student):
    course = make_course(api, "CS")
    add_result(api, course["id"], 60, assessment_type="final")
    add_result(api, course["id"], 90, assessment_type="quiz")
    api.patch("/tracker/preferences", {"target_gpa": "3.50"})
    student.__dict__.pop("_tracker_prefs", None)
    build = ports.get("tracker.coach_context")
    one, ctx = queries_for(lambda: build(student))
    assert ctx["courses"][0]["code"] == "CS" and ctx["courses"][0]["average"] == "75.00"
    assert [t["assessment_type"] for t in ctx["weak_assessment_types"]] == ["final"]
    assert ctx["gpa"]["cumulative"] == "2.00" and ctx["gpa"]["gap"] == "1.50"
    for i in range(8):
        c = make_course(api, f"X{i}")
        add_result(api, c["id"], 70 + i)
        api.post(
            "/tracker/assignments",
            {"course_id": c["id"], "title": "a", "due_at": (timezone.now() + dt.timedelta(days=3)).isoformat()},
        )
    student.__dict__.pop("_tracker_prefs", None)
    many, ctx = queries_for(lambda: build(student))
    assert many == one and len(ctx["courses"]) == 9 and len(ctx["assignments_due_14_days"]) == 8
    json.dumps(ctx)  # JSON-able for a language model prompt


def test_timetable_import_port_creates_classes_in_one_transaction(api, student):
    course = make_course(api, "CS201", name="Data Structures")
    port = ports.get("tracker.timetable_import")
    tt_id = port.get_or_create_current_timetable(student)
    assert port.get_or_create_current_timetable(student) == tt_id
    assert port.list_courses(student) == [
        {"id": Course.objects.get(id=course["id"]).id, "name": "Data Structures", "code": "CS201"}
    ]
    created = port.create_classes(
        student,
        tt_id,
        [
            {"course_code": "cs201", "day_of_week": 1, "start_time": "10:00", "end_time": "11:30", "location": "Room 301"},
            {"course_name": "Chemistry", "day_of_week": 3, "start_time": "13:00", "end_time": "14:00", "class_type": "lab"},
        ],
        create_missing_courses=True,
    )
    assert [c["course_name"] for c in created] == ["Data Structures", "Chemistry"]
    with pytest.raises(Exception):  # noqa: B017 - a bad row refuses the whole batch
        port.create_classes(
            student,
            tt_id,
            [
                {"course_code": "CS201", "day_of_week": 2, "start_time": "10:00", "end_time": "11:00"},
                {"course_code": "CS201", "day_of_week": 2, "start_time": "12:00", "end_time": "11:00"},
            ],
        )
    assert TimetableClass.objects.filter(timetable_id=tt_id).count() == 2
    week = api.get("/tracker/timetable/week", {"start": "2031-03-10"}).json()
    assert {c["course_name"] for c in week["classes"]} == {"Data Structures", "Chemistry"}


def test_export_and_erase_hooks(api, student, make_user, client_for, django_capture_on_commit_callbacks):
    course = make_course(api, "CS")
    add_result(api, course["id"], 77)
    today = timezone.now().date()
    monday = today - dt.timedelta(days=today.weekday())
    report = api.post("/tracker/reports/generate", {"week_start": monday.isoformat()}).json()
    pdf_name = WeeklyReport.objects.get(id=report["id"]).pdf_name
    bystander = make_user()
    make_course(client_for(bystander), "KEEP")

    exported = tracker_hook(HOOKS.USER_EXPORT)(user=student)
    text = json.dumps(exported)  # JSON-able without a custom encoder
    assert exported["courses"][0]["code"] == "CS" and exported["results"][0]["score"] == "77.00"
    assert len(exported["weekly_reports"]) == 1 and "KEEP" not in text

    with django_capture_on_commit_callbacks(execute=True):
        tracker_hook(HOOKS.USER_ERASE)(user=student)
    assert not Course.objects.filter(user=student).exists() and not Result.objects.filter(user=student).exists()
    assert not Preferences.objects.filter(user=student).exists() and not WeeklyReport.objects.filter(user=student).exists()
    assert not default_storage.exists(pdf_name)
    assert Course.objects.filter(user=bystander).count() == 1


def test_admin_figures(api):
    make_course(api)
    figures = tracker_hook(HOOKS.ADMIN_FIGURES)()
    assert figures["courses"] == 1 and figures["tracker_users"] == 1
    assert tracker_hook(HOOKS.ADMIN_FIGURES)(months=3)["courses"] == 1  # core's console passes months


def test_integrity_check_finds_and_repairs_a_wrong_grade(api):
    course = make_course(api)
    result = add_result(api, course["id"], 95)
    assert tracker_hook(HOOKS.INTEGRITY_CHECKS)(repair=False) == []
    Result.objects.filter(id=result["id"]).update(percentage=50, grade="F")
    found = tracker_hook(HOOKS.INTEGRITY_CHECKS)(repair=False)
    assert len(found) == 1 and "expected 95.00/A" in found[0]["detail"]
    tracker_hook(HOOKS.INTEGRITY_CHECKS)(repair=True)
    assert api.get(f"/tracker/results/{result['id']}").json()["grade"] == "A"
    assert tracker_hook(HOOKS.INTEGRITY_CHECKS)(repair=False) == []


def test_demo_data_is_idempotent(db):
    users = {
        email: ensure_user(email, "demo-pass-2024!", role="student", first_name="S", last_name="D", timezone="Europe/Berlin")[0]
        for email in ("student1@demo.local", "student2@demo.local")
    }
    first = tracker_hook(HOOKS.DEMO_DATA)(users=users)
    counts = (Course.objects.count(), Result.objects.count(), StudyPlan.objects.count(), TimetableClass.objects.count())
    assert "student1@demo.local" in first and counts[0] == 8 and counts[1] > 0 and counts[3] == 6
    assert tracker_hook(HOOKS.DEMO_DATA)(users=users) == "tracker data already present"
    assert (Course.objects.count(), Result.objects.count(), StudyPlan.objects.count(), TimetableClass.objects.count()) == counts


def tracker_hook(name: str):
    """This module's contribution to a core hook (other modules' contributions are theirs to test)."""
    return dict(hooks.entries(name))["tracker"]


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_ics_feed_with_a_private_token(api, student, anon):
    api.patch("/tracker/preferences", {"time_zone": "Europe/London"})
    course = make_course(api, "CS201", name="Data Structures, Advanced; with a rather long name that needs folding in iCalendar")
    api.post(
        "/tracker/timetables",
        {
            "semester": "Fall 2030",
            "classes": [
                {"course_id": course["id"], "day_of_week": 1, "start_time": "09:00", "end_time": "10:00", "location": "Room 1"}
            ],
        },
    )
    plan_day = timezone.now().date() + dt.timedelta(days=3)
    api.post(
        "/tracker/plans",
        {"course_id": course["id"], "topic": "Trees", "date": plan_day.isoformat(), "start_time": "18:00", "planned_minutes": 60},
    )
    due = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    api.post("/tracker/assignments", {"course_id": course["id"], "title": "Sorting", "due_at": due.isoformat()})
    assert api.get("/tracker/calendar/token").json() == {"enabled": False, "url": None}
    url = api.post("/tracker/calendar/token").json()["url"]
    path = url[url.index("/api/") :]
    res = anon.get(path)
    assert res.status_code == 200 and res["Content-Type"].startswith("text/calendar")
    body = res.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert "\n" not in body.replace("\r\n", "")
    lines = unfold(body)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") >= 20
    assert sum(1 for line in lines if line.startswith("UID:")) == lines.count("BEGIN:VEVENT")
    assert all(re.fullmatch(r"DTSTART:\d{8}T\d{6}Z", line) for line in lines if line.startswith("DTSTART"))
    assert any(line.startswith("SUMMARY:CS201 Data Structures\\, Advanced\\; with") for line in lines)
    assert "SUMMARY:Due: Sorting (CS201)" in lines
    assert f"DTEND:{due.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" in lines
    assert "SUMMARY:Study: Trees (CS201)" in lines
    new_url = api.post("/tracker/calendar/token").json()["url"]
    assert anon.get(path).status_code == 404  # rotated: the old address is dead
    api.delete("/tracker/calendar/token")
    assert anon.get(new_url[new_url.index("/api/") :]).status_code == 404
