"""Payment, refund, release and withdrawal operations. Every money movement is a ledger transaction.

Convergence: a payment row records what the provider has told us (``observed_*``), in whatever order
webhooks arrive; :func:`_converge` then brings the ledger to match, each step under its own
idempotency key. So "refunded" before "succeeded" ends the same as the natural order: the refund is
kept, and applied right after the capture once the capture can be posted (a refunded charge was, by
definition, paid, so a refund observation also implies success).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import BadRequest, Conflict, NotFound, PermissionDenied, ServiceUnavailable, ValidationFailed
from core.events import publish
from core.models import Role, User
from core.registry import ports
from modules.payments import conf, ledger
from modules.payments.events import PaymentFailed, PaymentRefunded, PaymentSucceeded, WithdrawalProcessed
from modules.payments.ledger import Leg
from modules.payments.models import (
    AccountKind,
    Payment,
    PaymentStatus,
    ProcessedStripeEvent,
    Refund,
    Withdrawal,
    WithdrawalStatus,
)
from modules.payments.provider_port import InvalidWebhook, ProviderError, WebhookEvent

logger = logging.getLogger(__name__)
PAYABLE_KINDS = ("booking", "package", "course")
CAPTURED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def payable_port(kind: str) -> str:
    return f"payments.payable.{kind}"


def check_fee(amount_minor: int, *, has_payee: bool) -> int:
    """The platform's fee: PLATFORM_FEE_PERCENT of the amount, rounded half up; all of it with no payee."""
    if not has_payee:
        return amount_minor
    fee = (Decimal(amount_minor) * conf.fee_percent() / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(0, min(amount_minor, int(fee)))


# --- checkout ----------------------------------------------------------------------------------------


def do_checkout(*, payer: User, kind: str, object_id: uuid.UUID) -> tuple[Payment, str | None]:
    """Ask the owner module what is paid, then the provider for a payment. Returns (payment, client_secret)."""
    if kind not in PAYABLE_KINDS or not ports.has(payable_port(kind)):
        raise NotFound(f"Nothing of kind {kind!r} can be paid here", code="not_payable")
    described: dict[str, Any] = ports.get(payable_port(kind))(object_id, payer)
    amount = int(described["amount_minor"])
    currency = str(described["currency"]).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed("The price has no valid currency", code="invalid_currency")
    if amount <= 0:
        raise Conflict("This is free; there is nothing to pay", code="nothing_to_pay")
    payee_id = described.get("payee_user_id")
    payee = User.objects.filter(pk=payee_id).first() if payee_id else None
    provider = conf.get_provider()
    with transaction.atomic():
        # One checkout at a time per payer (a row lock on the user): a double click or two tabs reuse one
        # pending payment, and with it one idempotency key, so the provider charges once.
        User.objects.select_for_update().filter(pk=payer.pk).first()
        same = Payment.objects.filter(kind=kind, object_id=object_id, payer=payer)
        if same.filter(status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)).exists():
            raise Conflict("This is already paid", code="already_paid")
        payment = same.filter(
            status=PaymentStatus.PENDING, provider=provider.name, amount_minor=amount, currency=currency
        ).first()
        if payment is None:
            payment = Payment.objects.create(
                kind=kind,
                object_id=object_id,
                payer=payer,
                payee=payee,
                description=str(described.get("description", ""))[:200],
                amount_minor=amount,
                fee_minor=check_fee(amount, has_payee=payee is not None),
                currency=currency,
                provider=provider.name,
            )
    try:
        created = provider.create_payment(
            amount_minor=amount,
            currency=currency,
            metadata={"payment_id": str(payment.id), "kind": kind, "object_id": str(object_id)},
            idempotency_key=f"payment:{payment.id}",
        )
    except ProviderError as exc:
        logger.warning("payment %s: provider refused: %s", payment.id, exc)
        raise ServiceUnavailable("The payment provider could not take the payment; try again", code="provider_error") from exc
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        payment.provider_ref = created["provider_ref"]
        if created["status"] == "succeeded":
            payment.observed_succeeded = True
        elif created["status"] == "failed":
            payment.observed_failed = True
        payment.save()
        _converge(payment)
    refund_if_cancelled(payment.id)
    return payment, created.get("client_secret")


