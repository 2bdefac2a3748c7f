"""Weak-area insights, tutor suggestions through the marketplace's port, and the weekly report's insights."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings

from core.registry import is_enabled, ports

pytestmark = pytest.mark.django_db
TUTORS_PORT = "marketplace.tutor_suggestions"
needs_marketplace = pytest.mark.skipif(not is_enabled("marketplace"), reason="the marketplace module is off")


@pytest.fixture
def marketplace_off() -> Iterator[None]:
    """The marketplace's port as it is when the module is switched off: absent."""
    saved = ports.get(TUTORS_PORT) if ports.has(TUTORS_PORT) else None
    ports.unregister(TUTORS_PORT)
    yield
    if saved is not None:
        ports.register(TUTORS_PORT, saved)


def ok(res: Any, status: int = 200) -> dict[str, Any]:
    assert res.status_code == status, res.content
    return res.json()


@pytest.fixture
def networks_tutor(make_user: Any, admin_user: Any, client_for: Any) -> dict[str, Any]:
    """An approved Computer Networks tutor, free 08:00-20:00 UTC every day, made through the marketplace's API."""
    admin = client_for(admin_user)
    subject = ok(admin.post("/marketplace/subjects", {"name": "Computer Networks", "category": "Computing"}), 201)
    tutor_user = make_user("tutor", first_name="Nadia", last_name="Router")
    api = client_for(tutor_user)
    profile = ok(
        api.patch(
            "/marketplace/tutors/me",
            {
                "title": "Networks tutor",
                "headline": "TCP/IP and subnetting made clear",
                "bio": "Ten years of teaching computer networks at university level.",
                "hourly_rate_minor": 4500,
                "currency": "USD",
                "languages": [{"code": "en", "proficiency": "native"}],
                "subject_ids": [subject["id"]],
                "timezone": "UTC",
            },
        )
    )
    ok(
        api.put(
            "/marketplace/tutors/me/availability/rules",
            {"rules": [{"weekday": d, "start_time": "08:00", "end_time": "20:00"} for d in range(7)]},
        )
    )
    ok(api.post("/marketplace/tutors/me/submit", {}))
    ok(admin.post(f"/marketplace/admin/tutors/{profile['id']}/approve", {}))
    return {"id": profile["id"], "name": "Nadia Router"}


def timetable_every_day(student_api: Any, course_id: str, start: str = "09:00:00", end: str = "17:00:00") -> None:
    ok(
        student_api.post(
            "/tracker/timetables",
            {
                "semester": "Spring 2026",
                "classes": [{"course_id": course_id, "day_of_week": d, "start_time": start, "end_time": end} for d in range(7)],
            },
        ),
        201,
    )


# --- insights ----------------------------------------------------------------------------------------


def test_insights_name_the_weak_areas_with_figures(networks_student, client_for):
    api = client_for(networks_student)
    net = next(c for c in api.get("/tracker/courses").json()["items"] if c["code"] == "NET301")
    body = ok(api.get("/coach/insights"))
    weakest = body["weakest_courses"][0]
    assert weakest["code"] == "NET301" and weakest["name"] == "Computer Networks"
    assert float(weakest["average"]) == pytest.approx(net["average_percentage"], abs=0.01)
    assert body["weakest_courses"][1]["code"] == "MA202"
    assert body["weak_assessment_types"][0]["assessment_type"] == "quiz"
    assert float(body["weak_assessment_types"][0]["average"]) == pytest.approx(50.0)
    under = {u["code"]: u for u in body["under_studied_courses"]}
    assert "MA202" not in under
    # 5.75 h in 4 weeks over 7 credits: NET301's 4 credits would suggest about 3.29 h; it got 0.75 h.
    assert (under["NET301"]["hours"], under["NET301"]["expected_hours"]) == ("0.75", "3.29")
    assert body["total_hours_4_weeks"] == "5.75"
    (risk,) = body["deadlines_at_risk"]
    assert risk["title"] == "Subnetting lab report" and "due within 3 days" in risk["reasons"]
    assert "course average below 70%" in risk["reasons"]
    assert body["plan_completion"]["total"] == 0
    assert body["gpa"]["target"] == "3.50"
    assert body["engine"] == "offline" and "offline coach" in body["narrative"]


def test_insights_count_plans(student, tracker_for, client_for):
    t = tracker_for(student)
    t.course("P1", "Physics", 3)
    t.plan("P1", "Kinematics", start="06:00:00", complete=True)
    t.plan("P1", "Forces", start="08:00:00", complete=False)
    t.plan("P1", "Energy", start="10:00:00", complete=True)
    pc = ok(client_for(student).get("/coach/insights"))["plan_completion"]
    assert (pc["total"], pc["completed"]) == (3, 2)
    assert float(pc["completion_rate"]) == pytest.approx(66.67)


def test_insights_narrative_from_an_engine_and_without_it(networks_student, client_for, fake_openai):
    api = client_for(networks_student)
    fake_openai.reply_chunks = ["NET301 needs ", "your attention first."]
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        body = ok(api.get("/coach/insights"))
        assert body["narrative"] == "NET301 needs your attention first." and body["engine"] == "openai_compatible"
        assert "Computer Networks" in fake_openai.requests[0]["json"]["messages"][0]["content"]
        # The same data again: the narrative comes from the cache, the engine is not asked twice.
        assert ok(api.get("/coach/insights"))["narrative"] == "NET301 needs your attention first."
        assert len(fake_openai.requests) == 1
    cache.clear()
    fake_openai.script.extend([("status", 500)] * 4)
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        body = ok(api.get("/coach/insights"))  # the engine fails: the analysis still answers
    assert len(fake_openai.requests) == 5
    assert "narrative" not in body or body["narrative"] is None
    assert body["weakest_courses"][0]["code"] == "NET301"


