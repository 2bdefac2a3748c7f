"""/api/v1/payments/...: checkout, my payments, wallet, withdrawals, admin reports, Stripe webhooks."""

from __future__ import annotations

import csv
import uuid

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Status

from core.api.errors import error_responses, problem_response
from core.api.pagination import Page, PageQuery, paginate
from core.api.schemas import QuerySchema
from core.audit import audit
from core.errors import NotFound
from core.models import Role
from core.permissions import current_user, require_admin, require_role
from modules.payments import conf, ledger, services
from modules.payments.models import LedgerEntry, Payment, Withdrawal
from modules.payments.provider_port import InvalidWebhook
from modules.payments.schemas import (
    ApproveIn,
    CheckoutIn,
    CheckoutOut,
    EntryOut,
    PaymentListQuery,
    PaymentOut,
    RefundIn,
    RefundOut,
    RejectIn,
    RevenueRow,
    WalletOut,
    WebhookOut,
    WithdrawalIn,
    WithdrawalListQuery,
    WithdrawalOut,
)

router = Router(tags=["payments"])


def _payments_qs():  # type: ignore[no-untyped-def]
    return Payment.objects.annotate(refunded_sum=Coalesce(Sum("refunds__amount_minor"), 0))


@router.post("/checkout", response={201: CheckoutOut, **error_responses(401, 404, 409, 422, 503)})
def checkout(request: HttpRequest, data: CheckoutIn):  # type: ignore[no-untyped-def]
    user = current_user(request)
    payment, secret = services.do_checkout(payer=user, kind=data.kind, object_id=data.object_id)
    return Status(
        201,
        {
            "payment_id": payment.id,
            "status": payment.status,
            "client_secret": secret,
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            "provider": payment.provider,
        },
    )