# --- convergence: the ledger follows what the provider has told us ----------------------------------


def _capture_legs(payment: Payment) -> list[Leg]:
    cur = payment.currency
    legs = [
        Leg(ledger.account(AccountKind.STUDENT_PAYMENTS, cur), -payment.amount_minor),
        Leg(ledger.account(AccountKind.PLATFORM_REVENUE, cur), payment.fee_minor),
    ]
    if payment.payee_id:
        legs.append(Leg(ledger.account(AccountKind.TUTOR_PENDING, cur, payment.payee), payment.amount_minor - payment.fee_minor))
    return legs


def _tutor_part(payment: Payment, before: int, after: int) -> int:
    """The tutor's share of refunding ``before..after`` of the amount; telescopes to the whole share."""
    share = payment.amount_minor - payment.fee_minor
    if not payment.payee_id or share <= 0:
        return 0
    return after * share // payment.amount_minor - before * share // payment.amount_minor


def _post_refund(payment: Payment, refund: Refund, before: int) -> None:
    cur = payment.currency
    tutor_part = _tutor_part(payment, before, before + refund.amount_minor)
    legs = [Leg(ledger.account(AccountKind.REFUNDS, cur), refund.amount_minor)]
    from_pending = from_available = 0
    if tutor_part:
        pending = ledger.account(AccountKind.TUTOR_PENDING, cur, payment.payee)
        from_pending = min(tutor_part, max(0, ledger.reference_balance(pending, str(payment.id))))
        if from_pending:
            legs.append(Leg(pending, -from_pending))
        rest = tutor_part - from_pending
        if rest:
            # Already released: take it back from available, never below zero (the platform absorbs the rest).
            available = ledger.lock_account(ledger.account(AccountKind.TUTOR_AVAILABLE, cur, payment.payee))
            from_available = min(rest, max(0, ledger.balance(available)))
            if from_available:
                legs.append(Leg(available, -from_available))
    legs.append(Leg(ledger.account(AccountKind.PLATFORM_REVENUE, cur), -(refund.amount_minor - from_pending - from_available)))
    ledger.post_transaction(legs, key=f"refund:{refund.id}", kind="refund", reference=str(payment.id))


def _converge(payment: Payment) -> None:
    """Bring status and ledger in line with the observations. Caller holds the payment's row lock."""
    now = timezone.now()
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED) and payment.observed_succeeded:
        ledger.post_transaction(_capture_legs(payment), key=f"capture:{payment.id}", kind="capture", reference=str(payment.id))
        payment.status = PaymentStatus.SUCCEEDED
        payment.captured_at = now
        payment.failure_reason = ""
        payment.save(update_fields=["status", "captured_at", "failure_reason", "updated_at"])
        publish(
            PaymentSucceeded(
                payment_id=payment.id,
                kind=payment.kind,
                object_id=payment.object_id,
                payer_id=payment.payer_id,
                payee_user_id=payment.payee_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
            ),
            durable=True,
        )
    elif payment.status == PaymentStatus.PENDING and payment.observed_failed:
        payment.status = PaymentStatus.FAILED
        payment.save(update_fields=["status", "updated_at"])
        publish(
            PaymentFailed(
                payment_id=payment.id,
                kind=payment.kind,
                object_id=payment.object_id,
                payer_id=payment.payer_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                reason=payment.failure_reason,
            ),
            durable=True,
        )
        return
    if payment.captured_at is None:
        return
    refunds = list(payment.refunds.order_by("created_at", "id"))
    known = sum(r.amount_minor for r in refunds)
    observed = min(payment.observed_refunded_minor, payment.amount_minor)
    if observed > known:  # refunded at the provider (e.g. its dashboard) and not by us
        refund, _ = Refund.objects.get_or_create(
            key=f"provider:{payment.id}:{observed}",
            defaults={"payment": payment, "amount_minor": observed - known, "reason": "refunded at the provider"},
        )
        refunds.append(refund)
    done = sum(r.amount_minor for r in refunds if r.posted)
    for refund in refunds:
        if refund.posted:
            continue
        _post_refund(payment, refund, done)
        done += refund.amount_minor
        refund.posted = True
        refund.save(update_fields=["posted"])
        publish(
            PaymentRefunded(
                payment_id=payment.id,
                kind=payment.kind,
                object_id=payment.object_id,
                amount_minor=refund.amount_minor,
                currency=payment.currency,
                full=done >= payment.amount_minor,
            ),
            durable=True,
        )
    status = (
        PaymentStatus.REFUNDED
        if done >= payment.amount_minor
        else PaymentStatus.PARTIALLY_REFUNDED
        if done > 0
        else PaymentStatus.SUCCEEDED
    )
    if status != payment.status:
        payment.status = status
        payment.save(update_fields=["status", "updated_at"])


