"""Sessions and messages through HTTP, on the offline engine and on the engine plugins' fake servers."""

from __future__ import annotations

import threading
import time

import pytest
from django.test import override_settings

from core.registry import HOOKS, hooks

pytestmark = pytest.mark.django_db


def new_session(api, title: str = "") -> dict:
    res = api.post("/coach/sessions", {"title": title} if title else {})
    assert res.status_code == 201, res.content
    return res.json()


def ask(api, session_id: str, text: str):
    return api.post(f"/coach/sessions/{session_id}/messages", {"text": text})


def messages(api, session_id: str) -> list[dict]:
    res = api.get(f"/coach/sessions/{session_id}/messages", {"limit": 100})
    assert res.status_code == 200, res.content
    return res.json()["items"]


# --- sessions ---------------------------------------------------------------------------------------


def test_session_lifecycle_and_activity_order(student, client_for):
    api = client_for(student)
    first = new_session(api, "Exam prep")
    second = new_session(api)
    assert ask(api, first["id"], "What should I study?").status_code == 200
    listed = api.get("/coach/sessions").json()
    assert [s["id"] for s in listed["items"]] == [first["id"], second["id"]]  # newest activity first
    assert listed["total"] == 2
    untitled = api.get(f"/coach/sessions/{second['id']}").json()
    assert untitled["title"] == ""
    res = api.patch(f"/coach/sessions/{first['id']}", {"title": "Networks"})
    assert res.status_code == 200 and res.json()["title"] == "Networks"
    assert api.patch(f"/coach/sessions/{first['id']}", {"title": ""}).status_code == 422
    assert api.delete(f"/coach/sessions/{first['id']}").status_code == 204
    assert api.get(f"/coach/sessions/{first['id']}").status_code == 404
    assert [s["id"] for s in api.get("/coach/sessions").json()["items"]] == [second["id"]]


def test_first_message_names_an_untitled_session(student, client_for):
    api = client_for(student)
    s = new_session(api)
    ask(api, s["id"], "How do I plan for finals?")
    assert api.get(f"/coach/sessions/{s['id']}").json()["title"] == "How do I plan for finals?"


def test_another_users_session_is_404_on_every_route(student, make_user, client_for):
    owner_api = client_for(student)
    s = new_session(owner_api, "Mine")
    ask(owner_api, s["id"], "Hello coach")
    other = client_for(make_user("student"))
    sid = s["id"]
    for res in (
        other.get(f"/coach/sessions/{sid}"),
        other.patch(f"/coach/sessions/{sid}", {"title": "stolen"}),
        other.delete(f"/coach/sessions/{sid}"),
        other.get(f"/coach/sessions/{sid}/messages"),
        ask(other, sid, "Let me in"),
    ):
        assert res.status_code == 404, res.content
        assert res["Content-Type"] == "application/problem+json"
    assert other.get("/coach/sessions").json()["items"] == []
    # Nothing changed for the owner.
    assert owner_api.get(f"/coach/sessions/{sid}").json()["title"] == "Mine"
    assert len(messages(owner_api, sid)) == 2


def test_anonymous_is_401(anon):
    assert anon.get("/coach/sessions").status_code == 401
    assert anon.get("/coach/insights").status_code == 401


@pytest.mark.parametrize("text", ["", "x" * 4001])
def test_message_length_is_checked(student, client_for, text):
    api = client_for(student)
    s = new_session(api)
    res = ask(api, s["id"], text)
    assert res.status_code == 422
    assert messages(api, s["id"]) == []


def test_whitespace_only_message_is_refused(student, client_for):
    api = client_for(student)
    s = new_session(api)
    assert ask(api, s["id"], "   \n ").status_code == 422
    assert messages(api, s["id"]) == []


def test_message_of_4000_characters_is_accepted(student, client_for):
    api = client_for(student)
    s = new_session(api)
    assert ask(api, s["id"], "y" * 4000).status_code == 200


