"""The events payments publishes (its public contract; ids and primitives only), all durable.

Owner modules (marketplace, courses) subscribe by type string and filter on ``kind``.
"""

from __future__ import annotations

import uuid

from core.events import event


@event("payments.payment_succeeded.v1")
class PaymentSucceeded:
    payment_id: uuid.UUID
    kind: str
    object_id: uuid.UUID
    payer_id: uuid.UUID
    payee_user_id: uuid.UUID | None
    amount_minor: int
    currency: str


@event("payments.payment_failed.v1")
class PaymentFailed:
    payment_id: uuid.UUID
    kind: str
    object_id: uuid.UUID
    payer_id: uuid.UUID
    amount_minor: int
    currency: str
    reason: str = ""


@event("payments.payment_refunded.v1")
class PaymentRefunded:
    payment_id: uuid.UUID
    kind: str
    object_id: uuid.UUID
    amount_minor: int  # this refund's amount
    currency: str
    full: bool  # the payment is now refunded in full


@event("payments.withdrawal_processed.v1")
class WithdrawalProcessed:
    withdrawal_id: uuid.UUID
    tutor_user_id: uuid.UUID
    amount_minor: int
    currency: str
    status: str  # "paid" | "rejected"