# --- tutors -------------------------------------------------------------------------------------------


@needs_marketplace
def test_with_the_marketplace_off_no_reply_or_insight_mentions_a_tutor(
    networks_student, networks_tutor, client_for, marketplace_off, fake_openai
):
    api = client_for(networks_student)
    insights = api.get("/coach/insights")
    assert insights.status_code == 200
    assert "tutor" not in insights.content.decode().lower()
    session = ok(api.post("/coach/sessions", {}), 201)
    reply = ok(api.post(f"/coach/sessions/{session['id']}/messages", {"text": "How can I improve in Computer Networks?"}))
    assert "tutor" not in reply["text"].lower() and "Nadia" not in reply["text"]
    assert "tutors" not in reply["context_sections"]
    # An LLM engine is not even told about tutors.
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        ok(api.post(f"/coach/sessions/{session['id']}/messages", {"text": "Any other advice?"}))
    sent = json.dumps(fake_openai.requests[0]["json"]).lower()
    assert "tutor" not in sent and "nadia" not in sent


@needs_marketplace
def test_with_the_marketplace_on_suggested_slots_miss_the_students_classes(
    networks_student, networks_tutor, client_for, fake_openai
):
    api = client_for(networks_student)
    timetable_every_day(api, networks_student.tracker.courses["NET301"])
    body = ok(api.get("/coach/insights"))
    (suggestion,) = body["tutor_suggestions"]
    assert suggestion["name"] == networks_tutor["name"] and suggestion["subject"] == "Computer Networks"
    assert suggestion["tutor_id"] == networks_tutor["id"]
    slots = suggestion["next_slots"]
    assert slots, "the tutor is free 08-09 and 17-20 every day"
    for slot in slots:
        start, end = dt.datetime.fromisoformat(slot["starts_at"]), dt.datetime.fromisoformat(slot["ends_at"])
        # Classes are 09:00-17:00 UTC every day: a slot may touch them but never overlap.
        class_start = start.replace(hour=9, minute=0, second=0, microsecond=0)
        class_end = start.replace(hour=17, minute=0, second=0, microsecond=0)
        assert end <= class_start or start >= class_end, slot
    # The chat suggests the same tutor, and an LLM engine is given the tutor with the same slots only.
    session = ok(api.post("/coach/sessions", {}), 201)
    reply = ok(api.post(f"/coach/sessions/{session['id']}/messages", {"text": "How can I improve in Computer Networks?"}))
    assert "Nadia Router is an approved tutor" in reply["text"]
    assert "tutors" in reply["context_sections"]
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        ok(api.post(f"/coach/sessions/{session['id']}/messages", {"text": "Who could help me?"}))
    system = fake_openai.requests[0]["json"]["messages"][0]["content"]
    assert "Nadia Router (Computer Networks): next free" in system
    assert slots[0]["starts_at"][:16].replace("T", " ") in system


@needs_marketplace
def test_marketplace_on_without_a_matching_tutor_suggests_nobody(networks_student, client_for):
    body = ok(client_for(networks_student).get("/coach/insights"))
    assert body["tutor_suggestions"] == []


# --- weekly report ------------------------------------------------------------------------------------


def generate_report(api: Any) -> dict[str, Any]:
    return ok(api.post("/tracker/reports/generate", {}), 201)


def test_weekly_report_gets_three_offline_insights(networks_student, client_for):
    report = generate_report(client_for(networks_student))
    assert len(report["insights"]) == 3
    assert report["insights"][0].startswith("Weakest course: Computer Networks at")
    assert all(len(line) < 200 for line in report["insights"])


def test_weekly_report_gets_the_engines_three_lines(networks_student, client_for, fake_openai):
    fake_openai.reply_chunks = [
        "- Study NET301 daily.\n",
        "- Quizzes are weakest.\n",
        "- Start the lab report.\n",
        "- A fourth line.",
    ]
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        report = generate_report(client_for(networks_student))
    assert report["insights"] == ["Study NET301 daily.", "Quizzes are weakest.", "Start the lab report."]


def test_weekly_report_is_made_without_insights_when_the_engine_fails_or_is_off(networks_student, client_for, fake_openai):
    api = client_for(networks_student)
    fake_openai.script.extend([("status", 503)] * 4)
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        assert generate_report(api)["insights"] == []
    with override_settings(COACH_ENGINE="off"):
        assert generate_report(api)["insights"] == []


def test_without_the_marketplace_port_nothing_mentions_a_tutor(networks_student, client_for, marketplace_off):
    """Runs in every subset, including the one where the marketplace module is really switched off."""
    api = client_for(networks_student)
    insights = api.get("/coach/insights")
    assert insights.status_code == 200 and "tutor" not in insights.content.decode().lower()
    session = ok(api.post("/coach/sessions", {}), 201)
    reply = ok(api.post(f"/coach/sessions/{session['id']}/messages", {"text": "Should I get help with Computer Networks?"}))
    assert "tutor" not in reply["text"].lower()
    assert "tutor" not in api.get("/coach/context").content.decode().lower()
    report = ok(api.post("/tracker/reports/generate", {}), 201)
    assert report["insights"] and not any("tutor" in line.lower() for line in report["insights"])
