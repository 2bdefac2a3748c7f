"""Contention on PostgreSQL with real connections (one per thread, from a psycopg pool): the database,
not luck, decides the races, and a lost race is a 409, never a 500.

Figures (each asserted below): 100 concurrent requests for one slot -> 1 booking, 99 x 409, 0 x 5xx;
50 concurrent withdrawals of the whole balance -> 1 succeeds, 49 x 409; 10 concurrent confirmations of
one booking -> 1 state change and 1 ledger set; one Stripe event delivered 10 times at once -> 1
effect. And each of 23P01, 40P01, 40001 (raised by PostgreSQL itself) answers 409 through the API;
a real crossed-transaction deadlock is retried by core.db.retry_on_conflict.

Smaller races of the same kind live in tests/modules/marketplace/test_concurrency.py (20 for a slot,
overlapping lengths, package credits), tests/modules/payments/test_withdrawals.py (10 withdrawals) and
tests/plugins/payments/test_stripe.py (5 deliveries); these are the issue's figures.
"""

from __future__ import annotations

import collections
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from core.db import retry_on_conflict, sqlstate
from core.errors import Conflict
from core.models import OutboxEvent, Role
from core.registry import is_enabled
from core.testing import ApiClient
from tests.conftest import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
POOL_SIZE = 16  # connections shared by the threads: 100 concurrent requests fit under max_connections


@pytest.fixture
def db_pool() -> Iterator[None]:
    """Django's psycopg pool for the duration of the test (production's DB_POOL_MAX)."""
    conn = connections["default"]
    conn.close()
    conn.settings_dict["OPTIONS"]["pool"] = {"min_size": 2, "max_size": POOL_SIZE, "timeout": 60}
    try:
        yield
    finally:
        conn.close()
        conn.close_pool()
        conn.settings_dict["OPTIONS"].pop("pool", None)