# --- webhooks ----------------------------------------------------------------------------------------


def do_process_webhook(*, provider_name: str, payload: bytes, signature: str) -> str:
    """Verify and apply one provider event, exactly once per event id. Returns what happened.

    Raises InvalidWebhook (400) for a bad signature or body; Conflict (409, the provider retries) when
    the payment is not known yet.
    """
    try:
        provider = conf.get_provider(provider_name)
    except (ProviderError, ServiceUnavailable) as exc:
        raise InvalidWebhook(str(exc)) from exc
    evt: WebhookEvent = provider.parse_webhook(payload, signature)
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProcessedStripeEvent.objects.create(event_id=evt["id"], event_type=evt.get("type", "")[:100])
        except IntegrityError:
            return "duplicate"
        if evt.get("kind", "ignored") == "ignored":
            return "ignored"
        payment = None
        if evt.get("provider_ref"):
            payment = Payment.objects.select_for_update().filter(provider_ref=evt["provider_ref"]).first()
        if payment is None and evt.get("payment_id"):
            try:
                payment = Payment.objects.select_for_update().filter(pk=uuid.UUID(str(evt["payment_id"]))).first()
            except ValueError:
                payment = None
        if payment is None:
            # Rolls back the processed-event row: the provider redelivers later.
            raise Conflict("No payment matches this event yet", code="unknown_payment")
        if evt["kind"] == "succeeded":
            payment.observed_succeeded = True
        elif evt["kind"] == "failed":
            payment.observed_failed = True
            payment.failure_reason = evt.get("failure_reason", "")[:200]
        elif evt["kind"] == "refunded":
            payment.observed_succeeded = True  # only a paid charge can be refunded
            payment.observed_refunded_minor = max(payment.observed_refunded_minor, int(evt.get("amount_refunded", 0)))
        payment.save()
        _converge(payment)
    refund_if_cancelled(payment.id)
    return "applied"


# --- refunds and release -----------------------------------------------------------------------------


