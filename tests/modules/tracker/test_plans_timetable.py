from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from modules.tracker.tasks import mark_missed_plans
from tests.modules.tracker.conftest import make_course

pytestmark = pytest.mark.django_db


def next_weekday(weekday: int, weeks_ahead: int = 2) -> dt.date:
    """A date in the future on the given Python weekday (Monday=0)."""
    start = timezone.now().date() + dt.timedelta(weeks=weeks_ahead)
    return start + dt.timedelta(days=(weekday - start.weekday()) % 7)


def plan_body(course_id: str, date: dt.date, start: str = "10:00", minutes: int = 60, **extra):
    return {
        "course_id": course_id,
        "topic": extra.pop("topic", "Binary trees"),
        "date": date.isoformat(),
        "start_time": start,
        "planned_minutes": minutes,
        **extra,
    }


@pytest.fixture
def tuesday_class(api):
    """CS201 lecture on Tuesdays (day_of_week 2) 10:00-11:30."""
    course = make_course(api, "CS201", name="Data Structures")
    res = api.post(
        "/tracker/timetables",
        {
            "semester": "Fall 2030",
            "classes": [
                {"course_id": course["id"], "day_of_week": 2, "start_time": "10:00", "end_time": "11:30", "location": "Room 301"}
            ],
        },
    )
    assert res.status_code == 201, res.content
    return course, res.json()


def test_conflict_check_finds_the_tuesday_class_not_wednesday(api, tuesday_class):
    course, _ = tuesday_class
    tuesday, wednesday = next_weekday(1), next_weekday(2)
    hit = api.post("/tracker/plans/check-conflicts", {"date": tuesday.isoformat(), "start_time": "11:00", "duration": 60}).json()
    assert hit["has_conflicts"] is True
    assert [(c["type"], c["course_name"], c["start_time"], c["end_time"], c["location"]) for c in hit["conflicts"]] == [
        ("class", "Data Structures", "10:00:00", "11:30:00", "Room 301")
    ]
    miss = api.post(
        "/tracker/plans/check-conflicts", {"date": wednesday.isoformat(), "start_time": "11:00", "duration": 60}
    ).json()
    assert miss == {"has_conflicts": False, "conflicts": []}
    # Touching ends are not overlaps: 11:30-12:30 on Tuesday is free.
    touching = api.post(
        "/tracker/plans/check-conflicts", {"date": tuesday.isoformat(), "start_time": "11:30", "duration": 60}
    ).json()
    assert touching["has_conflicts"] is False


def test_creating_a_plan_reports_conflicts_with_classes_and_other_plans(api, tuesday_class):
    course, _ = tuesday_class
    tuesday = next_weekday(1)
    first = api.post("/tracker/plans", plan_body(course["id"], tuesday, "12:00", 90))
    assert first.status_code == 201 and first.json()["conflicts"] == []
    second = api.post("/tracker/plans", plan_body(course["id"], tuesday, "11:00", 120, topic="Heaps")).json()
    kinds = sorted(c["type"] for c in second["conflicts"])
    assert kinds == ["class", "plan"]
    assert second["plan"]["status"] == "pending"


def test_plan_validation(api):
    course = make_course(api)
    yesterday = timezone.now().date() - dt.timedelta(days=2)
    assert api.post("/tracker/plans", plan_body(course["id"], yesterday)).status_code == 422
    future = next_weekday(3)
    assert api.post("/tracker/plans", plan_body(course["id"], future, minutes=10)).status_code == 422
    assert api.post("/tracker/plans", plan_body(course["id"], future, study_type="cramming")).status_code == 422
    plan = api.post("/tracker/plans", plan_body(course["id"], future)).json()["plan"]
    assert api.patch(f"/tracker/plans/{plan['id']}", {"date": yesterday.isoformat()}).status_code == 422
    moved = api.patch(f"/tracker/plans/{plan['id']}", {"start_time": "15:30", "planned_minutes": 90})
    assert moved.status_code == 200 and moved.json()["plan"]["start_time"] == "15:30:00"


def test_complete_plan_logs_study_time(api):
    course = make_course(api)
    plan = api.post("/tracker/plans", plan_body(course["id"], next_weekday(4))).json()["plan"]
    res = api.post(f"/tracker/plans/{plan['id']}/complete", {"actual_minutes": 115, "notes": "All BST operations"})
    assert res.status_code == 200, res.content
    assert res.json()["status"] == "completed" and res.json()["actual_minutes"] == 115 and res.json()["completed_at"]
    assert api.post(f"/tracker/plans/{plan['id']}/complete", {}).status_code == 409
    assert api.get("/tracker/dashboard").json()["hours_studied"] == round(115 / 60, 2)
    listing = api.get("/tracker/plans").json()
    assert listing["summary"] == {"total_plans": 1, "pending": 0, "completed": 1, "missed": 0, "total_planned_minutes": 60}


def test_plans_of_another_user_are_invisible(api, make_user, client_for):
    course = make_course(api)
    plan = api.post("/tracker/plans", plan_body(course["id"], next_weekday(4))).json()["plan"]
    other = client_for(make_user())
    assert other.get(f"/tracker/plans/{plan['id']}").status_code == 404
    assert other.post(f"/tracker/plans/{plan['id']}/complete", {}).status_code == 404
    other_course = make_course(other, "X1")
    assert other.post("/tracker/plans", plan_body(course["id"], next_weekday(4))).status_code == 404
    assert api.post("/tracker/plans", plan_body(other_course["id"], next_weekday(4))).status_code == 404