def test_session_write_schema_refuses_extra_fields(student, client_for):
    assert client_for(student).post("/coach/sessions", {"title": "a", "user_id": "x"}).status_code == 422


# --- the offline coach, grounded ----------------------------------------------------------------------


def test_offline_reply_cites_real_figures(networks_student, client_for):
    api = client_for(networks_student)
    s = new_session(api)
    res = ask(api, s["id"], "How can I improve in Computer Networks?")
    assert res.status_code == 200, res.content
    reply = res.json()
    assert reply["role"] == "assistant" and reply["engine"] == "offline"
    text = reply["text"]
    assert "offline coach" in text
    assert "Computer Networks (NET301)" in text and "weakest course" in text
    assert "0.75 h" in text  # 45 minutes logged for NET301 in the last 4 weeks
    assert "Subnetting lab report" in text  # the next deadline
    assert "3.50" in text  # the target GPA
    for section in ("gpa", "courses", "study_hours", "plans", "deadlines"):
        assert section in reply["context_sections"]
    assert reply["tokens_in"] > 0 and reply["tokens_out"] > 0
    # The conversation is stored, oldest first.
    stored = messages(api, s["id"])
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[0]["text"] == "How can I improve in Computer Networks?"
    assert stored[1]["text"] == text and stored[1]["id"] == reply["id"]


def test_offline_reply_for_a_student_without_data_is_honest(student, client_for):
    api = client_for(student)
    s = new_session(api)
    text = ask(api, s["id"], "How am I doing?").json()["text"]
    assert "do not see any courses or results" in text
    assert "%" not in text  # no invented figures


def test_messages_are_cursor_paged_oldest_first(student, client_for):
    api = client_for(student)
    s = new_session(api)
    for i in range(3):
        assert ask(api, s["id"], f"question {i}").status_code == 200
    page1 = api.get(f"/coach/sessions/{s['id']}/messages", {"limit": 4}).json()
    page2 = api.get(f"/coach/sessions/{s['id']}/messages", {"limit": 4, "cursor": page1["next_cursor"]}).json()
    texts = [m["text"] for m in page1["items"] + page2["items"] if m["role"] == "user"]
    assert texts == ["question 0", "question 1", "question 2"]
    assert page2["next_cursor"] is None


def test_message_list_runs_a_fixed_number_of_queries(student, client_for, django_assert_max_num_queries):
    from core.testing import count_queries

    api = client_for(student)
    s = new_session(api)
    ask(api, s["id"], "one")
    api.get(f"/coach/sessions/{s['id']}/messages")
    with count_queries() as few:
        api.get(f"/coach/sessions/{s['id']}/messages")
    for i in range(5):
        ask(api, s["id"], f"more {i}")
    with count_queries() as many:
        assert len(api.get(f"/coach/sessions/{s['id']}/messages", {"limit": 100}).json()["items"]) == 12
    assert len(few) == len(many)


# --- quota and lock ----------------------------------------------------------------------------------


def test_message_quota_answers_429_and_calls_no_engine(student, client_for, fake_openai):
    api = client_for(student)
    s = new_session(api)
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1", COACH_DAILY_MESSAGES=2):
        assert ask(api, s["id"], "one").status_code == 200
        assert ask(api, s["id"], "two").status_code == 200
        assert len(fake_openai.requests) == 2
        res = ask(api, s["id"], "three")
        assert res.status_code == 429
        assert res["Content-Type"] == "application/problem+json"
        assert res.json()["code"] == "coach_quota"
        assert 0 < int(res["Retry-After"]) <= 86400
        assert len(fake_openai.requests) == 2  # the engine was never asked
        usage = api.get("/coach/usage").json()
        assert usage["messages_today"] == 2 and usage["daily_messages"] == 2
    assert [m["text"] for m in messages(api, s["id"]) if m["role"] == "user"] == ["one", "two"]


