from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.db.models import Sum
from django.test import override_settings

from core.models import Role
from modules.payments.models import LedgerEntry, LedgerTransaction
from tests.modules.payments.conftest import wallet

pytestmark = pytest.mark.django_db


def _platform_revenue(currency: str = "USD") -> int:
    total = LedgerEntry.objects.filter(account__kind="platform_revenue", currency=currency).aggregate(s=Sum("amount_minor"))
    return int(total["s"] or 0)


def test_offline_checkout_succeeds_at_once_splits_the_fee_and_tells_the_owner(student, tutor, bookings, pay, client_for, events):
    booking_id = bookings.add(student, tutor, 10000, "USD")
    body = pay(student, "booking", booking_id)
    assert body["status"] == "succeeded"
    assert body["client_secret"] is None
    assert (body["amount_minor"], body["currency"], body["provider"]) == (10000, "USD", "offline")
    assert wallet(client_for(tutor)) == {"pending": 8500, "available": 0, "held": 0}
    assert _platform_revenue() == 1500
    succeeded = [e for e in events if e.event_type == "payments.payment_succeeded.v1"]
    assert len(succeeded) == 1
    evt = succeeded[0]
    assert (evt.kind, evt.object_id, evt.payer_id, evt.payee_user_id) == ("booking", booking_id, student.id, tutor.id)
    assert (evt.amount_minor, evt.currency) == (10000, "USD")


@override_settings(PLATFORM_FEE_PERCENT=20)
def test_the_fee_follows_the_setting(student, tutor, bookings, pay, client_for):
    pay(student, "booking", bookings.add(student, tutor, 2999, "USD"))
    assert wallet(client_for(tutor))["pending"] == 2399  # 2999 - round(599.8)
    assert _platform_revenue() == 600


def test_the_prices_currency_is_charged_without_conversion(student, tutor, bookings, pay, client_for):
    body = pay(student, "booking", bookings.add(student, tutor, 5000, "JPY"))
    assert (body["amount_minor"], body["currency"]) == (5000, "JPY")
    res = client_for(tutor).get("/payments/wallet").json()
    assert [(b["currency"], b["pending_minor"]) for b in res["balances"]] == [("JPY", 4250)]
    assert _platform_revenue("JPY") == 750 and _platform_revenue("USD") == 0


def test_paying_twice_conflicts_and_moves_no_more_money(student, tutor, bookings, pay, client_for):
    booking_id = bookings.add(student, tutor)
    pay(student, "booking", booking_id)
    res = client_for(student).post("/payments/checkout", {"kind": "booking", "object_id": str(booking_id)})
    assert res.status_code == 409 and res.json()["code"] == "already_paid"
    assert LedgerTransaction.objects.filter(kind="capture").count() == 1


def test_checkout_for_something_not_payable_answers_404(student, tutor, bookings, client_for):
    other_student_booking = bookings.add(tutor, tutor)  # payer must be the booking's student
    api = client_for(student)
    assert api.post("/payments/checkout", {"kind": "booking", "object_id": str(uuid.uuid4())}).status_code == 404
    assert api.post("/payments/checkout", {"kind": "booking", "object_id": str(other_student_booking)}).status_code == 404
    # no "package" payable is registered in this test run unless a module registers one
    res = api.post("/payments/checkout", {"kind": "lunch", "object_id": str(uuid.uuid4())})
    assert res.status_code == 422
    assert LedgerEntry.objects.count() == 0


@override_settings(PRODUCTION=True)
def test_the_offline_provider_refuses_to_work_in_production(student, tutor, bookings, client_for):
    booking_id = bookings.add(student, tutor)
    res = client_for(student).post("/payments/checkout", {"kind": "booking", "object_id": str(booking_id)})
    assert res.status_code == 503
    assert LedgerEntry.objects.count() == 0


def test_completion_moves_the_tutors_share_to_available_once(student, tutor, bookings, pay, booking_events, client_for):
    booking_id = bookings.add(student, tutor)
    pay(student, "booking", booking_id)
    booking_events("completed", booking_id)
    booking_events("completed", booking_id)  # redelivered
    assert wallet(client_for(tutor)) == {"pending": 0, "available": 8500, "held": 0}


def test_cancellation_inside_the_window_refunds_in_full_and_reverses_the_ledger(
    student, tutor, bookings, pay, booking_events, client_for, events
):
    booking_id = bookings.add(student, tutor)
    payment_id = pay(student, "booking", booking_id)["payment_id"]
    booking_events("cancelled", booking_id, refund_eligible=True)
    booking_events("cancelled", booking_id, refund_eligible=True)  # redelivered: no second refund
    assert wallet(client_for(tutor)) == {"pending": 0, "available": 0, "held": 0}
    assert _platform_revenue() == 0
    mine = client_for(student).get(f"/payments/payments/{payment_id}").json()
    assert (mine["status"], mine["refunded_minor"]) == ("refunded", 10000)
    refunded = [e for e in events if e.event_type == "payments.payment_refunded.v1"]
    assert len(refunded) == 1 and refunded[0].full is True and refunded[0].amount_minor == 10000


def test_cancellation_outside_the_window_refunds_nothing_until_an_admin_decides(
    student, tutor, admin_user, bookings, pay, booking_events, client_for
):
    booking_id = bookings.add(student, tutor)
    payment_id = pay(student, "booking", booking_id)["payment_id"]
    booking_events("cancelled", booking_id, refund_eligible=False)
    assert wallet(client_for(tutor))["pending"] == 8500
    # the tutor may not refund; the admin decides a partial refund of 40%
    assert client_for(tutor).post(f"/payments/admin/payments/{payment_id}/refund", {"amount_minor": 4000}).status_code == 403
    res = client_for(admin_user).post(
        f"/payments/admin/payments/{payment_id}/refund", {"amount_minor": 4000, "reason": "goodwill"}
    )
    assert res.status_code == 201, res.content
    assert wallet(client_for(tutor))["pending"] == 5100  # 8500 - 85% of 4000
    assert _platform_revenue() == 900
    too_much = client_for(admin_user).post(f"/payments/admin/payments/{payment_id}/refund", {"amount_minor": 6001})
    assert too_much.status_code == 409
    assert client_for(student).get(f"/payments/payments/{payment_id}").json()["status"] == "partially_refunded"