def race(n: int, call: Callable[[int], Any]) -> collections.Counter[int]:
    """Run ``call(i)`` in n threads released together; the status codes counted."""
    barrier = threading.Barrier(n)
    statuses: list[int] = [0] * n

    def run(i: int) -> None:
        try:
            barrier.wait(30)
            statuses[i] = call(i).status_code
        except Exception as exc:  # noqa: BLE001 - recorded as a failure, shown in the assertion
            statuses[i] = -1
            print("thread failed:", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return collections.Counter(statuses)


def server_errors(counts: collections.Counter[int]) -> int:
    return sum(n for status, n in counts.items() if status >= 500 or status < 0)


@pytest.mark.skipif(not is_enabled("marketplace"), reason="marketplace is off")
def test_100_concurrent_requests_for_one_slot_make_exactly_one_booking(db_pool, make_user):
    from modules.marketplace.models import Booking
    from tests.modules.marketplace.conftest import future, iso

    profile, subject = _tutor_and_subject(make_user)
    body = {"tutor_id": str(profile.id), "subject_id": str(subject.id), "starts_at": iso(future(3, 10)), "duration_minutes": 60}
    clients = [ApiClient(make_user(Role.STUDENT)) for _ in range(100)]
    counts = race(100, lambda i: clients[i].post("/marketplace/bookings", body))
    print("100 requests for one slot:", dict(counts))
    assert counts[201] == 1 and counts[409] == 99 and server_errors(counts) == 0, counts
    assert Booking.objects.filter(tutor=profile).count() == 1


@pytest.mark.skipif(not is_enabled("payments"), reason="payments is off")
def test_50_concurrent_withdrawals_of_the_whole_balance_exactly_one_succeeds(db_pool, make_user, bookings):
    from modules.payments import services
    from modules.payments.models import Withdrawal
    from tests.modules.payments.conftest import wallet

    student, tutor = make_user(Role.STUDENT), make_user(Role.TUTOR)
    booking_id = bookings.add(student, tutor, 10000, "USD")
    assert ApiClient(student).post("/payments/checkout", {"kind": "booking", "object_id": str(booking_id)}).status_code == 201
    assert services.do_release(payment_id=services.booking_payment(booking_id).id) == 8500
    clients = [ApiClient(tutor) for _ in range(50)]
    counts = race(50, lambda i: clients[i].post("/payments/withdrawals", {"amount_minor": 8500, "currency": "USD"}))
    print("50 withdrawals of the whole balance:", dict(counts))
    assert counts[201] == 1 and counts[409] == 49 and server_errors(counts) == 0, counts
    assert Withdrawal.objects.count() == 1
    assert wallet(ApiClient(tutor)) == {"pending": 0, "available": 0, "held": 8500}


@pytest.mark.skipif(not (is_enabled("marketplace") and is_enabled("payments")), reason="needs marketplace and payments")
def test_10_concurrent_confirmations_of_one_booking_change_it_once(db_pool, make_user):
    from modules.marketplace.models import Booking, BookingEvent
    from modules.payments.models import LedgerEntry, LedgerTransaction, Payment
    from tests.modules.marketplace.conftest import book, future

    profile, subject = _tutor_and_subject(make_user)
    student = make_user(Role.STUDENT)
    api = ApiClient(student)
    booking_id = book(api, profile, subject, future(4, 10)).json()["id"]
    assert api.post("/payments/checkout", {"kind": "booking", "object_id": booking_id}).status_code in (200, 201)
    ledger_before = LedgerTransaction.objects.count()
    tutors = [ApiClient(profile.user) for _ in range(10)]
    counts = race(10, lambda i: tutors[i].post(f"/marketplace/bookings/{booking_id}/confirm"))
    print("10 confirmations of one booking:", dict(counts))
    assert counts[200] == 1 and counts[409] == 9 and server_errors(counts) == 0, counts
    assert Booking.objects.get(pk=booking_id).status == "confirmed"
    assert BookingEvent.objects.filter(booking_id=booking_id, to_status="confirmed").count() == 1  # 1 state change
    confirmed = OutboxEvent.objects.filter(event_type="marketplace.booking_confirmed.v1", payload__booking_id=booking_id)
    assert confirmed.count() == 1  # one durable event
    payment = Payment.objects.get(object_id=booking_id)
    assert LedgerTransaction.objects.filter(reference=str(payment.id)).count() == 1  # 1 ledger set: the capture
    assert LedgerTransaction.objects.count() == ledger_before  # confirming moved no money a second time
    sums = LedgerEntry.objects.values("transaction_id").annotate(s=Sum("amount_minor"))
    assert all(row["s"] == 0 for row in sums)


@pytest.mark.skipif(not is_enabled("payments"), reason="payments is off")
def test_one_stripe_event_delivered_10_times_at_once_has_one_effect(db_pool, fake_stripe, make_user, bookings):
    from modules.payments.models import LedgerTransaction, Payment, ProcessedStripeEvent
    from tests.plugins.payments.conftest import WEBHOOK_SECRET
    from tests.plugins.payments.fake_stripe import event, sign

    student, tutor = make_user(Role.STUDENT), make_user(Role.TUTOR)
    booking_id = bookings.add(student, tutor, 10000, "USD")
    res = ApiClient(student).post("/payments/checkout", {"kind": "booking", "object_id": str(booking_id)})
    assert res.status_code == 201, res.content
    payment = Payment.objects.get(pk=res.json()["payment_id"])
    payload = event("payment_intent.succeeded", {**fake_stripe.intents[payment.provider_ref], "status": "succeeded"})
    header = sign(payload, WEBHOOK_SECRET)

    def deliver(i: int) -> Any:
        return ApiClient().client.post(
            "/api/v1/payments/webhooks/stripe", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )

    counts = race(10, deliver)
    print("one Stripe event 10 times:", dict(counts))
    assert counts[200] == 10, counts
    assert ProcessedStripeEvent.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="capture").count() == 1
    payment.refresh_from_db()
    assert payment.status == "succeeded"


# --- each SQLSTATE through the API ---------------------------------------------------------------