def do_refund(
    *, payment_id: uuid.UUID, amount_minor: int | None, key: str, reason: str = "", actor: User | None = None
) -> Refund | None:
    """Refund through the provider (the rest of the payment when amount is None) and reverse the ledger.

    Idempotent per ``key``. The payment row stays locked during the provider call so two refunds of
    one payment serialise and can never exceed it.
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise NotFound("No such payment")
        existing = Refund.objects.filter(key=key).first()
        if existing is not None:
            return existing
        if payment.status not in CAPTURED:
            raise Conflict("Only a completed payment can be refunded", code="not_captured")
        remaining = payment.amount_minor - sum(r.amount_minor for r in payment.refunds.all())
        amount = remaining if amount_minor is None else amount_minor
        if amount <= 0 and amount_minor is None:
            return None  # nothing left to refund
        if amount <= 0 or amount > remaining:
            raise Conflict(f"At most {remaining} can still be refunded", code="refund_too_large")
        try:
            created = conf.get_provider(payment.provider).refund(
                provider_ref=payment.provider_ref or "", amount_minor=amount, idempotency_key=f"refund:{key}"[:200]
            )
        except ProviderError as exc:
            raise ServiceUnavailable("The payment provider could not refund; try again", code="provider_error") from exc
        if created["status"] == "failed":
            raise ServiceUnavailable("The payment provider refused the refund", code="refund_failed")
        refund = Refund.objects.create(
            payment=payment,
            amount_minor=amount,
            reason=reason[:200],
            key=key[:200],
            provider_ref=created["provider_ref"],
            created_by=actor,
        )
        _converge(payment)
    return refund


def do_release(*, payment_id: uuid.UUID) -> int:
    """Move what the tutor still has pending from this payment to available. Returns the amount."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None or payment.status not in CAPTURED or not payment.payee_id:
            return 0
        pending = ledger.account(AccountKind.TUTOR_PENDING, payment.currency, payment.payee)
        amount = ledger.reference_balance(pending, str(payment.id))
        if amount > 0:
            available = ledger.account(AccountKind.TUTOR_AVAILABLE, payment.currency, payment.payee)
            ledger.post_transaction(
                [Leg(pending, -amount), Leg(available, amount)],
                key=f"release:{payment.id}",
                kind="release",
                reference=str(payment.id),
            )
        if payment.released_at is None:
            payment.released_at = timezone.now()
            payment.save(update_fields=["released_at", "updated_at"])
        return max(amount, 0)


def release_due_payments() -> int:
    """Scheduled: payments for things other than sessions become available after PAYOUT_HOLD_DAYS.

    Session payments wait for the session's completion (marketplace.booking_completed.v1).
    """
    cutoff = timezone.now() - dt.timedelta(days=conf.payout_hold_days())
    ids = list(
        Payment.objects.filter(
            status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED),
            released_at__isnull=True,
            payee__isnull=False,
            captured_at__lte=cutoff,
        )
        .exclude(kind="booking")
        .values_list("id", flat=True)[:500]
    )
    for pid in ids:
        do_release(payment_id=pid)
    return len(ids)


def do_refund_owner_cancelled(*, kind: str, object_id: Any, reason: str) -> None:
    """The owner cancelled the thing paid for: refund what was captured, and mark pending payments so a
    success that arrives later is refunded at once (no money is kept for something cancelled)."""
    object_id = uuid.UUID(str(object_id))
    for payment in Payment.objects.filter(kind=kind, object_id=object_id, status__in=CAPTURED):
        do_refund(payment_id=payment.id, amount_minor=None, key=f"owner_cancelled:{payment.id}", reason=reason)
    Payment.objects.filter(kind=kind, object_id=object_id, status=PaymentStatus.PENDING).update(
        refund_on_capture=reason[:200] or "cancelled"
    )


