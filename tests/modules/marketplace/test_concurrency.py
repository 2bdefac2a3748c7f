"""Real parallel requests on PostgreSQL: the database, not luck, prevents double booking."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from core.models import Role
from core.testing import ApiClient
from modules.marketplace.models import Booking, Package, PackagePurchase
from tests.conftest import postgres_only
from tests.modules.marketplace.conftest import future, iso

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def _race(requests: list[tuple[ApiClient, dict]]) -> list[int]:
    barrier = threading.Barrier(len(requests))
    results: list[int] = [0] * len(requests)

    def run(i: int, api: ApiClient, body: dict) -> None:
        try:
            barrier.wait()
            res = api.post("/marketplace/bookings", body)
            results[i] = res.status_code
            if res.status_code not in (201, 409):
                results[i] = -res.status_code
                print(res.content)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, api, body)) for i, (api, body) in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_parallel_requests_for_one_slot_make_one_booking(make_user, make_tutor, subject):
    profile = make_tutor()
    body = {"tutor_id": str(profile.id), "subject_id": str(subject.id), "starts_at": iso(future(3, 10)), "duration_minutes": 60}
    clients = [ApiClient(make_user(Role.STUDENT)) for _ in range(20)]
    results = _race([(api, body) for api in clients])
    assert sorted(results) == [201] + [409] * 19, results
    assert Booking.objects.filter(tutor=profile).count() == 1


def test_overlapping_lengths_race_make_one_booking(make_user, make_tutor, subject):
    profile = make_tutor()
    clients = [ApiClient(make_user(Role.STUDENT)) for _ in range(10)]
    bodies = [
        {
            "tutor_id": str(profile.id),
            "subject_id": str(subject.id),
            "starts_at": iso(future(3, 10) + dt.timedelta(minutes=30 * (i % 3))),
            "duration_minutes": 90,
        }
        for i in range(10)
    ]
    results = _race(list(zip(clients, bodies, strict=True)))
    assert results.count(201) == 1 and results.count(409) == 9, results
    assert Booking.objects.filter(tutor=profile).count() == 1


def test_two_package_bookings_race_for_the_last_credit(make_user, make_tutor, subject):
    profile = make_tutor()
    student = make_user(Role.STUDENT)
    package = Package.objects.create(
        tutor=profile, name="Five", session_count=5, duration_minutes=60, price_minor=20000, currency="USD"
    )
    purchase = PackagePurchase.objects.create(
        package=package,
        student=student,
        tutor=profile,
        status="active",
        sessions_total=5,
        credits_remaining=1,
        duration_minutes=60,
        price_minor=20000,
        currency="USD",
        validity_days=90,
        activated_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=90),
    )
    bodies = [
        {
            "tutor_id": str(profile.id),
            "subject_id": str(subject.id),
            "starts_at": iso(future(3 + i, 10)),
            "duration_minutes": 60,
            "package_purchase_id": str(purchase.id),
        }
        for i in range(2)
    ]
    results = _race([(ApiClient(student), body) for body in bodies])
    assert sorted(results) == [201, 409], results
    assert Booking.objects.filter(package_purchase=purchase).count() == 1


def test_confirmations_racing_never_take_credits_below_zero(make_user, make_tutor, subject):
    """Two pending bookings on one credit (the second made before a cancellation freed nothing): confirming both
    in parallel consumes at most one credit; the CHECK constraint is the backstop."""
    profile = make_tutor()
    student = make_user(Role.STUDENT)
    package = Package.objects.create(
        tutor=profile, name="One", session_count=1, duration_minutes=60, price_minor=5000, currency="USD"
    )
    purchase = PackagePurchase.objects.create(
        package=package,
        student=student,
        tutor=profile,
        status="active",
        sessions_total=1,
        credits_remaining=1,
        duration_minutes=60,
        price_minor=5000,
        currency="USD",
        validity_days=90,
        activated_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=90),
    )
    ids = []
    for i in range(2):  # written directly: the API would refuse the second reservation
        start = future(3 + i, 10)
        ids.append(
            Booking.objects.create(
                tutor=profile,
                tutor_user=profile.user,
                student=student,
                subject=subject,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                blocked_until=start + dt.timedelta(hours=1),
                duration_minutes=60,
                price_minor=6000,
                currency="USD",
                package_purchase=purchase,
            ).id
        )
    tutor_api = [ApiClient(profile.user) for _ in ids]
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def run(api: ApiClient, booking_id: object) -> None:
        try:
            barrier.wait()
            codes.append(api.post(f"/marketplace/bookings/{booking_id}/confirm").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(api, bid)) for api, bid in zip(tutor_api, ids, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200, 409], codes
    purchase.refresh_from_db()
    assert purchase.credits_remaining == 0
