"""The payment provider port: what payments needs from a payment service (Stripe, offline...).

Plugins under plugins/payments/ implement :class:`PaymentProvider`; the module loads them by dotted
path from settings (PAYMENT_PROVIDERS), so no module imports a plugin.
"""

from __future__ import annotations

from typing import Protocol, TypedDict


class ProviderError(Exception):
    """The provider refused or could not be reached; nothing was charged or refunded."""


class InvalidWebhook(Exception):
    """A webhook whose signature or body does not verify."""


class CreatedPayment(TypedDict):
    provider_ref: str
    client_secret: str | None
    status: str  # "succeeded" | "pending" | "failed"


class CreatedRefund(TypedDict):
    provider_ref: str
    status: str  # "succeeded" | "pending" | "failed"


class WebhookEvent(TypedDict, total=False):
    """A provider event, normalised. ``kind``: succeeded | failed | refunded | ignored."""

    id: str
    type: str  # the provider's own type, e.g. "payment_intent.succeeded"
    kind: str
    provider_ref: str | None
    payment_id: str | None  # our payment id when the provider echoes our metadata
    amount_refunded: int  # for "refunded": the total refunded so far on that payment
    failure_reason: str


class PaymentProvider(Protocol):
    name: str

    def create_payment(
        self, *, amount_minor: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> CreatedPayment: ...

    def refund(self, *, provider_ref: str, amount_minor: int, idempotency_key: str) -> CreatedRefund: ...

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent: ...