def test_past_pending_plans_become_missed_in_the_owners_zone(api, student, events):
    """A 10:00-11:00 plan in Tokyo ends at 02:00 UTC: missed at 02:00 UTC, not at 01:59."""
    api.patch("/tracker/preferences", {"time_zone": "Asia/Tokyo"})
    course = make_course(api)
    day = next_weekday(0)
    plan = api.post("/tracker/plans", plan_body(course["id"], day, "10:00", 60)).json()["plan"]
    done = api.post("/tracker/plans", plan_body(course["id"], day, "08:00", 60, topic="done")).json()["plan"]
    api.post(f"/tracker/plans/{done['id']}/complete", {"actual_minutes": 50})
    end_utc = dt.datetime.combine(day, dt.time(1, 0), tzinfo=dt.UTC) + dt.timedelta(hours=1)  # 11:00 JST
    assert mark_missed_plans(now=end_utc - dt.timedelta(minutes=1)) == 0
    assert mark_missed_plans(now=end_utc) == 1
    assert api.get(f"/tracker/plans/{plan['id']}").json()["status"] == "missed"
    assert api.get(f"/tracker/plans/{done['id']}").json()["status"] == "completed"
    assert mark_missed_plans(now=end_utc + dt.timedelta(hours=1)) == 0
    assert [e.event_type for e in events].count("tracker.plan_missed.v1") == 1


def test_timetable_classes_must_end_after_they_start(api):
    course = make_course(api)
    res = api.post(
        "/tracker/timetables",
        {
            "semester": "Fall 2030",
            "classes": [{"course_id": course["id"], "day_of_week": 1, "start_time": "11:00", "end_time": "10:00"}],
        },
    )
    assert res.status_code == 422
    tt = api.post("/tracker/timetables", {"semester": "Fall 2030", "classes": []}).json()
    res = api.post(
        f"/tracker/timetables/{tt['id']}/classes",
        {"course_id": course["id"], "day_of_week": 1, "start_time": "09:00", "end_time": "09:00"},
    )
    assert res.status_code == 422
    res = api.post(
        f"/tracker/timetables/{tt['id']}/classes",
        {"course_id": course["id"], "day_of_week": 7, "start_time": "09:00", "end_time": "10:00"},
    )
    assert res.status_code == 422


def test_one_timetable_per_semester_and_class_edits(api, make_user, client_for):
    course = make_course(api)
    classes = [{"course_id": course["id"], "day_of_week": 1, "start_time": "09:00", "end_time": "10:00", "class_type": "lab"}]
    first = api.post("/tracker/timetables", {"semester": "Fall 2030", "classes": classes}).json()
    again = api.post("/tracker/timetables", {"semester": "Fall 2030", "classes": classes * 2}).json()
    assert again["id"] == first["id"] and len(again["classes"]) == 2
    assert again["classes"][0]["day_name"] == "Monday"
    class_id = again["classes"][0]["id"]
    res = api.patch(f"/tracker/classes/{class_id}", {"location": "Room 305", "instructor": "Prof. New"})
    assert res.status_code == 200 and res.json()["location"] == "Room 305"
    assert api.patch(f"/tracker/classes/{class_id}", {"end_time": "08:00"}).status_code == 422
    other = client_for(make_user())
    assert other.patch(f"/tracker/classes/{class_id}", {"location": "x"}).status_code == 404
    assert other.get(f"/tracker/timetables/{first['id']}").status_code == 404
    assert api.delete(f"/tracker/classes/{class_id}").status_code == 204
    current = api.get("/tracker/timetable/current").json()
    assert current["id"] == first["id"] and len(current["classes"]) == 1
    spring = api.post("/tracker/timetables", {"semester": "Spring 2031"}).json()
    assert api.get("/tracker/timetable/current").json()["id"] == spring["id"]
    assert api.get(f"/tracker/timetables/{first['id']}").json()["is_active"] is False


def test_week_view_expands_classes_in_the_users_zone_across_dst(api):
    """London moves to BST on 30 March 2031: a Monday 09:00 class is 09:00 UTC before, 08:00 UTC after."""
    api.patch("/tracker/preferences", {"time_zone": "Europe/London"})
    course = make_course(api)
    api.post(
        "/tracker/timetables",
        {
            "semester": "Spring 2031",
            "classes": [
                {"course_id": course["id"], "day_of_week": 1, "start_time": "09:00", "end_time": "10:30"},
                {"course_id": course["id"], "day_of_week": 3, "start_time": "14:00", "end_time": "15:00"},
            ],
        },
    )
    week = api.get("/tracker/timetable/week", {"start": "2031-03-24", "end": "2031-04-06"}).json()
    assert week["time_zone"] == "Europe/London"
    mondays = [c for c in week["classes"] if c["day_name"] == "Monday"]
    assert [(c["date"], c["start_utc"], c["start_local"]) for c in mondays] == [
        ("2031-03-24", "2031-03-24T09:00:00Z", "2031-03-24T09:00:00+00:00"),
        ("2031-03-31", "2031-03-31T08:00:00Z", "2031-03-31T09:00:00+01:00"),
    ]
    assert len(week["classes"]) == 4
    assert api.get("/tracker/timetable/week", {"start": "2031-03-24", "end": "2031-06-24"}).status_code == 422
