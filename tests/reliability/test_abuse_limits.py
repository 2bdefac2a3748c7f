"""Authentication abuse and expensive writes (OWASP API2, API4): every limit answers 429 with
Retry-After and an RFC 9457 problem body; the counters live in the cache, so a restart does not reset
them; a client cannot pick its bucket with X-Forwarded-For.

allauth's limits (settings.ACCOUNT_RATE_LIMITS) guard login per IP and per account, signup and
password-reset requests; allauth caps attempts per code (3) in the flow's state; core.ratelimit adds
a per-IP cap on code endpoints, limits on messages, coach messages and uploads, and turns allauth's
bare 429 into a problem.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from PIL import Image

import core.ratelimit
from core.models import Role
from core.registry import HOOKS, hooks, is_enabled
from core.testing import ApiClient
from tests.conftest import PASSWORD, room_in_rate_window
from tests.reliability.conftest import RedisProcess, reset_process_state

pytestmark = pytest.mark.django_db
AUTH = "/_allauth/app/v1"
LIMITS = {**settings.ACCOUNT_RATE_LIMITS}


def post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(AUTH + path, data=body, content_type="application/json", headers=headers)


def assert_problem_429(res: Any, *, max_wait: int) -> None:
    assert res.status_code == 429, (res.status_code, res.content[:300])
    assert res["Content-Type"] == "application/problem+json"
    body = res.json()
    assert body["status"] == 429 and body["code"] in ("throttled", "too_many_login_attempts")
    assert body["type"] and body["title"] and body["detail"]
    assert 1 <= int(res["Retry-After"]) <= max_wait


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


# --- allauth: login, signup, reset, codes ----------------------------------------------------------


@override_settings(ACCOUNT_RATE_LIMITS={**LIMITS, "login": "3/m/ip"})
def test_login_is_limited_per_ip():
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [post(client, "/auth/login", {"email": f"nobody{i}@example.test", "password": "x"}).status_code for i in range(3)]
    assert statuses == [400, 400, 400]
    assert_problem_429(post(client, "/auth/login", {"email": "nobody9@example.test", "password": "x"}), max_wait=300)
    # another address is not affected
    other = Client(REMOTE_ADDR="203.0.113.8")
    assert post(other, "/auth/login", {"email": "nobody@example.test", "password": "x"}).status_code == 400


def test_failed_logins_are_limited_per_account_across_ips(make_user):
    """5 failures per 5 minutes per account (allauth's login_failed "5/5m/key"), whatever the IP: then
    even the right password is refused until the window ends."""
    user = make_user(Role.STUDENT)
    statuses = []
    for i in range(5):
        client = Client(REMOTE_ADDR=f"198.51.100.{i + 1}")
        statuses.append(post(client, "/auth/login", {"email": user.email, "password": "wrong-password-1"}).status_code)
    assert statuses == [400] * 5
    res = post(Client(REMOTE_ADDR="198.51.100.77"), "/auth/login", {"email": user.email, "password": PASSWORD})
    assert_problem_429(res, max_wait=300)
    assert "access_token" not in res.content.decode()


def test_signup_is_limited_per_ip():
    client = Client(REMOTE_ADDR="192.0.2.10")
    for i in range(5):
        assert post(client, "/auth/signup", {"email": f"su{i}@example.test", "password": PASSWORD}).status_code == 401
    assert_problem_429(post(client, "/auth/signup", {"email": "su9@example.test", "password": PASSWORD}), max_wait=60)


def test_password_reset_requests_are_limited_per_account(make_user):
    user = make_user(Role.STUDENT)
    statuses = [
        post(Client(REMOTE_ADDR=f"192.0.2.{20 + i}"), "/auth/password/request", {"email": user.email}).status_code
        for i in range(5)
    ]
    assert set(statuses) <= {200, 401}, statuses  # 401: a pending password_reset_by_code flow
    res = post(Client(REMOTE_ADDR="192.0.2.99"), "/auth/password/request", {"email": user.email})
    assert_problem_429(res, max_wait=60)
    assert len(mail.outbox) == 5


def _signup_pending(client: Client, email: str) -> str:
    res = post(client, "/auth/signup", {"email": email, "password": PASSWORD, "role": "student"})
    assert res.status_code == 401, res.content
    return str(res.json()["meta"]["session_token"])


def _code() -> str:
    match = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_an_email_code_allows_three_attempts_then_is_dead():
    """An 8-character code cannot be guessed: after 3 wrong attempts the code (and flow) is gone, so
    even the right code is refused; a new code needs a resend (1 per 3 minutes per address)."""
    client = Client(REMOTE_ADDR="192.0.2.30")
    token = _signup_pending(client, "guess@example.test")
    right = _code()
    wrong = ["AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"]
    statuses = [post(client, "/auth/email/verify", {"key": k}, **{"X-Session-Token": token}).status_code for k in wrong]
    assert all(s in (400, 409) for s in statuses), statuses
    res = post(client, "/auth/email/verify", {"key": right}, **{"X-Session-Token": token})
    assert res.status_code in (400, 409), res.content
    assert "access_token" not in res.content.decode()
    resend = [post(client, "/auth/email/verify/resend", {}, **{"X-Session-Token": token}).status_code for _ in range(2)]
    assert 200 not in resend[1:], resend  # at most one new code per 3 minutes


def test_password_reset_code_allows_three_attempts(make_user):
    user = make_user(Role.STUDENT)
    client = Client(REMOTE_ADDR="192.0.2.31")
    res = post(client, "/auth/password/request", {"email": user.email})
    assert res.status_code == 401, res.content  # pending password_reset_by_code flow
    token = res.json()["meta"]["session_token"]
    right = _code()
    headers = {"X-Session-Token": token}
    new_password = "another-Secret-77"
    statuses = [
        post(client, "/auth/password/reset", {"key": k, "password": new_password}, **headers).status_code
        for k in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC")
    ]
    assert all(s in (400, 409) for s in statuses), statuses
    res = post(client, "/auth/password/reset", {"key": right, "password": new_password}, **headers)
    assert res.status_code in (400, 409), res.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.check_password(new_password)


def test_password_reset_code_works_when_right_first_time(make_user):
    """The control: the same flow with the right code changes the password (so the test above is not vacuous)."""
    user = make_user(Role.STUDENT)
    client = Client(REMOTE_ADDR="192.0.2.32")
    token = post(client, "/auth/password/request", {"email": user.email}).json()["meta"]["session_token"]
    res = post(client, "/auth/password/reset", {"key": _code(), "password": "another-Secret-77"}, **{"X-Session-Token": token})
    assert res.status_code in (200, 401), res.content
    user.refresh_from_db()
    assert user.check_password("another-Secret-77")


@override_settings(RATE_LIMIT_AUTH_CODES="4/m")
@pytest.mark.usefixtures("rate_window")
def test_code_attempts_are_also_capped_per_ip():
    """Across many flows (new signups), one address may try at most RATE_LIMIT_AUTH_CODES codes a minute."""
    client = Client(REMOTE_ADDR="192.0.2.40")
    token = _signup_pending(client, "percap@example.test")
    statuses = [
        post(client, "/auth/email/verify", {"key": f"ZZZZ-ZZZ{i}"}, **{"X-Session-Token": token}).status_code for i in range(4)
    ]
    assert 429 not in statuses
    assert_problem_429(post(client, "/auth/email/verify", {"key": "ZZZZ-ZZZ9"}, **{"X-Session-Token": token}), max_wait=60)


# --- our own limits: messages, coach, uploads ------------------------------------------------------


@pytest.fixture
def anyone_may_message() -> Iterator[None]:
    saved = list(hooks.entries(HOOKS.CONTACT_POLICY))
    hooks._hooks[HOOKS.CONTACT_POLICY] = []
    hooks.register(HOOKS.CONTACT_POLICY, "reliability_tests", lambda sender, recipient: "test")
    yield
    hooks._hooks[HOOKS.CONTACT_POLICY] = saved


@pytest.mark.skipif(not is_enabled("messaging"), reason="messaging is off")
@override_settings(RATE_LIMIT_MESSAGES="3/m")
@pytest.mark.usefixtures("rate_window")
def test_message_sending_is_limited_per_user(make_user, anyone_may_message):
    alice, bob = make_user(Role.STUDENT), make_user(Role.TUTOR)
    api = ApiClient(alice)
    body = {"recipient_id": str(bob.pk), "body": "hello"}
    assert [api.post("/messaging/messages", body).status_code for _ in range(3)] == [201, 201, 201]
    assert_problem_429(api.post("/messaging/messages", body), max_wait=60)
    # an attachment is a message too (and an upload)
    res = api.post(
        "/messaging/messages/with-attachment",
        {"recipient_id": str(bob.pk), "body": "pic"},
        files={"file": SimpleUploadedFile("a.png", png(), content_type="image/png")},
    )
    assert_problem_429(res, max_wait=60)
    # bob's budget is his own
    assert ApiClient(bob).post("/messaging/messages", {"recipient_id": str(alice.pk), "body": "hi"}).status_code == 201


@pytest.mark.skipif(not is_enabled("coach"), reason="coach is off")
@override_settings(RATE_LIMIT_COACH="2/m")
@pytest.mark.usefixtures("rate_window")
def test_coach_messages_are_limited_per_user(student):
    api = ApiClient(student)
    session = api.post("/coach/sessions", {}).json()["id"]
    statuses = [api.post(f"/coach/sessions/{session}/messages", {"text": "How am I doing?"}).status_code for _ in range(2)]
    assert 429 not in statuses, statuses
    assert_problem_429(api.post(f"/coach/sessions/{session}/messages", {"text": "And now?"}), max_wait=60)


@override_settings(RATE_LIMIT_UPLOADS="2/h")
def test_uploads_share_one_budget_per_user(student):
    """Avatar and timetable photos count against RATE_LIMIT_UPLOADS; the limit is checked before the body
    is read, so a refused upload costs no parsing."""
    room_in_rate_window(3600, need=60)
    api = ApiClient(student)
    assert api.post("/me/avatar", files={"file": SimpleUploadedFile("a.png", png(), content_type="image/png")}).status_code == 200
    second = (
        api.post("/timetable-import/imports", {}, files={"file": SimpleUploadedFile("t.png", png())})
        if is_enabled("timetable_import")
        else api.post("/me/avatar", files={"file": SimpleUploadedFile("b.png", png(), content_type="image/png")})
    )
    assert second.status_code != 429, second.content
    assert_problem_429(
        api.post("/me/avatar", files={"file": SimpleUploadedFile("c.png", png(), content_type="image/png")}), max_wait=3600
    )
    if is_enabled("timetable_import"):
        assert_problem_429(
            api.post("/timetable-import/imports", {}, files={"file": SimpleUploadedFile("t.png", png())}), max_wait=3600
        )


@override_settings(API_THROTTLE_ANON="3/m")
@pytest.mark.usefixtures("rate_window")
def test_x_forwarded_for_does_not_choose_the_bucket():
    """Without trusted proxies (TRUSTED_PROXY_COUNT=0) the address is REMOTE_ADDR, whatever the client claims."""
    client = Client(REMOTE_ADDR="192.0.2.50")
    statuses = [client.get("/api/v1/utils/ping", headers={"X-Forwarded-For": f"10.9.8.{i}"}).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]


@override_settings(API_THROTTLE_ANON="3/m", TRUSTED_PROXY_COUNT=1)
@pytest.mark.usefixtures("rate_window")
def test_behind_one_trusted_proxy_the_client_address_is_the_one_it_saw():
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    a = [proxy.get("/api/v1/utils/ping", headers={"X-Forwarded-For": "spoof, 192.0.2.60"}).status_code for _ in range(4)]
    b = proxy.get("/api/v1/utils/ping", headers={"X-Forwarded-For": "192.0.2.61"}).status_code
    assert (a, b) == ([200, 200, 200, 429], 200)


# --- the counters outlive the process -----------------------------------------------------------


@override_settings(RATE_LIMIT_MESSAGES="2/h")
def test_limits_live_in_redis_and_survive_a_restart(on_redis: RedisProcess, make_user, anyone_may_message):
    """Use up a budget, forget all process state (cache clients, limiter memory, a new API client), and
    a separate Python process reading the same Redis still sees the count: the next request is 429."""
    room_in_rate_window(3600, need=120)  # a fixed window: the whole test must fall in one hour
    alice, bob = make_user(Role.STUDENT), make_user(Role.TUTOR)
    body = {"recipient_id": str(bob.pk), "body": "hello"}
    api = ApiClient(alice)
    assert [api.post("/messaging/messages", body).status_code for _ in range(2)] == [201, 201]
    before = core.ratelimit.stats.fallbacks
    reset_process_state()
    assert_problem_429(ApiClient(alice).post("/messaging/messages", body), max_wait=3600)
    assert core.ratelimit.stats.fallbacks == before  # counted in Redis, not in memory

    # A new process (what a restarted worker is): same Redis, same key -> already over the limit.
    script = (
        "import django, os; django.setup();"
        "from core.ratelimit import check;"
        f"print('WAIT', check('messages', 'u{alice.pk}', '2/h'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings.base", "REDIS_URL": on_redis.url, "CACHE_KEY_PREFIX": "reliability"}
    env.pop("PYTEST_XDIST_WORKER", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, cwd=settings.BASE_DIR
    )
    assert out.returncode == 0, out.stderr[-2000:]
    wait = out.stdout.split("WAIT", 1)[1].strip()
    assert wait != "None" and 0 < float(wait) <= 3600, out.stdout


@pytest.mark.skipif(not is_enabled("messaging"), reason="messaging is off")
@override_settings(API_THROTTLE_USER="4/m", RATE_LIMIT_MESSAGES="2/m")
@pytest.mark.usefixtures("rate_window")
def test_a_limited_operation_spends_both_the_api_budget_and_its_own(make_user, anyone_may_message):
    """Sending counts against the messages limit and against the API-wide budget every endpoint
    shares: the third message is refused by its own limit, and by then /me has one request left."""
    alice, bob = make_user(Role.STUDENT), make_user(Role.TUTOR)
    api = ApiClient(alice)
    body = {"recipient_id": str(bob.pk), "body": "hello"}
    assert [api.post("/messaging/messages", body).status_code for _ in range(2)] == [201, 201]
    assert_problem_429(api.post("/messaging/messages", body), max_wait=60)  # the messages limit (3 > 2)
    assert api.get("/me").status_code == 200  # the API-wide budget: the 3 sends (refused or not) + this = 4
    assert_problem_429(api.get("/me"), max_wait=60)  # 5 > 4
    assert ApiClient(bob).get("/me").status_code == 200  # budgets are per user