RAISE = {
    "23P01": "DO $$ BEGIN RAISE exclusion_violation USING MESSAGE = 'forced 23P01'; END $$",
    "40P01": "DO $$ BEGIN RAISE deadlock_detected USING MESSAGE = 'forced 40P01'; END $$",
    "40001": "DO $$ BEGIN RAISE serialization_failure USING MESSAGE = 'forced 40001'; END $$",
    "55P03": "DO $$ BEGIN RAISE lock_not_available USING MESSAGE = 'forced 55P03'; END $$",
}


@pytest.mark.parametrize("code", sorted(RAISE))
def test_each_contention_sqlstate_answers_409_not_500(code, student, monkeypatch):
    """PostgreSQL raises the SQLSTATE inside a real service call (PATCH /me); the API answers 409."""
    from core.identity import services

    def update_profile(**kwargs: Any) -> Any:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RAISE[code])
        raise AssertionError("PostgreSQL did not raise")

    monkeypatch.setattr(services, "update_profile", update_profile)
    res = ApiClient(student).patch("/me", {"first_name": "Race"})
    assert res.status_code == 409, (code, res.status_code, res.content)
    assert res["Content-Type"] == "application/problem+json" and res.json()["code"] == "conflict"


def test_a_real_deadlock_between_two_crossed_transactions_is_retried(db_pool, make_user):
    """Two transactions lock two rows in opposite orders; PostgreSQL kills one (40P01); the helper
    re-runs it and both complete. Without the helper the victim's error is a deadlock."""
    a, b = make_user(Role.STUDENT), make_user(Role.STUDENT)
    from core.models import User

    barrier = threading.Barrier(2)
    attempts: collections.Counter[str] = collections.Counter()
    errors: list[str] = []

    def crossed(first: uuid.UUID, second: uuid.UUID, name: str) -> None:
        attempts[name] += 1
        User.objects.filter(pk=first).update(last_name=f"{name}-1")
        if attempts[name] == 1:
            barrier.wait(10)  # both hold their first row now
        User.objects.filter(pk=second).update(last_name=f"{name}-2")

    def run(first: uuid.UUID, second: uuid.UUID, name: str) -> None:
        try:
            retry_on_conflict(attempts=3)(crossed)(first, second, name)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{name}: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a.pk, b.pk, "x")), threading.Thread(target=run, args=(b.pk, a.pk, "y"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(attempts.values()) == [1, 2], attempts  # exactly one victim, run twice


def test_a_serialization_failure_is_retried_then_answers_conflict(student):
    """40001 on every attempt: three attempts, then core.errors.Conflict (the API's 409)."""
    calls = []

    @retry_on_conflict(attempts=3)
    def always_loses() -> None:
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute(RAISE["40001"])

    with pytest.raises(Conflict) as info:
        always_loses()
    assert len(calls) == 3 and info.value.status == 409
    assert sqlstate(info.value.__cause__) == "40001"


def _tutor_and_subject(make_user: Callable[..., Any]) -> tuple[Any, Any]:
    import datetime as dt

    from modules.marketplace.models import AvailabilityRule, Subject, TutorProfile, TutorStatus

    subject = Subject.objects.create(name=f"Maths {uuid.uuid4().hex[:6]}", category="STEM")
    user = make_user(Role.TUTOR)
    profile = TutorProfile.objects.create(
        user=user,
        title="Maths tutor",
        headline="h",
        bio="b",
        hourly_rate_minor=6000,
        currency="USD",
        timezone="UTC",
        status=TutorStatus.APPROVED,
    )
    profile.subjects.add(subject)
    AvailabilityRule.objects.bulk_create(
        [AvailabilityRule(profile=profile, weekday=d, start_time=dt.time(8), end_time=dt.time(20)) for d in range(7)]
    )
    return profile, subject


if is_enabled("payments"):
    from tests.modules.payments.conftest import bookings  # noqa: F401 - the fake booking payable
    from tests.plugins.payments.conftest import fake_stripe  # noqa: F401 - a local fake Stripe