def test_token_quota_answers_429(student, client_for, fake_openai):
    api = client_for(student)
    s = new_session(api)
    fake_openai.tokens = (150, 10)
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1", COACH_DAILY_TOKENS=100):
        assert ask(api, s["id"], "one").json()["tokens_in"] == 150
        res = ask(api, s["id"], "two")
        assert res.status_code == 429
        assert "tokens" in res.json()["detail"]
    assert len(fake_openai.requests) == 1


def test_quota_is_per_user(make_user, client_for):
    a, b = client_for(make_user("student")), client_for(make_user("student"))
    sa, sb = new_session(a), new_session(b)
    with override_settings(COACH_DAILY_MESSAGES=1):
        assert ask(a, sa["id"], "hi").status_code == 200
        assert ask(a, sa["id"], "again").status_code == 429
        assert ask(b, sb["id"], "hi").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_second_message_while_answering_is_409(student, client_for, fake_openai):
    api = client_for(student)
    s = new_session(api)
    fake_openai.script.append(("hang", None))
    results: dict[str, int] = {}
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1", COACH_TIMEOUT_SECONDS=10):

        def slow() -> None:
            results["first"] = ask(client_for(student), s["id"], "first").status_code

        worker = threading.Thread(target=slow)
        worker.start()
        deadline = time.monotonic() + 5
        while not fake_openai.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake_openai.requests, "the first message never reached the engine"
        res = ask(api, s["id"], "second")
        assert res.status_code == 409, res.content
        assert res.json()["code"] == "coach_busy"
        fake_openai.release.set()  # the hung connection drops; the engine retries and answers
        worker.join(15)
        assert results["first"] == 200
        assert ask(api, s["id"], "third").status_code == 200  # the lock is released
    assert [m["text"] for m in messages(api, s["id"]) if m["role"] == "user"] == ["first", "third"]


# --- engine failure --------------------------------------------------------------------------------------


def test_engine_hang_answers_503_and_keeps_the_question(student, client_for, fake_openai):
    api = client_for(student)
    s = new_session(api)
    fake_openai.script.append(("hang", None))
    started = time.monotonic()
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1", COACH_TIMEOUT_SECONDS=0.8):
        res = ask(api, s["id"], "Will you answer?")
    assert time.monotonic() - started < 5
    assert res.status_code == 503
    assert res["Content-Type"] == "application/problem+json"
    assert res.json()["code"] == "coach_timeout" and res.json()["status"] == 503
    stored = messages(api, s["id"])
    assert [(m["role"], m["text"]) for m in stored] == [("user", "Will you answer?")]  # no half reply
    # After the failure the student can ask again (the lock was released).
    assert ask(api, s["id"], "Again?").status_code == 200


def test_engine_errors_are_503_after_retries(student, client_for, fake_openai):
    api = client_for(student)
    s = new_session(api)
    fake_openai.script.extend([("status", 500)] * 4)
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1", COACH_TIMEOUT_SECONDS=10):
        res = ask(api, s["id"], "Hello?")
    assert res.status_code == 503 and res.json()["code"] == "coach_unavailable"
    assert len(fake_openai.requests) == 4
    assert [m["role"] for m in messages(api, s["id"])] == ["user"]


def test_a_429_from_the_engine_is_retried_transparently(student, client_for, fake_openai):
    api = client_for(student)
    s = new_session(api)
    fake_openai.script.append(("status", 429))
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        res = ask(api, s["id"], "Hello?")
    assert res.status_code == 200 and res.json()["text"] == "Hello from the fake."
    assert len(fake_openai.requests) == 2


def test_coach_switched_off_answers_503(student, client_for):
    api = client_for(student)
    s = new_session(api)
    with override_settings(COACH_ENGINE="off"):
        res = ask(api, s["id"], "Hello?")
    assert res.status_code == 503 and res.json()["code"] == "coach_off"


# --- the engines through the API: what they are sent ----------------------------------------------------


