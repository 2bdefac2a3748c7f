from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.testing import ApiClient


@pytest.fixture
def api(student: Any, client_for: Callable[[Any], ApiClient]) -> ApiClient:
    return client_for(student)


def make_course(api: ApiClient, code: str = "CS201", **extra: Any) -> dict[str, Any]:
    body = {
        "name": extra.pop("name", f"Course {code}"),
        "code": code,
        "credits": extra.pop("credits", 3),
        "semester": extra.pop("semester", "Fall 2030"),
        **extra,
    }
    res = api.post("/tracker/courses", body)
    assert res.status_code == 201, res.content
    return res.json()


def add_result(api: ApiClient, course_id: str, score: Any, max_score: Any = 100, **extra: Any) -> dict[str, Any]:
    body = {
        "course_id": course_id,
        "assessment_type": extra.pop("assessment_type", "quiz"),
        "score": str(score),
        "max_score": str(max_score),
        "date": extra.pop("date", "2030-10-01"),
        **extra,
    }
    res = api.post("/tracker/results", body)
    assert res.status_code == 201, res.content
    return res.json()


def queries_for(fn: Callable[[], Any]) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return len(ctx.captured_queries), result
