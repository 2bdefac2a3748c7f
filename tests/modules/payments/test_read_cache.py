"""A tutor's wallet and a user's payments are cached per caller, and every money movement that
changes them (capture, release, refund, withdrawal) is seen at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.models import Role
from core.testing import ApiClient
from modules.payments import services
from tests.modules.payments.conftest import wallet

pytestmark = pytest.mark.django_db


def test_the_wallet_is_cached_and_follows_capture_release_and_withdrawal(
    student: Any,
    tutor: Any,
    bookings: Any,
    pay: Callable[..., dict],
    client_for: Callable[..., ApiClient],
    django_assert_num_queries: Any,
) -> None:
    api = client_for(tutor)
    assert wallet(api) == {"pending": 0, "available": 0, "held": 0}
    assert api.get("/payments/wallet/entries").json()["total"] == 0
    with django_assert_num_queries(0):
        assert api.get("/payments/wallet")["X-Cache"] == "hit"
        assert api.get("/payments/wallet/entries")["X-Cache"] == "hit"

    body = pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))  # the student's write
    assert wallet(api) == {"pending": 8500, "available": 0, "held": 0}
    assert api.get("/payments/wallet/entries").json()["total"] == 1

    services.do_release(payment_id=body["payment_id"])  # a schedule or an event, not an API write
    assert wallet(api) == {"pending": 0, "available": 8500, "held": 0}
    assert api.get("/payments/wallet/entries").json()["total"] == 3

    assert api.post("/payments/withdrawals", {"amount_minor": 5000, "currency": "USD"}).status_code == 201
    assert wallet(api) == {"pending": 0, "available": 3500, "held": 5000}


def test_a_withdrawal_decided_by_an_admin_reaches_the_tutors_cached_wallet(
    student: Any, tutor: Any, admin_user: Any, bookings: Any, pay: Callable[..., dict], client_for: Callable[..., ApiClient]
) -> None:
    api = client_for(tutor)
    services.do_release(payment_id=pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))["payment_id"])
    withdrawal = api.post("/payments/withdrawals", {"amount_minor": 5000, "currency": "USD"}).json()
    assert wallet(api) == {"pending": 0, "available": 3500, "held": 5000}
    rejected = client_for(admin_user).post(f"/payments/withdrawals/{withdrawal['id']}/reject", {"reason": "no"})
    assert rejected.status_code == 200, rejected.content
    assert wallet(api) == {"pending": 0, "available": 8500, "held": 0}


def test_my_payments_are_cached_per_caller_and_follow_refunds_on_both_sides(
    student: Any,
    tutor: Any,
    admin_user: Any,
    bookings: Any,
    pay: Callable[..., dict],
    client_for: Callable[..., ApiClient],
    make_user: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    mine, payee = client_for(student), client_for(tutor)
    assert mine.get("/payments/mine").json()["total"] == 0
    assert mine.get("/payments/mine")["X-Cache"] == "hit"
    body = pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    assert mine.get("/payments/mine").json()["items"][0]["status"] == "succeeded"
    assert payee.get("/payments/mine", {"role": "payee"}).json()["items"][0]["refunded_minor"] == 0
    assert client_for(make_user(Role.STUDENT)).get("/payments/mine").json()["total"] == 0  # their own answer

    with django_capture_on_commit_callbacks(execute=True):
        res = client_for(admin_user).post(f"/payments/admin/payments/{body['payment_id']}/refund", {"amount_minor": 4000})
    assert res.status_code == 201, res.content
    row = mine.get("/payments/mine").json()["items"][0]
    assert (row["status"], row["refunded_minor"]) == ("partially_refunded", 4000)
    assert payee.get("/payments/mine", {"role": "payee"}).json()["items"][0]["refunded_minor"] == 4000


def test_a_tutor_who_is_no_longer_a_tutor_gets_403_not_a_cached_wallet(tutor: Any, client_for: Callable[..., ApiClient]) -> None:
    api = client_for(tutor)
    assert api.get("/payments/wallet").status_code == 200
    tutor.role = Role.STUDENT
    tutor.save()
    assert api.get("/payments/wallet").status_code == 403
