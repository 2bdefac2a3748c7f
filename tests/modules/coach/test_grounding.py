"""The grounding the coach sends: the student's real figures, nobody else's, bounded, fixed queries."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.test import override_settings
from django.utils import timezone

from core.testing import count_queries, describe

pytestmark = pytest.mark.django_db


def context(api) -> dict:
    res = api.get("/coach/context")
    assert res.status_code == 200, res.content
    return res.json()


def test_context_holds_the_students_real_figures(networks_student, client_for):
    api = client_for(networks_student)
    # The tracker's own figures for the course, to compare with (never recomputed here).
    courses = {c["code"]: c for c in api.get("/tracker/courses").json()["items"]}
    net = api.get(f"/tracker/courses/{courses['NET301']['id']}").json()
    ctx = context(api)
    text = ctx["text"]
    assert ctx["sections"][:2] == ["gpa", "courses"]
    assert {"study_hours", "plans", "deadlines", "weak_assessment_types"} <= set(ctx["sections"])
    # Courses, weakest first, with the tracker's average and letter.
    net_line = next(line for line in text.splitlines() if line.startswith("- NET301"))
    assert "Computer Networks (4 credits)" in net_line and "3 results" in net_line
    assert net["average_percentage"] is not None
    assert f"average {net['average_percentage']:.1f}%" in net_line
    assert text.index("- NET301") < text.index("- MA202")
    # Study hours over 4 weeks, deadlines in 14 days, GPA target.
    assert "- MA202: 5.00 h" in text and "- NET301: 0.75 h" in text
    assert "NET301: Subnetting lab report" in text
    assert "target 3.50" in text
    assert "quiz: average" in text  # quizzes are the weak assessment type (48 and 52 against an overall 68)
    assert ctx["tokens"] <= ctx["max_tokens"]


def test_context_has_nothing_of_another_student(networks_student, make_user, tracker_for, client_for):
    other = make_user("student")
    t = tracker_for(other)
    t.course("SECRET9", "Underwater Basket Weaving", 2)
    t.result("SECRET9", "final", 12)
    t.assignment("SECRET9", "Private essay", days=1)
    text = context(client_for(networks_student))["text"]
    assert "SECRET9" not in text and "Basket" not in text and "Private essay" not in text
    other_text = context(client_for(other))["text"]
    assert "SECRET9" in other_text and "NET301" not in other_text


def bulk_results(api, courses: list[str], n: int) -> None:
    rows = ["course_code,assessment_type,score,date"]
    rng = random.Random(7)
    today = timezone.now().date()
    for i in range(n):
        kind = ("quiz", "midterm", "final", "assignment", "project")[i % 5]
        rows.append(f"{courses[i % len(courses)]},{kind},{rng.randint(30, 100)},{today - dt.timedelta(days=i % 120)}")
    upload = io.BytesIO("\n".join(rows).encode())
    upload.name = "results.csv"
    res = api.post("/tracker/results/import", {}, files={"file": upload})
    assert res.status_code == 200, res.content
    assert res.json().get("imported", n) == n, res.json()


def test_context_stays_under_its_cap_with_30_courses_and_2000_results_in_fixed_queries(make_user, tracker_for, client_for):
    small = make_user("student")
    ts = tracker_for(small)
    ts.course("A1", "Alpha", 3)
    ts.result("A1", "quiz", 70)
    big = make_user("student")
    tb = tracker_for(big)
    codes = [f"C{i:02d}" for i in range(30)]
    for i, code in enumerate(codes):
        tb.course(code, f"Course number {i} with a fairly long descriptive name", 1 + i % 6)
    bulk_results(tb.api, codes, 2000)
    for i, code in enumerate(codes[:20]):
        tb.study(code, 30 + i, days_ago=1 + i % 20)
        tb.assignment(code, f"Assignment for {code} with a long title to take room", days=1 + i % 13)

    with override_settings(COACH_CONTEXT_MAX_TOKENS=700):
        api_small, api_big = client_for(small), client_for(big)
        context(api_small), context(api_big)  # warm the session caches of both clients
        with count_queries() as q_small:
            ctx_small = context(api_small)
        with count_queries() as q_big:
            ctx_big = context(api_big)
    assert ctx_big["tokens"] <= 700 < len(ctx_big["text"])  # tokens are estimated at ~4 characters
    assert len(ctx_big["text"]) <= 700 * 4 + 20
    assert "more not shown" in ctx_big["text"]  # trimmed, and says so
    assert set(ctx_big["sections"]) >= {"gpa", "courses", "study_hours", "deadlines"}
    assert len(q_small) == len(q_big), describe(q_big)
    assert len(q_big) <= 15, describe(q_big)
    assert ctx_small["tokens"] < ctx_big["tokens"]


def test_the_weakest_courses_survive_trimming(make_user, tracker_for, client_for):
    user = make_user("student")
    t = tracker_for(user)
    for i in range(25):
        t.course(f"K{i:02d}", f"Course {i}", 3)
        t.result(f"K{i:02d}", "midterm", 60 + i)
    with override_settings(COACH_CONTEXT_MAX_TOKENS=250):
        ctx = context(client_for(user))
    assert ctx["tokens"] <= 250
    assert "- K00 Course 0" in ctx["text"]  # the weakest course, 60 %
    assert "- K24 " not in ctx["text"].split("## Courses")[1].split("##")[0]  # the strongest was trimmed