def test_a_tutor_no_show_refunds_in_full_and_a_student_no_show_pays_the_tutor(
    student, tutor, bookings, pay, booking_events, client_for
):
    first, second = bookings.add(student, tutor), bookings.add(student, tutor)
    pay(student, "booking", first)
    pay(student, "booking", second)
    booking_events("no_show", first, who="tutor")
    booking_events("no_show", second, who="student")
    assert wallet(client_for(tutor)) == {"pending": 0, "available": 8500, "held": 0}
    statuses = {p["object_id"]: p["status"] for p in client_for(student).get("/payments/mine").json()["items"]}
    assert statuses == {str(first): "refunded", str(second): "succeeded"}


def test_a_student_cannot_read_anothers_payments(student, make_user, tutor, bookings, pay, client_for):
    payment_id = pay(student, "booking", bookings.add(student, tutor))["payment_id"]
    other = make_user(Role.STUDENT)
    assert client_for(other).get(f"/payments/payments/{payment_id}").status_code == 404
    assert client_for(other).get("/payments/mine").json()["total"] == 0
    assert client_for(student).get(f"/payments/payments/{payment_id}").status_code == 200
    assert client_for(tutor).get("/payments/mine", {"role": "payee"}).json()["total"] == 1


def test_my_payments_runs_a_fixed_number_of_queries(student, tutor, bookings, pay, client_for, django_assert_num_queries):
    api = client_for(student)
    pay(student, "booking", bookings.add(student, tutor))
    api.get("/payments/mine")  # warm the session
    with override_settings(PUBLIC_READ_CACHE=False), django_assert_num_queries(2):  # COUNT, page (a miss; the
        assert api.get("/payments/mine").json()["total"] == 1  # session and the caller come from the cache)
    for _ in range(4):
        pay(student, "booking", bookings.add(student, tutor))
    with django_assert_num_queries(2):  # the payments made the cached answer miss
        assert api.get("/payments/mine").json()["total"] == 5


def test_wallet_entries_are_paged_and_only_the_tutors_own(student, tutor, make_user, bookings, pay, client_for):
    pay(student, "booking", bookings.add(student, tutor))
    pay(student, "booking", bookings.add(student, make_user(Role.TUTOR)))
    res = client_for(tutor).get("/payments/wallet/entries", {"page_size": 10})
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == 1
    assert body["items"][0]["amount_minor"] == 8500 and body["items"][0]["account"] == "tutor_pending"
    assert client_for(student).get("/payments/wallet").status_code == 403


def test_admin_revenue_by_month_and_ledger_csv(student, tutor, admin_user, bookings, pay, client_for):
    pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    pay(student, "booking", bookings.add(student, tutor, 2000, "EUR"))
    assert client_for(tutor).get("/payments/admin/revenue", {"year": 2026}).status_code == 403
    from django.utils import timezone

    now = timezone.now()
    rows = client_for(admin_user).get("/payments/admin/revenue", {"year": now.year}).json()
    month = now.strftime("%Y-%m")
    assert {(r["month"], r["currency"], r["revenue_minor"]) for r in rows} == {(month, "EUR", 300), (month, "USD", 1500)}
    res = client_for(admin_user).get("/payments/admin/ledger.csv")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode())))
    assert len(table) == 6
    for txn in {r["transaction_id"] for r in table}:
        assert sum(int(r["amount_minor"]) for r in table if r["transaction_id"] == txn) == 0
    assert client_for(student).get("/payments/admin/ledger.csv").status_code == 403


def test_a_declined_request_that_was_paid_is_refunded_in_full(student, tutor, bookings, pay, booking_events, client_for):
    booking_id = bookings.add(student, tutor)
    payment_id = pay(student, "booking", booking_id)["payment_id"]
    booking_events("declined", booking_id)
    assert client_for(student).get(f"/payments/payments/{payment_id}").json()["status"] == "refunded"
    assert wallet(client_for(tutor))["pending"] == 0


def test_the_payer_gets_a_receipt_and_a_refund_notice_once(student, tutor, bookings, pay, booking_events, mailoutbox):
    booking_id = bookings.add(student, tutor, 12345, "USD")
    pay(student, "booking", booking_id)
    booking_events("cancelled", booking_id, refund_eligible=True)
    booking_events("cancelled", booking_id, refund_eligible=True)
    mine = [m for m in mailoutbox if m.to == [student.email]]
    subjects = sorted(m.subject for m in mine)
    assert subjects == ["Payment received: 123.45 USD", "Refund of 123.45 USD"], subjects


def test_admins_list_all_payments_with_filters_and_others_may_not(student, tutor, admin_user, bookings, pay, client_for):
    first = bookings.add(student, tutor)
    pay(student, "booking", first)
    pay(student, "booking", bookings.add(student, tutor))
    api = client_for(admin_user)
    assert api.get("/payments/admin/payments").json()["total"] == 2
    only = api.get("/payments/admin/payments", {"object_id": str(first)}).json()
    assert only["total"] == 1 and only["items"][0]["object_id"] == str(first)
    assert client_for(student).get("/payments/admin/payments").status_code == 403
    assert client_for(tutor).get("/payments/admin/payments").status_code == 403
