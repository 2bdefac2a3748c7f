from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Field, Schema
from pydantic import field_validator

from core.api.schemas import QuerySchema, WriteSchema
from core.identity.validators import CURRENCIES


class CheckoutIn(WriteSchema):
    kind: Literal["booking", "package", "course"]
    object_id: uuid.UUID


class CheckoutOut(Schema):
    payment_id: uuid.UUID
    status: str
    client_secret: str | None
    amount_minor: int
    currency: str
    provider: str


class PaymentOut(Schema):
    id: uuid.UUID
    kind: str
    object_id: uuid.UUID
    description: str
    amount_minor: int
    fee_minor: int
    refunded_minor: int
    currency: str
    status: str
    provider: str
    payer_id: uuid.UUID
    payee_id: uuid.UUID | None
    created_at: dt.datetime
    captured_at: dt.datetime | None
    released_at: dt.datetime | None

    @staticmethod
    def resolve_refunded_minor(obj: object) -> int:
        annotated = getattr(obj, "refunded_sum", None)
        return int(annotated) if annotated is not None else int(obj.refunded_minor)  # type: ignore[attr-defined]


class PaymentListQuery(QuerySchema):
    status: str | None = Field(None, max_length=24)
    kind: Literal["booking", "package", "course"] | None = None
    role: Literal["payer", "payee"] = "payer"


class BalanceOut(Schema):
    currency: str
    pending_minor: int
    available_minor: int
    held_minor: int


class EntryOut(Schema):
    id: int
    transaction_id: uuid.UUID
    kind: str
    account: str
    reference: str
    amount_minor: int
    currency: str
    created_at: dt.datetime


class WalletOut(Schema):
    balances: list[BalanceOut]
    withdrawal_minimum_minor: int


class WithdrawalIn(WriteSchema):
    amount_minor: int = Field(..., gt=0, le=10**12)
    currency: str = Field(..., min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, v: str) -> str:
        if v.upper() not in CURRENCIES:
            raise ValueError("not an ISO 4217 currency code")
        return v.upper()


class WithdrawalOut(Schema):
    id: uuid.UUID
    tutor_id: uuid.UUID
    amount_minor: int
    currency: str
    status: str
    reference: str
    reason: str
    created_at: dt.datetime
    decided_at: dt.datetime | None


class WithdrawalListQuery(QuerySchema):
    status: Literal["pending", "paid", "rejected"] | None = None


class ApproveIn(WriteSchema):
    reference: str = Field(..., min_length=1, max_length=120)


class WithdrawalRejectIn(WriteSchema):
    reason: str = Field("", max_length=300)


RejectIn = WithdrawalRejectIn  # the name modules' api.py uses; the schema name is unique API-wide


class RefundIn(WriteSchema):
    amount_minor: int = Field(..., gt=0, le=10**12)
    reason: str = Field("", max_length=200)


class RefundOut(Schema):
    id: uuid.UUID
    payment_id: uuid.UUID
    amount_minor: int
    reason: str
    created_at: dt.datetime


class RevenueRow(Schema):
    month: str
    currency: str
    revenue_minor: int


class WebhookOut(Schema):
    received: bool
    result: str