def test_openai_engine_gets_grounding_history_and_system_rules(networks_student, client_for, fake_openai):
    api = client_for(networks_student)
    s = new_session(api)
    fake_openai.reply_chunks = ["Focus on ", "NET301 quizzes."]
    fake_openai.tokens = (512, 6)
    with override_settings(
        COACH_ENGINE="openai_compatible",
        OPENAI_BASE_URL=fake_openai.url + "/v1",
        OPENAI_MODEL="qwen2.5",
        COACH_HISTORY_MESSAGES=2,
    ):
        ask(api, s["id"], "First question")
        ask(api, s["id"], "Second question")
        reply = ask(api, s["id"], "How can I improve in Computer Networks?").json()
    assert reply["text"] == "Focus on NET301 quizzes."
    assert (reply["tokens_in"], reply["tokens_out"], reply["engine"]) == (512, 6, "openai_compatible")
    body = fake_openai.requests[-1]["json"]
    assert body["model"] == "qwen2.5"
    system = body["messages"][0]["content"]
    assert body["messages"][0]["role"] == "system"
    assert "Never invent" in system and "Only discuss study matters" in system
    assert "NET301 Computer Networks (4 credits)" in system and "Subnetting lab report" in system
    # History is bounded: only the last exchange before the new question.
    assert [(m["role"], m["content"]) for m in body["messages"][1:]] == [
        ("user", "Second question"),
        ("assistant", "Focus on NET301 quizzes."),
        ("user", "How can I improve in Computer Networks?"),
    ]


def test_gemini_engine_through_the_api(networks_student, client_for, fake_gemini):
    api = client_for(networks_student)
    s = new_session(api)
    fake_gemini.reply_chunks = ["Practise ", "subnetting."]
    fake_gemini.tokens = (700, 4)
    with override_settings(
        COACH_ENGINE="gemini", GEMINI_API_KEY="k-test", GEMINI_BASE_URL=fake_gemini.url, COACH_MODEL="gemini-2.5-flash"
    ):
        res = ask(api, s["id"], "How can I improve in Computer Networks?")
    assert res.status_code == 200, res.content
    reply = res.json()
    assert (reply["text"], reply["engine"], reply["tokens_in"], reply["tokens_out"]) == ("Practise subnetting.", "gemini", 700, 4)
    body = fake_gemini.requests[0]["json"]
    assert "NET301 Computer Networks" in body["systemInstruction"]["parts"][0]["text"]
    assert body["contents"][-1]["parts"][0]["text"] == "How can I improve in Computer Networks?"


def test_gemini_hang_answers_503(student, client_for, fake_gemini):
    api = client_for(student)
    s = new_session(api)
    fake_gemini.script.append(("hang", None))
    with override_settings(COACH_ENGINE="gemini", GEMINI_API_KEY="k", GEMINI_BASE_URL=fake_gemini.url, COACH_TIMEOUT_SECONDS=1):
        res = ask(api, s["id"], "Anyone there?")
    assert res.status_code == 503 and res.json()["code"] == "coach_timeout"
    assert [m["role"] for m in messages(api, s["id"])] == ["user"]


# --- the student's data: export and erasure ----------------------------------------------------------


def test_export_and_erase_hooks_cover_prompts_and_replies(student, make_user, client_for):
    api = client_for(student)
    s = new_session(api, "Private")
    ask(api, s["id"], "My secret worry about exams")
    other = make_user("student")
    ask(client_for(other), new_session(client_for(other))["id"], "Someone else's question")
    (export_fn,) = [fn for owner, fn in hooks.entries(HOOKS.USER_EXPORT) if owner == "coach"]
    data = export_fn(student)
    assert [x["title"] for x in data["sessions"]] == ["Private"]
    assert [m["text"] for m in data["messages"]][0] == "My secret worry about exams"
    assert len(data["messages"]) == 2 and all("Someone else" not in m["text"] for m in data["messages"])
    (erase_fn,) = [fn for owner, fn in hooks.entries(HOOKS.USER_ERASE) if owner == "coach"]
    erase_fn(student)
    assert export_fn(student) == {"sessions": [], "messages": []}
    assert len(export_fn(other)["messages"]) == 2


