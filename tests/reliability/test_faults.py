"""Faults with real processes, started and stopped by the test on loopback.

- Redis (our own redis-server, SIGKILLed mid-run): requests keep working from the database, pushes are
  dropped and counted, limits hold per process (core.ratelimit), /health/ready answers 503 naming the
  cache and channel layer, and all recovers when the same server comes back.
- PostgreSQL: the backend serving a request is killed with pg_terminate_backend while the request
  waits on it: that request answers 503 (a problem with Retry-After), the next one succeeds.
- A process killed between a booking's commit and the delivery of its durable event: the outbox
  redelivers it and the effect (the notification and its e-mail) happens once, however often it drains.
- SMTP down (retries, an EmailLog row, the in-app notification kept): see
  tests/modules/notifications/test_email_smtp.py (a real aiosmtpd server), not repeated here.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core import mail
from django.db import close_old_connections, connection
from django.test import Client, override_settings

import core.ratelimit
from core.models import OutboxEvent, Role
from core.realtime import push
from core.registry import HOOKS, hooks, is_enabled
from core.testing import ApiClient
from tests.conftest import PASSWORD, postgres_only, room_in_rate_window
from tests.reliability.conftest import RedisProcess


@pytest.fixture
def anyone_may_message() -> Any:
    saved = list(hooks.entries(HOOKS.CONTACT_POLICY))
    hooks._hooks[HOOKS.CONTACT_POLICY] = []
    hooks.register(HOOKS.CONTACT_POLICY, "reliability_tests", lambda sender, recipient: "test")
    yield
    hooks._hooks[HOOKS.CONTACT_POLICY] = saved


def ready(client: Client) -> tuple[int, dict[str, Any]]:
    res = client.get("/health/ready")
    return res.status_code, res.json()["checks"]


@pytest.mark.django_db
@pytest.mark.skipif(not is_enabled("messaging"), reason="messaging is off")
@override_settings(RATE_LIMIT_MESSAGES="3/m")
def test_redis_down_mid_run_degrades_and_recovers(on_redis: RedisProcess, make_user, anyone_may_message):
    alice, bob = make_user(Role.STUDENT), make_user(Role.TUTOR)
    api, web = ApiClient(alice), Client()
    assert ready(web)[0] == 200
    assert api.get("/me").status_code == 200  # the session is now in the cache too
    sent_before = push.stats.sent
    assert push.push_to_user(bob.pk, "test.ping", {}) is True
    assert push.stats.sent == sent_before + 1

    on_redis.stop()  # SIGKILL: Redis is gone mid-run
    started = time.monotonic()
    assert api.get("/me").status_code == 200  # session and user from the database: a cache miss, not an error
    assert api.get("/messaging/threads").status_code == 200
    dropped = push.stats.dropped
    assert push.push_to_user(bob.pk, "test.ping", {}) is False
    assert push.stats.dropped == dropped + 1  # dropped and counted, never raised
    status, checks = ready(web)
    assert status == 503 and checks["cache"]["status"] == "down" and checks["channel_layer"]["status"] == "down"
    assert checks["database"]["status"] == "ok"

    # Limits fail safe: no 500, no blanket 429; the budget holds in process memory.
    fallbacks = core.ratelimit.stats.fallbacks
    body = {"recipient_id": str(bob.pk), "body": "while redis is down"}
    waited = room_in_rate_window()  # the four sends must share one fixed window
    statuses = [api.post("/messaging/messages", body).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429], statuses
    assert core.ratelimit.stats.fallbacks > fallbacks
    assert time.monotonic() - started - waited < 30

    on_redis.start()  # the same server comes back (empty: --save '')
    core.ratelimit.reset_local_state()  # as after RETRY_SHARED_AFTER seconds
    deadline = time.monotonic() + 15
    while ready(web)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ready(web)[0] == 200
    assert push.push_to_user(bob.pk, "test.ping", {}) is True
    shared = core.ratelimit.stats.shared
    assert api.post("/messaging/messages", body).status_code == 201  # a fresh shared window
    assert core.ratelimit.stats.shared == shared + 2  # the API-wide and the messages counters, both in Redis again
    assert api.get("/me").status_code == 200


@pytest.mark.django_db
def test_logging_in_while_redis_is_down(on_redis: RedisProcess, make_user):
    """allauth's limiter itself is on core.ratelimit's fallback (no 1 s wait, no 429); the session store is not."""
    alice = make_user(Role.STUDENT)
    on_redis.stop()
    t = time.monotonic()
    login = Client(REMOTE_ADDR="192.0.2.80").post(
        "/_allauth/app/v1/auth/login", {"email": alice.email, "password": PASSWORD}, content_type="application/json"
    )
    assert login.status_code == 200, login.status_code
    assert time.monotonic() - t < 2


# --- PostgreSQL: a backend killed mid-request -------------------------------------------------------


def _raw_params() -> dict[str, Any]:
    d = connection.settings_dict
    return {
        "host": d["HOST"] or "127.0.0.1",
        "port": d["PORT"] or 5432,
        "user": d["USER"],
        "password": d["PASSWORD"] or None,
        "dbname": d["NAME"],
    }


def _raw_connect() -> psycopg.Connection[Any]:
    return psycopg.connect(**_raw_params())


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not is_enabled("notifications"), reason="notifications is off")
def test_a_backend_killed_mid_request_answers_503_and_the_next_request_succeeds(student):
    """The request runs in its own thread (its own PostgreSQL backend) and waits on a table lock; that
    backend is terminated. Django's request_finished closes the broken connection, so the next request
    (here: a fresh thread, as a server thread after close_old_connections) gets a new one."""
    from modules.notifications.models import Notification

    api = ApiClient(student)
    table = Notification._meta.db_table

    def get() -> Any:
        try:
            return api.get("/notifications")
        finally:
            connection.close()

    result: dict[str, Any] = {}
    locker = _raw_connect()
    try:
        locker.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')  # the request will wait on this
        thread = threading.Thread(target=lambda: result.update(res=get()))
        thread.start()
        victim = None
        deadline = time.monotonic() + 20
        # pg_stat_activity is a snapshot per transaction: watch from an autocommit connection.
        with psycopg.connect(**_raw_params(), autocommit=True) as killer:
            while victim is None and time.monotonic() < deadline:
                row = killer.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ).fetchone()
                victim = row[0] if row else None
                time.sleep(0.05)
            assert victim, "the request never waited on the lock"
            killer.execute("SELECT pg_terminate_backend(%s)", [victim])
        thread.join(30)
    finally:
        locker.rollback()
        locker.close()
    res = result["res"]
    assert res.status_code == 503, res.content
    assert res["Content-Type"] == "application/problem+json" and res.json()["code"] == "service_unavailable"
    assert res["Retry-After"] == "5"
    nxt: dict[str, Any] = {}
    follow = threading.Thread(target=lambda: nxt.update(res=get()))
    follow.start()
    follow.join(30)
    assert nxt["res"].status_code == 200


# --- a process killed between commit and the delivery of a durable event ---------------------------

_KILL_AFTER_COMMIT = """
import os, signal, uuid, django
django.setup()
from django.db import transaction
from core.models import User
from modules.marketplace import services
booking_id, actor_id = uuid.UUID(os.environ["BOOKING_ID"]), os.environ["ACTOR_ID"]
with transaction.atomic():
    # Registered first, so it runs right after COMMIT and before the event's own on_commit delivery.
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    services.do_confirm_booking(booking_id=booking_id, actor=User.objects.get(pk=actor_id))
"""


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not (is_enabled("marketplace") and is_enabled("notifications")), reason="needs marketplace, notifications")
def test_a_process_killed_after_commit_loses_nothing_and_the_outbox_delivers_once(make_user):
    from core.events import drain_outbox
    from modules.marketplace.models import Booking
    from modules.notifications.models import Notification
    from tests.modules.marketplace.conftest import book, future
    from tests.reliability.test_contention import _tutor_and_subject

    profile, subject = _tutor_and_subject(make_user)
    student = make_user(Role.STUDENT)
    booking_id = book(ApiClient(student), profile, subject, future(5, 10)).json()["id"]
    mail.outbox.clear()
    d = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}",
        "BOOKING_ID": booking_id,
        "ACTOR_ID": str(profile.user.pk),
        "DJANGO_SETTINGS_MODULE": "settings.base",
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER_COMMIT], env=env, cwd=settings.BASE_DIR, capture_output=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]

    assert Booking.objects.get(pk=booking_id).status == "confirmed"  # committed
    row = OutboxEvent.objects.get(event_type="marketplace.booking_confirmed.v1", payload__booking_id=booking_id)
    assert row.delivered_at is None  # ...but never delivered: the process died first
    notes = Notification.objects.filter(user=student)
    before = notes.count()  # the confirmation's notification to the student is not among them yet

    assert drain_outbox(older_than_seconds=0) >= 1  # the scheduled drain (the retry)
    assert drain_outbox(older_than_seconds=0) == 0  # and again: nothing left
    row.refresh_from_db()
    assert row.delivered_at is not None
    assert notes.count() == before + 1
    assert len([m for m in mail.outbox if student.email in m.to]) <= 1  # by the student's preferences: at most once

    # A broker delivering the same event twice (redelivery of the handler): still one notification.
    from core.events import _deliver, _event_classes, _from_payload

    _deliver(_from_payload(_event_classes[row.event_type], row.payload))
    assert notes.count() == before + 1


# --- PostgreSQL: a persistent connection whose backend ended while it sat idle ----------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_idle_connection_the_server_ended_is_replaced_before_the_next_request(client: Client):
    """A persistent connection whose backend the server ended between two requests (a restart, a
    failover, an operator's pg_terminate_backend) is noticed before the next request uses it: that
    request answers 200, not 500 or 503. While the connection is healthy the check sends no query."""

    def request() -> Any:
        close_old_connections()  # what a server's handler does as each request starts (the test client does not)
        return client.get("/health/ready")

    saved = connection.settings_dict["CONN_MAX_AGE"]
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = None  # persistent, as in production
    try:
        assert request().status_code == 200
        pid = connection.connection.info.backend_pid
        with psycopg.connect(**_raw_params(), autocommit=True) as watcher:

            def last_query() -> str:
                return watcher.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]

            with connection.cursor() as cursor:  # the last statement the server saw on it, until the check
                cursor.execute("SELECT 'before the health check'")
            assert connection.is_usable()
            assert last_query() == "SELECT 'before the health check'"  # no SELECT 1 went to the server
            assert request().status_code == 200
            assert connection.connection.info.backend_pid == pid  # the same connection served it

            watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
        socket_fd = connection.connection.pgconn.socket
        deadline = time.monotonic() + 10
        while not select.select([socket_fd], [], [], 0.1)[0] and time.monotonic() < deadline:
            pass  # the server's goodbye reaches the socket
        res = request()
        assert res.status_code == 200, res.content
        assert connection.connection.info.backend_pid != pid
    finally:
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = saved
