from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from modules.tracker.models import StudySession
from modules.tracker.tasks import mark_overdue_assignments
from tests.modules.tracker.conftest import make_course

pytestmark = pytest.mark.django_db


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def test_assignment_lifecycle(api, make_user, client_for):
    course = make_course(api, "CS201", name="Data Structures")
    due = timezone.now() + dt.timedelta(days=5, hours=1)
    res = api.post(
        "/tracker/assignments", {"course_id": course["id"], "title": "Sorting", "due_at": iso(due), "priority": "high"}
    )
    assert res.status_code == 201, res.content
    a = res.json()
    assert a["status"] == "pending" and a["days_until_due"] == 5 and a["course"]["code"] == "CS201"
    past = api.post(
        "/tracker/assignments",
        {"course_id": course["id"], "title": "Late", "due_at": iso(timezone.now() - dt.timedelta(hours=1))},
    )
    assert past.status_code == 422
    assert api.get("/tracker/assignments", {"upcoming": "true"}).json()["total"] == 1
    assert api.get("/tracker/dashboard").json()["assignments_due"] == 1
    other = client_for(make_user())
    assert other.post(f"/tracker/assignments/{a['id']}/complete").status_code == 404
    done = api.post(f"/tracker/assignments/{a['id']}/complete")
    assert done.status_code == 200 and done.json()["status"] == "completed" and done.json()["completed_at"]
    assert api.post(f"/tracker/assignments/{a['id']}/complete").status_code == 409
    assert api.get("/tracker/assignments", {"status": "completed"}).json()["total"] == 1
    assert api.get("/tracker/dashboard").json()["assignments_due"] == 0


def test_overdue_assignments_are_marked_and_the_owner_told_once(api, student, events, django_capture_on_commit_callbacks):
    course = make_course(api, "CS201", name="Data Structures")
    due = timezone.now() + dt.timedelta(days=2)
    a = api.post("/tracker/assignments", {"course_id": course["id"], "title": "Sorting", "due_at": iso(due)}).json()
    b = api.post(
        "/tracker/assignments", {"course_id": course["id"], "title": "Graphs", "due_at": iso(due + dt.timedelta(days=3))}
    ).json()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert mark_overdue_assignments(now=due - dt.timedelta(minutes=1)) == 0
        assert mark_overdue_assignments(now=due + dt.timedelta(hours=1)) == 1
        assert mark_overdue_assignments(now=due + dt.timedelta(hours=2)) == 0
    assert api.get(f"/tracker/assignments/{a['id']}").json()["status"] == "overdue"
    assert api.get(f"/tracker/assignments/{b['id']}").json()["status"] == "pending"
    assert [e.event_type for e in events].count("tracker.assignment_overdue.v1") == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [student.email] and "Sorting" in mail.outbox[0].subject
    assert api.get("/tracker/dashboard").json()["assignments_overdue"] == 1


def test_timer_start_stop_and_one_at_a_time(api):
    course = make_course(api)
    started = api.post("/tracker/sessions/start", {"course_id": course["id"]})
    assert started.status_code == 201 and started.json()["running"] is True
    assert api.post("/tracker/sessions/start", {}).status_code == 409
    assert api.get("/tracker/sessions/current").json()["id"] == started.json()["id"]
    StudySession.objects.filter(id=started.json()["id"]).update(started_at=timezone.now() - dt.timedelta(minutes=47, seconds=10))
    stopped = api.post(f"/tracker/sessions/{started.json()['id']}/stop", {"notes": "good focus"})
    assert stopped.status_code == 200
    assert stopped.json()["running"] is False and stopped.json()["duration_minutes"] == 47
    assert api.post(f"/tracker/sessions/{started.json()['id']}/stop", {}).status_code == 409
    assert api.get("/tracker/sessions/current").status_code == 404


def test_logged_session_derives_duration_and_refuses_end_before_start(api, make_user, client_for):
    course = make_course(api)
    start = timezone.now() - dt.timedelta(hours=3)
    bad = api.post(
        "/tracker/sessions",
        {"course_id": course["id"], "started_at": iso(start), "ended_at": iso(start - dt.timedelta(minutes=5))},
    )
    assert bad.status_code == 422
    same = api.post("/tracker/sessions", {"course_id": course["id"], "started_at": iso(start), "ended_at": iso(start)})
    assert same.status_code == 422
    ok = api.post(
        "/tracker/sessions",
        {"course_id": course["id"], "started_at": iso(start), "ended_at": iso(start + dt.timedelta(minutes=95))},
    )
    assert ok.status_code == 201 and ok.json()["duration_minutes"] == 95
    other = client_for(make_user())
    assert other.delete(f"/tracker/sessions/{ok.json()['id']}").status_code == 404
    assert (
        other.post(
            "/tracker/sessions",
            {"course_id": course["id"], "started_at": iso(start), "ended_at": iso(start + dt.timedelta(minutes=5))},
        ).status_code
        == 404
    )


def test_a_timer_on_a_plan_marks_it_in_progress_and_its_minutes_complete_it(api):
    course = make_course(api)
    day = timezone.now().date() + dt.timedelta(days=1)
    plan = api.post(
        "/tracker/plans",
        {"course_id": course["id"], "topic": "Graphs", "date": day.isoformat(), "start_time": "09:00", "planned_minutes": 60},
    ).json()["plan"]
    session = api.post("/tracker/sessions/start", {"plan_id": plan["id"]}).json()
    assert session["course"]["id"] == course["id"]
    assert api.get(f"/tracker/plans/{plan['id']}").json()["status"] == "in-progress"
    StudySession.objects.filter(id=session["id"]).update(started_at=timezone.now() - dt.timedelta(minutes=52))
    api.post(f"/tracker/sessions/{session['id']}/stop", {})
    done = api.post(f"/tracker/plans/{plan['id']}/complete", {}).json()
    assert done["status"] == "completed" and done["actual_minutes"] == 52
    assert StudySession.objects.count() == 1  # no second session: the timer already logged the time
    assert api.get("/tracker/dashboard").json()["hours_studied"] == round(52 / 60, 2)
