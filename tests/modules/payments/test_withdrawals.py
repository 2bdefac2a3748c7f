from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.models import Role
from modules.payments import services
from modules.payments.models import LedgerTransaction, Payment, Withdrawal
from tests.conftest import postgres_only
from tests.modules.payments.conftest import wallet


@pytest.fixture
def funded_tutor(student, tutor, bookings, pay, booking_events):
    """A tutor with 8500 USD available (one completed 100.00 session)."""
    booking_id = bookings.add(student, tutor, 10000, "USD")
    pay(student, "booking", booking_id)
    booking_events("completed", booking_id)
    return tutor


@pytest.mark.django_db
def test_a_withdrawal_holds_the_amount_at_once_and_approval_pays_it(funded_tutor, admin_user, client_for, events):
    api = client_for(funded_tutor)
    res = api.post("/payments/withdrawals", {"amount_minor": 5000, "currency": "usd"})
    assert res.status_code == 201, res.content
    wid = res.json()["id"]
    assert wallet(api) == {"pending": 0, "available": 3500, "held": 5000}
    res = client_for(admin_user).post(f"/payments/withdrawals/{wid}/approve", {"reference": "BANK-123"})
    assert res.status_code == 200, res.content
    assert (res.json()["status"], res.json()["reference"]) == ("paid", "BANK-123")
    assert wallet(api) == {"pending": 0, "available": 3500, "held": 0}
    processed = [e for e in events if e.event_type == "payments.withdrawal_processed.v1"]
    assert [(e.status, e.amount_minor) for e in processed] == [("paid", 5000)]
    # a decided withdrawal cannot be decided again
    assert client_for(admin_user).post(f"/payments/withdrawals/{wid}/reject", {}).status_code == 409


@pytest.mark.django_db
def test_a_rejected_withdrawal_returns_the_funds(funded_tutor, admin_user, client_for):
    api = client_for(funded_tutor)
    wid = api.post("/payments/withdrawals", {"amount_minor": 8500, "currency": "USD"}).json()["id"]
    assert wallet(api)["available"] == 0
    res = client_for(admin_user).post(f"/payments/withdrawals/{wid}/reject", {"reason": "bank details missing"})
    assert res.status_code == 200 and res.json()["status"] == "rejected"
    assert wallet(api) == {"pending": 0, "available": 8500, "held": 0}


@pytest.mark.django_db
def test_withdrawals_are_refused_beyond_the_balance_or_below_the_minimum(funded_tutor, client_for):
    api = client_for(funded_tutor)
    over = api.post("/payments/withdrawals", {"amount_minor": 8501, "currency": "USD"})
    assert over.status_code == 409 and over.json()["code"] == "insufficient_funds"
    small = api.post("/payments/withdrawals", {"amount_minor": 999, "currency": "USD"})
    assert small.status_code == 422
    other_currency = api.post("/payments/withdrawals", {"amount_minor": 2000, "currency": "EUR"})
    assert other_currency.status_code == 409
    assert Withdrawal.objects.count() == 0
    assert wallet(api)["available"] == 8500


@pytest.mark.django_db
def test_a_tutor_cannot_approve_a_withdrawal_and_a_student_cannot_withdraw(funded_tutor, student, client_for):
    api = client_for(funded_tutor)
    wid = api.post("/payments/withdrawals", {"amount_minor": 2000, "currency": "USD"}).json()["id"]
    res = api.post(f"/payments/withdrawals/{wid}/approve", {"reference": "MINE"})
    assert res.status_code == 403
    assert Withdrawal.objects.get(pk=wid).status == "pending"
    assert client_for(student).post("/payments/withdrawals", {"amount_minor": 2000, "currency": "USD"}).status_code == 403
    assert client_for(student).get("/payments/withdrawals").status_code == 403


@pytest.mark.django_db
def test_tutors_list_only_their_own_withdrawals_and_admins_all(funded_tutor, make_user, admin_user, client_for):
    client_for(funded_tutor).post("/payments/withdrawals", {"amount_minor": 2000, "currency": "USD"})
    other = make_user(Role.TUTOR)
    assert client_for(other).get("/payments/withdrawals").json()["total"] == 0
    assert client_for(funded_tutor).get("/payments/withdrawals").json()["total"] == 1
    assert client_for(admin_user).get("/payments/withdrawals", {"status": "pending"}).json()["total"] == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_withdrawals_of_the_whole_balance_only_one_succeeds(make_user, bookings, client_for):
    student, tutor = make_user(Role.STUDENT), make_user(Role.TUTOR)
    booking_id = bookings.add(student, tutor, 10000, "USD")
    res = client_for(student).post("/payments/checkout", {"kind": "booking", "object_id": str(booking_id)})
    assert res.status_code == 201
    payment = services.booking_payment(booking_id)
    assert services.do_release(payment_id=payment.id) == 8500
    clients = [client_for(tutor) for _ in range(10)]
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def withdraw(api):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            statuses.append(api.post("/payments/withdrawals", {"amount_minor": 8500, "currency": "USD"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 9, statuses
    assert Withdrawal.objects.count() == 1
    assert wallet(client_for(tutor)) == {"pending": 0, "available": 0, "held": 8500}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_five_parallel_checkouts_of_one_booking_charge_once(make_user, bookings, client_for):
    student, tutor = make_user(Role.STUDENT), make_user(Role.TUTOR)
    booking_id = bookings.add(student, tutor, 10000, "USD")
    clients = [client_for(student) for _ in range(5)]
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def checkout(api):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            statuses.append(api.post("/payments/checkout", {"kind": "booking", "object_id": str(booking_id)}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 201 in statuses and set(statuses) <= {201, 409}, statuses
    assert Payment.objects.filter(object_id=booking_id).count() == 1
    assert LedgerTransaction.objects.filter(kind="capture").count() == 1
    assert wallet(client_for(tutor))["pending"] == 8500


def _admin_client(admin_user):
    from django.test import Client

    from tests.conftest import PASSWORD

    client = Client()
    assert client.login(username=admin_user.email, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_django_admin_actions_approve_and_reject_withdrawals(funded_tutor, admin_user, client_for):
    api = client_for(funded_tutor)
    first = api.post("/payments/withdrawals", {"amount_minor": 3000, "currency": "USD"}).json()["id"]
    second = api.post("/payments/withdrawals", {"amount_minor": 2000, "currency": "USD"}).json()["id"]
    admin_site = _admin_client(admin_user)
    url = "/admin/payments/withdrawal/"
    res = admin_site.post(url, {"action": "approve_withdrawals", "_selected_action": [first]})
    assert res.status_code == 302
    res = admin_site.post(url, {"action": "reject_withdrawals", "_selected_action": [second]})
    assert res.status_code == 302
    assert Withdrawal.objects.get(pk=first).status == "paid"
    assert Withdrawal.objects.get(pk=second).status == "rejected"
    assert wallet(api) == {"pending": 0, "available": 5500, "held": 0}
