from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from core.registry import ports
from modules.payments import tasks
from modules.payments.models import Payment
from tests.modules.payments.conftest import FakeBookings, wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def packages():
    fake = FakeBookings()
    # Restore the marketplace's real port afterwards: later tests (in this worker) rely on it.
    with ports.override("payments.payable.package", fake.describe):
        yield fake


@override_settings(PAYOUT_HOLD_DAYS=7)
def test_non_session_payments_become_available_after_the_hold_period(student, tutor, bookings, packages, pay, client_for):
    package_payment = pay(student, "package", packages.add(student, tutor, 20000, "USD"))["payment_id"]
    pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    assert tasks.release_due_payments() == 0  # nothing is old enough yet
    # eight days later (the payment's capture time moved back, as if time had passed)
    Payment.objects.filter(pk=package_payment).update(captured_at=timezone.now() - dt.timedelta(days=8))
    Payment.objects.filter(kind="booking").update(captured_at=timezone.now() - dt.timedelta(days=8))
    assert tasks.release_due_payments() == 1
    assert tasks.release_due_payments() == 0  # idempotent
    # the package's share is available; the session's waits for the session to be completed
    assert wallet(client_for(tutor)) == {"pending": 8500, "available": 17000, "held": 0}


def test_wallet_entries_run_a_fixed_number_of_queries(student, tutor, bookings, pay, client_for, django_assert_num_queries):
    api = client_for(tutor)
    pay(student, "booking", bookings.add(student, tutor))
    api.get("/payments/wallet/entries")
    with override_settings(PUBLIC_READ_CACHE=False), django_assert_num_queries(2):  # COUNT, page (a miss; the
        assert api.get("/payments/wallet/entries").json()["total"] == 1  # session and the caller come from the cache)
    for _ in range(4):
        pay(student, "booking", bookings.add(student, tutor))
    with django_assert_num_queries(2):  # the captures made the cached answer miss
        assert api.get("/payments/wallet/entries").json()["total"] == 5