def test_with_the_cache_down_the_coach_still_answers(student, client_for):
    """Redis stopped: core's resilient cache answers add() with False; that must not become 409 forever."""
    api = client_for(student)
    s = new_session(api)
    down = {"default": {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:9/0"}}
    with override_settings(CACHES=down):
        first = ask(api, s["id"], "Still there?")
        second = ask(api, s["id"], "And again?")
    assert (first.status_code, second.status_code) == (200, 200), (first.content, second.content)


def test_session_list_runs_a_fixed_number_of_queries(student, client_for):
    from core.testing import count_queries, describe

    api = client_for(student)
    new_session(api)
    api.get("/coach/sessions")
    with count_queries() as few:
        api.get("/coach/sessions")
    for i in range(6):
        new_session(api, f"s{i}")
    with count_queries() as many:
        assert api.get("/coach/sessions").json()["total"] == 7
    assert len(few) == len(many), describe(many)


def test_quota_day_is_the_students_own_and_retry_after_points_to_its_midnight(make_user, client_for):
    import datetime as dt
    import zoneinfo

    from django.utils import timezone

    user = make_user("student", timezone="Asia/Tokyo")
    api = client_for(user)
    s = new_session(api)
    with override_settings(COACH_DAILY_MESSAGES=1):
        ask(api, s["id"], "one")
        res = ask(api, s["id"], "two")
    assert res.status_code == 429
    local = timezone.now().astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    expected = (midnight - local).total_seconds()
    assert abs(int(res["Retry-After"]) - expected) <= 5


def test_admin_figures_count_usage_without_content(student, client_for, fake_openai):
    from core.registry import HOOKS, hooks

    api = client_for(student)
    s = new_session(api)
    ask(api, s["id"], "counted")
    fake_openai.script.append(("status", 400))
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        assert ask(api, s["id"], "fails").status_code == 503
    figures = hooks.call(HOOKS.ADMIN_FIGURES, months=1)["coach"]
    assert (figures["coach_questions_last_months"], figures["coach_replies_last_months"]) == (2, 1)
    assert figures["coach_unanswered_last_months"] == 1 and figures["coach_users_30d"] == 1
    assert "counted" not in str(figures)


def test_the_cached_context_follows_a_new_result(student, client_for, tracker_for):
    """The tracker caches the coach's context per student; a new result must reach the next reply."""
    t = tracker_for(student)
    t.course("NET301", "Computer Networks", 4)
    t.result("NET301", "quiz", 55)
    api = client_for(student)
    session = api.post("/coach/sessions", {}).json()
    first = api.post(f"/coach/sessions/{session['id']}/messages", {"text": "How am I doing in Computer Networks?"})
    assert first.status_code == 200 and "55.0%" in first.json()["text"]
    t.result("NET301", "quiz", 95)
    second = api.post(f"/coach/sessions/{session['id']}/messages", {"text": "And now?"})
    assert second.status_code == 200 and "75.0%" in second.json()["text"], second.json()["text"]


def test_todays_usage_is_kept_as_a_running_count_and_recounted_when_the_cache_loses_it(student, client_for):
    from django.core.cache import cache

    api = client_for(student)
    s = new_session(api)
    with override_settings(COACH_DAILY_MESSAGES=2):
        assert ask(api, s["id"], "one").status_code == 200
        used = api.get("/coach/usage").json()
        assert used["messages_today"] == 1 and used["tokens_today"] > 0
        cache.clear()  # a Redis restart: counted again from the stored messages
        assert api.get("/coach/usage").json() == used
        assert api.delete(f"/coach/sessions/{s['id']}").status_code == 204  # deleting hands nothing back
        s2 = new_session(api)
        assert ask(api, s2["id"], "two").status_code == 200
        res = ask(api, s2["id"], "three")
        assert res.status_code == 429 and res.json()["code"] == "coach_quota"