@router.get("/mine", response={200: Page[PaymentOut], **error_responses(401, 422)})
def my_payments(request: HttpRequest, filters: Query[PaymentListQuery], page: Query[PageQuery]):  # type: ignore[no-untyped-def]
    user = current_user(request)
    qs = _payments_qs().filter(payee=user) if filters.role == "payee" else _payments_qs().filter(payer=user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    rows, meta = paginate(qs.order_by("-created_at", "-id"), page)
    return {"items": rows, **meta}


@router.get("/payments/{payment_id}", response={200: PaymentOut, **error_responses(401, 404)})
def get_payment(request: HttpRequest, payment_id: uuid.UUID):  # type: ignore[no-untyped-def]
    user = current_user(request)
    qs = _payments_qs().filter(pk=payment_id)
    if user.role != Role.ADMIN:
        qs = qs.filter(Q(payer=user) | Q(payee=user))
    payment = qs.first()
    if payment is None:
        raise NotFound("No payment with that id, or you may not see it")
    return payment


@router.get("/wallet", response={200: WalletOut, **error_responses(401, 403)})
def my_wallet(request: HttpRequest):  # type: ignore[no-untyped-def]
    user = require_role(request, Role.TUTOR)
    balances = ledger.tutor_balances(user)
    return {
        "balances": [
            {"currency": cur, "pending_minor": b["pending"], "available_minor": b["available"], "held_minor": b["held"]}
            for cur, b in sorted(balances.items())
        ],
        "withdrawal_minimum_minor": conf.withdrawal_minimum_minor(),
    }


class EntryQuery(QuerySchema):
    currency: str | None = Field(None, min_length=3, max_length=3)


def _entry_rows(entries: list[LedgerEntry]) -> list[dict[str, object]]:
    return [
        {
            "id": e.id,
            "transaction_id": e.transaction_id,
            "kind": e.transaction.kind,
            "account": e.account.kind,
            "reference": e.transaction.reference,
            "amount_minor": e.amount_minor,
            "currency": e.currency,
            "created_at": e.created_at,
        }
        for e in entries
    ]


@router.get("/wallet/entries", response={200: Page[EntryOut], **error_responses(401, 403, 422)})
def my_wallet_entries(request: HttpRequest, filters: Query[EntryQuery], page: Query[PageQuery]):  # type: ignore[no-untyped-def]
    user = require_role(request, Role.TUTOR)
    qs = LedgerEntry.objects.filter(account__owner=user).select_related("transaction", "account")
    if filters.currency:
        qs = qs.filter(currency=filters.currency.upper())
    rows, meta = paginate(qs.order_by("-created_at", "-id"), page)
    return {"items": _entry_rows(rows), **meta}


@router.post("/withdrawals", response={201: WithdrawalOut, **error_responses(401, 403, 409, 422)})
def create_withdrawal(request: HttpRequest, data: WithdrawalIn):  # type: ignore[no-untyped-def]
    user = require_role(request, Role.TUTOR)
    withdrawal = services.do_request_withdrawal(tutor=user, amount_minor=data.amount_minor, currency=data.currency)
    audit("payments.withdrawal_requested", actor=user, target=withdrawal, request=request, details={"amount": data.amount_minor})
    return Status(201, withdrawal)


@router.get("/withdrawals", response={200: Page[WithdrawalOut], **error_responses(401, 403, 422)})
def list_withdrawals(request: HttpRequest, filters: Query[WithdrawalListQuery], page: Query[PageQuery]):  # type: ignore[no-untyped-def]
    """A tutor sees their own; an admin sees everyone's."""
    user = require_role(request, Role.TUTOR, Role.ADMIN)
    qs = Withdrawal.objects.all() if user.role == Role.ADMIN else Withdrawal.objects.filter(tutor=user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    rows, meta = paginate(qs.order_by("-created_at", "-id"), page)
    return {"items": rows, **meta}


@router.post("/withdrawals/{withdrawal_id}/approve", response={200: WithdrawalOut, **error_responses(401, 403, 404, 409, 422)})
def approve_withdrawal(request: HttpRequest, withdrawal_id: uuid.UUID, data: ApproveIn):  # type: ignore[no-untyped-def]
    admin = require_admin(request)
    withdrawal = services.do_approve_withdrawal(withdrawal_id=withdrawal_id, admin=admin, reference=data.reference)
    audit("payments.withdrawal_paid", actor=admin, target=withdrawal, request=request, details={"reference": data.reference})
    return withdrawal


@router.post("/withdrawals/{withdrawal_id}/reject", response={200: WithdrawalOut, **error_responses(401, 403, 404, 409, 422)})
def reject_withdrawal(request: HttpRequest, withdrawal_id: uuid.UUID, data: RejectIn):  # type: ignore[no-untyped-def]
    admin = require_admin(request)
    withdrawal = services.do_reject_withdrawal(withdrawal_id=withdrawal_id, admin=admin, reason=data.reason)
    audit("payments.withdrawal_rejected", actor=admin, target=withdrawal, request=request, details={"reason": data.reason})
    return withdrawal


class AdminPaymentQuery(QuerySchema):
    status: str | None = Field(None, max_length=24)
    kind: str | None = Field(None, max_length=16)
    payer_id: uuid.UUID | None = None
    payee_id: uuid.UUID | None = None
    object_id: uuid.UUID | None = None


@router.get("/admin/payments", response={200: Page[PaymentOut], **error_responses(401, 403, 422)})
def admin_payments(request: HttpRequest, filters: Query[AdminPaymentQuery], page: Query[PageQuery]):  # type: ignore[no-untyped-def]
    require_admin(request)
    qs = _payments_qs()
    for name in ("status", "kind", "payer_id", "payee_id", "object_id"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    rows, meta = paginate(qs.order_by("-created_at", "-id"), page)
    return {"items": rows, **meta}


@router.post("/admin/payments/{payment_id}/refund", response={201: RefundOut, **error_responses(401, 403, 404, 409, 422, 503)})
def admin_refund(request: HttpRequest, payment_id: uuid.UUID, data: RefundIn):  # type: ignore[no-untyped-def]
    """An admin's (partial) refund, e.g. for a cancellation outside the refund window."""
    admin = require_admin(request)
    refund = services.do_refund(
        payment_id=payment_id,
        amount_minor=data.amount_minor,
        key=f"admin:{payment_id}:{uuid.uuid4()}",
        reason=data.reason or "admin decision",
        actor=admin,
    )
    audit("payments.refunded", actor=admin, target=refund, request=request, details={"amount": data.amount_minor})
    return Status(201, refund)


class RevenueQuery(QuerySchema):
    year: int = Field(..., ge=2000, le=2100)


@router.get("/admin/revenue", response={200: list[RevenueRow], **error_responses(401, 403, 422)})
def admin_revenue(request: HttpRequest, q: Query[RevenueQuery]):  # type: ignore[no-untyped-def]
    require_admin(request)
    return services.revenue_by_month(year=q.year)


class _Echo:
    def write(self, value: str) -> str:
        return value


@router.get("/admin/ledger.csv", response={200: None, **error_responses(401, 403)})
def admin_ledger_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every ledger entry for accounting, one row each, streamed (constant memory)."""
    require_admin(request)
    writer = csv.writer(_Echo())
    header = ["entry_id", "transaction_id", "transaction_kind", "reference", "created_at", "account", "owner_id"]
    header += ["currency", "amount_minor"]

    def rows():  # type: ignore[no-untyped-def]
        yield writer.writerow(header)
        qs = LedgerEntry.objects.select_related("transaction", "account").order_by("created_at", "id")
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.id,
                    e.transaction_id,
                    e.transaction.kind,
                    e.transaction.reference,
                    e.created_at.isoformat(),
                    e.account.kind,
                    e.account.owner_id or "",
                    e.currency,
                    e.amount_minor,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ledger.csv"'
    return response


@router.post("/webhooks/stripe", auth=None, response={200: WebhookOut, **error_responses(400, 409)})
def stripe_webhook(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Stripe's webhook: signature verified; applied exactly once per event id."""
    try:
        result = services.do_process_webhook(
            provider_name="stripe", payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except InvalidWebhook:
        return problem_response(request, 400, "The webhook's signature or body is not valid", code="invalid_webhook")
    return {"received": True, "result": result}
