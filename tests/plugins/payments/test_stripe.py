"""The Stripe adapter against a local fake speaking Stripe's REST format, and signed webhooks."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from core.models import Role
from core.testing import ApiClient
from modules.payments.models import LedgerEntry, LedgerTransaction, Payment, ProcessedStripeEvent
from plugins.payments.stripe_provider import StripeProvider
from tests.conftest import postgres_only
from tests.modules.payments.conftest import wallet
from tests.plugins.payments.conftest import WEBHOOK_SECRET
from tests.plugins.payments.fake_stripe import event, sign

pytestmark = pytest.mark.django_db


def _deliver(anon: Any, payload: bytes, *, secret: str = WEBHOOK_SECRET, signature: str | None = None) -> Any:
    header = signature if signature is not None else sign(payload, secret)
    return anon.client.post(
        "/api/v1/payments/webhooks/stripe", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def _intent(fake, payment_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    payment = Payment.objects.get(pk=payment_id)
    return fake.intents[payment.provider_ref]


def _succeeded(intent: dict[str, Any]) -> dict[str, Any]:
    return {**intent, "status": "succeeded"}


def _charge_refunded(intent: dict[str, Any], amount_refunded: int) -> dict[str, Any]:
    return {
        "id": f"ch_{uuid.uuid4().hex[:12]}",
        "object": "charge",
        "payment_intent": intent["id"],
        "amount": intent["amount"],
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= intent["amount"],
        "currency": intent["currency"],
    }


def _balanced() -> bool:
    sums = LedgerEntry.objects.values("transaction_id", "currency").annotate(s=Sum("amount_minor"))
    return all(row["s"] == 0 for row in sums)


def test_the_adapter_creates_a_payment_intent_with_an_idempotency_key(fake_stripe):
    created = StripeProvider().create_payment(
        amount_minor=2500, currency="EUR", metadata={"payment_id": "p-1"}, idempotency_key="payment:p-1"
    )
    assert created["provider_ref"].startswith("pi_")
    assert created["client_secret"].startswith(created["provider_ref"] + "_secret_")
    assert created["status"] == "pending"
    (req,) = fake_stripe.posts("/v1/payment_intents")
    assert req.headers["idempotency-key"] == "payment:p-1"
    assert req.params["amount"] == "2500" and req.params["currency"] == "eur"
    assert req.params["metadata[payment_id]"] == "p-1"
    # the same key again returns the same intent (Stripe replays), so no second charge can exist
    again = StripeProvider().create_payment(
        amount_minor=2500, currency="EUR", metadata={"payment_id": "p-1"}, idempotency_key="payment:p-1"
    )
    assert again["provider_ref"] == created["provider_ref"]
    assert len(fake_stripe.intents) == 1


def test_a_server_error_is_retried_with_the_same_idempotency_key(fake_stripe, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    fake_stripe.faults.append((500, {"error": {"type": "api_error", "message": "boom"}}, {"Stripe-Should-Retry": "true"}))
    created = StripeProvider().create_payment(amount_minor=100, currency="usd", metadata={}, idempotency_key="payment:retry")
    keys = [r.headers.get("idempotency-key") for r in fake_stripe.posts("/v1/payment_intents")]
    assert keys == ["payment:retry", "payment:retry"]
    assert created["provider_ref"] in fake_stripe.intents


def test_checkout_with_stripe_is_pending_until_the_webhook_and_one_event_five_times_posts_once(
    fake_stripe, student, tutor, bookings, pay, client_for, anon, events, django_capture_on_commit_callbacks
):
    booking_id = bookings.add(student, tutor, 4000, "GBP")
    body = pay(student, "booking", booking_id)
    assert body["status"] == "pending" and body["provider"] == "stripe"
    assert body["client_secret"] and body["currency"] == "GBP"
    (req,) = fake_stripe.posts("/v1/payment_intents")
    assert req.headers["idempotency-key"] == f"payment:{body['payment_id']}"
    assert req.params["currency"] == "gbp" and req.params["amount"] == "4000"
    assert LedgerEntry.objects.count() == 0

    payload = event("payment_intent.succeeded", _succeeded(_intent(fake_stripe, body["payment_id"])), "evt_success_1")
    results = []
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            res = _deliver(anon, payload)
        assert res.status_code == 200, res.content
        results.append(res.json()["result"])
    assert results == ["applied"] + ["duplicate"] * 4
    assert LedgerTransaction.objects.filter(kind="capture").count() == 1
    assert LedgerEntry.objects.count() == 3
    assert wallet(client_for(tutor), "GBP")["pending"] == 3400
    assert len([e for e in events if e.event_type == "payments.payment_succeeded.v1"]) == 1
    assert client_for(student).get(f"/payments/payments/{body['payment_id']}").json()["status"] == "succeeded"


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "tampered body", "no header", "old timestamp", "garbage header"],
)
def test_a_bad_signature_answers_400_and_changes_nothing(fake_stripe, student, tutor, bookings, pay, anon, how):
    body = pay(student, "booking", bookings.add(student, tutor))
    payload = event("payment_intent.succeeded", _succeeded(_intent(fake_stripe, body["payment_id"])))
    if how == "wrong secret":
        res = _deliver(anon, payload, secret="whsec_someone_else")
    elif how == "tampered body":
        res = _deliver(anon, payload.replace(b'"amount": 10000', b'"amount": 1'), signature=sign(payload, WEBHOOK_SECRET))
    elif how == "no header":
        res = _deliver(anon, payload, signature="")
    elif how == "old timestamp":
        res = _deliver(anon, payload, signature=sign(payload, WEBHOOK_SECRET, int(time.time()) - 3600))
    else:
        res = _deliver(anon, payload, signature="t=abc,v1=zzz")
    assert res.status_code == 400, res.content
    assert res.json()["code"] == "invalid_webhook"
    assert LedgerEntry.objects.count() == 0 and ProcessedStripeEvent.objects.count() == 0
    assert Payment.objects.get().status == "pending"


def test_refunded_before_succeeded_ends_refunded_and_balanced(
    fake_stripe, student, tutor, bookings, pay, client_for, anon, events, django_capture_on_commit_callbacks
):
    body = pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    intent = _intent(fake_stripe, body["payment_id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert _deliver(anon, event("charge.refunded", _charge_refunded(intent, 10000))).status_code == 200
        assert _deliver(anon, event("payment_intent.succeeded", _succeeded(intent))).status_code == 200
    payment = Payment.objects.get(pk=body["payment_id"])
    assert payment.status == "refunded"
    assert [t.kind for t in LedgerTransaction.objects.order_by("created_at")] == ["capture", "refund"]
    assert _balanced()
    assert wallet(client_for(tutor)) == {"pending": 0, "available": 0, "held": 0}
    kinds = [e.event_type for e in events if e.event_type.startswith("payments.")]
    assert kinds == ["payments.payment_succeeded.v1", "payments.payment_refunded.v1"]


def test_a_partial_refund_then_full_refund_in_reverse_order_converges(
    fake_stripe, student, tutor, bookings, pay, client_for, anon, django_capture_on_commit_callbacks
):
    body = pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    intent = _intent(fake_stripe, body["payment_id"])
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(anon, event("payment_intent.succeeded", _succeeded(intent)))
        _deliver(anon, event("charge.refunded", _charge_refunded(intent, 10000)))  # later total arrives first
        _deliver(anon, event("charge.refunded", _charge_refunded(intent, 3000)))  # the earlier, smaller total
    assert Payment.objects.get(pk=body["payment_id"]).status == "refunded"
    refunded = LedgerEntry.objects.filter(account__kind="refunds").aggregate(s=Sum("amount_minor"))["s"]
    assert refunded == 10000
    assert _balanced()


def test_failed_then_succeeded_ends_succeeded_and_failure_after_success_is_ignored(
    fake_stripe, student, tutor, bookings, pay, anon, events, django_capture_on_commit_callbacks
):
    first = pay(student, "booking", bookings.add(student, tutor))
    second = pay(student, "booking", bookings.add(student, tutor))
    i1, i2 = _intent(fake_stripe, first["payment_id"]), _intent(fake_stripe, second["payment_id"])
    failed = {"last_payment_error": {"message": "Your card was declined."}, "status": "requires_payment_method"}
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(anon, event("payment_intent.payment_failed", {**i1, **failed}))
        _deliver(anon, event("payment_intent.succeeded", _succeeded(i1)))  # the retry with another card worked
        _deliver(anon, event("payment_intent.succeeded", _succeeded(i2)))
        _deliver(anon, event("payment_intent.payment_failed", {**i2, **failed}))  # a stale failure, late
    assert Payment.objects.get(pk=first["payment_id"]).status == "succeeded"
    assert Payment.objects.get(pk=second["payment_id"]).status == "succeeded"
    assert LedgerTransaction.objects.filter(kind="capture").count() == 2
    assert [e.event_type for e in events].count("payments.payment_failed.v1") == 1


def test_a_failed_payment_tells_the_owner(
    fake_stripe, student, tutor, bookings, pay, anon, events, django_capture_on_commit_callbacks
):
    body = pay(student, "booking", bookings.add(student, tutor))
    intent = _intent(fake_stripe, body["payment_id"])
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(anon, event("payment_intent.payment_failed", {**intent, "last_payment_error": {"message": "declined"}}))
    payment = Payment.objects.get(pk=body["payment_id"])
    assert payment.status == "failed" and payment.failure_reason == "declined"
    (failed,) = [e for e in events if e.event_type == "payments.payment_failed.v1"]
    assert failed.object_id == payment.object_id and failed.kind == "booking"
    assert LedgerEntry.objects.count() == 0


def test_an_event_for_an_unknown_payment_is_not_recorded_so_stripe_redelivers(fake_stripe, anon):
    payload = event("payment_intent.succeeded", {"id": "pi_unknown", "object": "payment_intent", "metadata": {}})
    assert _deliver(anon, payload).status_code == 409
    assert ProcessedStripeEvent.objects.count() == 0


def test_other_event_types_are_acknowledged_and_ignored(fake_stripe, anon):
    payload = event("customer.created", {"id": "cus_1", "object": "customer"})
    res = _deliver(anon, payload)
    assert res.status_code == 200 and res.json()["result"] == "ignored"


def test_a_refundable_cancellation_refunds_through_stripe_once(
    fake_stripe, student, tutor, bookings, pay, booking_events, anon, client_for, django_capture_on_commit_callbacks
):
    booking_id = bookings.add(student, tutor, 10000, "USD")
    body = pay(student, "booking", booking_id)
    intent = _intent(fake_stripe, body["payment_id"])
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(anon, event("payment_intent.succeeded", _succeeded(intent)))
    booking_events("cancelled", booking_id, refund_eligible=True)
    booking_events("cancelled", booking_id, refund_eligible=True)
    (req,) = fake_stripe.posts("/v1/refunds")
    assert req.params == {"payment_intent": intent["id"], "amount": "10000"}
    assert req.headers["idempotency-key"] == f"refund:booking_cancelled:{body['payment_id']}"
    # Stripe's own charge.refunded for that refund changes nothing more
    with django_capture_on_commit_callbacks(execute=True):
        assert _deliver(anon, event("charge.refunded", _charge_refunded(intent, 10000))).status_code == 200
    assert LedgerTransaction.objects.filter(kind="refund").count() == 1
    assert Payment.objects.get(pk=body["payment_id"]).status == "refunded"
    assert wallet(client_for(tutor))["pending"] == 0


def test_a_card_error_at_checkout_answers_503_and_takes_nothing(fake_stripe, student, tutor, bookings, client_for):
    fake_stripe.faults.append(
        (402, {"error": {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}}, {})
    )
    booking_id = bookings.add(student, tutor)
    res = client_for(student).post("/payments/checkout", {"kind": "booking", "object_id": str(booking_id)})
    assert res.status_code == 503 and res.json()["code"] == "provider_error"
    assert LedgerEntry.objects.count() == 0


def test_the_webhook_body_is_parsed_only_after_verification(fake_stripe, anon):
    res = _deliver(anon, b"not json at all", signature=sign(b"not json at all", WEBHOOK_SECRET))
    assert res.status_code == 400
    assert json.loads(res.content)["status"] == 400


def test_a_payment_that_succeeds_after_its_booking_was_cancelled_is_refunded_at_once(
    fake_stripe, student, tutor, bookings, pay, booking_events, anon, client_for, django_capture_on_commit_callbacks
):
    booking_id = bookings.add(student, tutor, 7000, "USD")
    body = pay(student, "booking", booking_id)
    booking_events("cancelled", booking_id, refund_eligible=True)
    assert fake_stripe.posts("/v1/refunds") == []  # nothing captured yet, nothing to refund
    intent = _intent(fake_stripe, body["payment_id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert _deliver(anon, event("payment_intent.succeeded", _succeeded(intent))).status_code == 200
    (req,) = fake_stripe.posts("/v1/refunds")
    assert req.params["amount"] == "7000"
    assert Payment.objects.get(pk=body["payment_id"]).status == "refunded"
    assert wallet(client_for(tutor))["pending"] == 0 and _balanced()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_in_parallel_applies_once(fake_stripe, make_user, bookings):
    student, tutor = make_user(Role.STUDENT), make_user(Role.TUTOR)
    booking_id = bookings.add(student, tutor, 10000, "USD")
    res = ApiClient(student).post("/payments/checkout", {"kind": "booking", "object_id": str(booking_id)})
    assert res.status_code == 201
    payload = event("payment_intent.succeeded", _succeeded(_intent(fake_stripe, res.json()["payment_id"])))
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            statuses.append(_deliver(ApiClient(), payload).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 5
    assert LedgerTransaction.objects.filter(kind="capture").count() == 1
    assert ProcessedStripeEvent.objects.count() == 1


def test_a_refund_stripe_refuses_changes_nothing(
    fake_stripe, student, tutor, admin_user, bookings, pay, anon, client_for, django_capture_on_commit_callbacks
):
    body = pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(anon, event("payment_intent.succeeded", _succeeded(_intent(fake_stripe, body["payment_id"]))))
    fake_stripe.faults.append((400, {"error": {"type": "invalid_request_error", "message": "Charge is disputed"}}, {}))
    res = client_for(admin_user).post(f"/payments/admin/payments/{body['payment_id']}/refund", {"amount_minor": 5000})
    assert res.status_code == 503 and res.json()["code"] == "provider_error"
    assert LedgerTransaction.objects.filter(kind="refund").count() == 0
    assert Payment.objects.get(pk=body["payment_id"]).status == "succeeded"
    assert wallet(client_for(tutor))["pending"] == 8500
    # once Stripe accepts, the same request works
    res = client_for(admin_user).post(f"/payments/admin/payments/{body['payment_id']}/refund", {"amount_minor": 5000})
    assert res.status_code == 201
    assert wallet(client_for(tutor))["pending"] == 4250


def test_without_an_api_key_checkout_answers_503(fake_stripe, settings, student, tutor, bookings, client_for):
    settings.STRIPE_SECRET_KEY = ""
    res = client_for(student).post("/payments/checkout", {"kind": "booking", "object_id": str(bookings.add(student, tutor))})
    assert res.status_code == 503
    assert Payment.objects.filter(status="succeeded").count() == 0
