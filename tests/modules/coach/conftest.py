"""Coach fixtures: tracker data made through the tracker's own HTTP API (never its models), and the
fake LLM servers from tests/plugins/llm."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from core.registry import is_enabled
from tests.plugins.llm.fakes import FakeGemini, FakeOpenAI

if not is_enabled("coach"):  # switched off (ENABLED_MODULES): nothing here to test
    collect_ignore_glob = ["test_*.py"]


@dataclass
class Tracker:
    """Builds a student's tracker data through /api/v1/tracker."""

    api: Any
    courses: dict[str, str] = field(default_factory=dict)  # code -> id

    def ok(self, res: Any, status: int = 201) -> dict[str, Any]:
        assert res.status_code == status, res.content
        return res.json() if res.content else {}

    def course(self, code: str, name: str, credits: int = 3) -> str:
        body = self.ok(
            self.api.post("/tracker/courses", {"code": code, "name": name, "credits": credits, "semester": "Spring 2026"})
        )
        self.courses[code] = body["id"]
        return body["id"]

    def result(self, code: str, kind: str, score: float, *, max_score: float = 100, days_ago: int = 10, name: str = "") -> None:
        self.ok(
            self.api.post(
                "/tracker/results",
                {
                    "course_id": self.courses[code],
                    "assessment_type": kind,
                    "name": name or f"{kind} {days_ago}",
                    "score": str(score),
                    "max_score": str(max_score),
                    "date": (timezone.now().date() - dt.timedelta(days=days_ago)).isoformat(),
                },
            )
        )

    def study(self, code: str, minutes: int, *, days_ago: int = 2) -> None:
        start = timezone.now() - dt.timedelta(days=days_ago, hours=2)
        self.ok(
            self.api.post(
                "/tracker/sessions",
                {
                    "course_id": self.courses[code],
                    "started_at": start.isoformat(),
                    "ended_at": (start + dt.timedelta(minutes=minutes)).isoformat(),
                },
            )
        )

    def assignment(self, code: str, title: str, *, days: float) -> None:
        self.ok(
            self.api.post(
                "/tracker/assignments",
                {
                    "course_id": self.courses[code],
                    "title": title,
                    "due_at": (timezone.now() + dt.timedelta(days=days)).isoformat(),
                },
            )
        )

    def plan(self, code: str, topic: str, *, start: str, complete: bool) -> None:
        """A plan for today (the tracker refuses past dates) at ``start``; optionally completed."""
        plan = self.ok(
            self.api.post(
                "/tracker/plans",
                {
                    "course_id": self.courses[code],
                    "topic": topic,
                    "date": timezone.now().date().isoformat(),
                    "start_time": start,
                    "planned_minutes": 60,
                },
            )
        )
        if complete:
            self.ok(self.api.post(f"/tracker/plans/{plan['plan']['id']}/complete", {}), 200)

    def target_gpa(self, value: str) -> None:
        self.ok(self.api.patch("/tracker/preferences", {"target_gpa": value}), 200)


@pytest.fixture
def tracker_for(client_for: Any) -> Any:
    return lambda user: Tracker(client_for(user))


@pytest.fixture
def networks_student(student: Any, tracker_for: Any) -> Any:
    """A student weak in Computer Networks, strong in Linear Algebra, with a deadline coming."""
    t = tracker_for(student)
    t.course("NET301", "Computer Networks", 4)
    t.course("MA202", "Linear Algebra", 3)
    t.result("NET301", "quiz", 48, days_ago=30)
    t.result("NET301", "midterm", 61, days_ago=20)
    t.result("NET301", "quiz", 52, days_ago=5)
    t.result("MA202", "midterm", 91, days_ago=18)
    t.result("MA202", "final", 88, days_ago=3)
    t.study("MA202", 300, days_ago=3)
    t.study("NET301", 45, days_ago=4)
    t.assignment("NET301", "Subnetting lab report", days=2)
    t.target_gpa("3.50")
    student.tracker = t
    return student


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    server = FakeGemini().start()
    yield server
    server.stop()