def refund_if_cancelled(payment_id: uuid.UUID) -> None:
    """After a capture: refund in full when the owner had already cancelled (see refund_on_capture)."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is not None and payment.refund_on_capture and payment.status in CAPTURED:
        do_refund(
            payment_id=payment.id,
            amount_minor=None,
            key=f"owner_cancelled:{payment.id}",
            reason=payment.refund_on_capture,
        )


def booking_payment(booking_id: Any) -> Payment | None:
    return (
        Payment.objects.filter(kind="booking", object_id=uuid.UUID(str(booking_id)), status__in=CAPTURED)
        .order_by("-created_at")
        .first()
    )


# --- withdrawals -------------------------------------------------------------------------------------


def do_request_withdrawal(*, tutor: User, amount_minor: int, currency: str) -> Withdrawal:
    """Hold ``amount`` of the tutor's available balance at once. The available account's row is locked
    (SELECT ... FOR UPDATE) while the balance is summed, so parallel requests can never overdraw."""
    if tutor.role != Role.TUTOR:
        raise PermissionDenied("Only a tutor may withdraw", code="role_required")
    currency = currency.upper()
    minimum = conf.withdrawal_minimum_minor()
    if amount_minor < minimum:
        raise ValidationFailed(
            f"The minimum withdrawal is {minimum}",
            code="below_minimum",
            errors=[{"field": "amount_minor", "loc": ["amount_minor"], "message": f"at least {minimum}", "type": "too_small"}],
        )
    available = ledger.account(AccountKind.TUTOR_AVAILABLE, currency, tutor)
    held = ledger.account(AccountKind.TUTOR_HELD, currency, tutor)
    with transaction.atomic():
        ledger.lock_account(available)
        balance = ledger.balance(available)
        if amount_minor > balance:
            raise Conflict(f"Only {balance} {currency} is available", code="insufficient_funds")
        withdrawal = Withdrawal.objects.create(tutor=tutor, amount_minor=amount_minor, currency=currency)
        ledger.post_transaction(
            [Leg(available, -amount_minor), Leg(held, amount_minor)],
            key=f"withdrawal:{withdrawal.id}:hold",
            kind="withdrawal_hold",
            reference=str(withdrawal.id),
        )
    return withdrawal


def _decide(*, withdrawal_id: uuid.UUID, admin: User, paid: bool, reference: str = "", reason: str = "") -> Withdrawal:
    with transaction.atomic():
        withdrawal = Withdrawal.objects.select_for_update().filter(pk=withdrawal_id).first()
        if withdrawal is None:
            raise NotFound("No such withdrawal")
        if withdrawal.status != WithdrawalStatus.PENDING:
            raise Conflict(f"This withdrawal is already {withdrawal.status}", code="already_decided")
        cur = withdrawal.currency
        held = ledger.account(AccountKind.TUTOR_HELD, cur, withdrawal.tutor)
        if paid:
            other = ledger.account(AccountKind.PAYOUTS, cur)
        else:
            other = ledger.lock_account(ledger.account(AccountKind.TUTOR_AVAILABLE, cur, withdrawal.tutor))
        ledger.post_transaction(
            [Leg(held, -withdrawal.amount_minor), Leg(other, withdrawal.amount_minor)],
            key=f"withdrawal:{withdrawal.id}:{'paid' if paid else 'rejected'}",
            kind="payout" if paid else "withdrawal_release",
            reference=str(withdrawal.id),
        )
        withdrawal.status = WithdrawalStatus.PAID if paid else WithdrawalStatus.REJECTED
        withdrawal.reference = reference[:120]
        withdrawal.reason = reason[:300]
        withdrawal.decided_by = admin
        withdrawal.decided_at = timezone.now()
        withdrawal.save()
        publish(
            WithdrawalProcessed(
                withdrawal_id=withdrawal.id,
                tutor_user_id=withdrawal.tutor_id,
                amount_minor=withdrawal.amount_minor,
                currency=cur,
                status=withdrawal.status,
            ),
            durable=True,
        )
    return withdrawal


def do_approve_withdrawal(*, withdrawal_id: uuid.UUID, admin: User, reference: str) -> Withdrawal:
    if not reference.strip():
        raise BadRequest("A payout reference is required", code="reference_required")
    return _decide(withdrawal_id=withdrawal_id, admin=admin, paid=True, reference=reference.strip())


def do_reject_withdrawal(*, withdrawal_id: uuid.UUID, admin: User, reason: str = "") -> Withdrawal:
    return _decide(withdrawal_id=withdrawal_id, admin=admin, paid=False, reason=reason)


# --- reports -----------------------------------------------------------------------------------------


def revenue_by_month(*, year: int) -> list[dict[str, Any]]:
    """Platform revenue (fees net of refunds) per month and currency, from the ledger."""
    from django.db.models.functions import TruncMonth

    from modules.payments.models import LedgerEntry

    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    rows = (
        LedgerEntry.objects.filter(account__kind=AccountKind.PLATFORM_REVENUE, created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at", tzinfo=dt.UTC))
        .values("month", "currency")
        .annotate(total=Sum("amount_minor"))
        .order_by("month", "currency")
    )
    return [{"month": r["month"].strftime("%Y-%m"), "currency": r["currency"], "revenue_minor": int(r["total"])} for r in rows]
