"""Stripe adapter for the payments port (stripe-python, PaymentIntents).

Every create call carries an idempotency key, so a retried request never charges or refunds twice.
Webhooks are verified with ``stripe.Webhook.construct_event`` against STRIPE_WEBHOOK_SECRET.
STRIPE_API_BASE (optional) points the SDK elsewhere (tests use a local fake speaking Stripe's REST).
"""

from __future__ import annotations

from typing import Any

import stripe
from django.conf import settings

from modules.payments.provider_port import CreatedPayment, CreatedRefund, InvalidWebhook, ProviderError, WebhookEvent

_STATUS = {
    "succeeded": "succeeded",
    "canceled": "failed",
    "requires_payment_method": "pending",
    "requires_confirmation": "pending",
    "requires_action": "pending",
    "processing": "pending",
    "requires_capture": "pending",
}


class StripeProvider:
    name = "stripe"

    def __init__(self) -> None:
        self.webhook_secret = getattr(settings, "STRIPE_WEBHOOK_SECRET", "") or ""
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        """The API client, made on first use (verifying webhooks needs no API key)."""
        if self._client is None:
            key = getattr(settings, "STRIPE_SECRET_KEY", "") or ""
            if not key:
                raise ProviderError("STRIPE_SECRET_KEY is not set")
            base = getattr(settings, "STRIPE_API_BASE", "") or None
            self._client = stripe.StripeClient(
                key,
                base_addresses={"api": base} if base else {},
                max_network_retries=int(getattr(settings, "STRIPE_MAX_NETWORK_RETRIES", 2)),
            )
        return self._client

    def create_payment(
        self, *, amount_minor: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> CreatedPayment:
        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": amount_minor,
                    # The price's own currency is charged; no conversion happens here.
                    "currency": currency.lower(),
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the payment: {exc.user_message or exc}") from exc
        return {
            "provider_ref": intent.id,
            "client_secret": intent.client_secret,
            "status": _STATUS.get(intent.status, "pending"),
        }

    def refund(self, *, provider_ref: str, amount_minor: int, idempotency_key: str) -> CreatedRefund:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": provider_ref, "amount": amount_minor},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the refund: {exc.user_message or exc}") from exc
        status = refund.status or "pending"
        return {"provider_ref": refund.id, "status": "failed" if status in ("failed", "canceled") else status}

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        if not self.webhook_secret:
            raise InvalidWebhook("STRIPE_WEBHOOK_SECRET is not set")
        try:
            event = stripe.Webhook.construct_event(payload, signature or "", self.webhook_secret)
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise InvalidWebhook(str(exc)) from exc
        obj: Any = event.data.object
        etype = event.type
        out: WebhookEvent = {"id": event.id, "type": etype, "kind": "ignored", "provider_ref": None, "payment_id": None}
        metadata = dict(obj.get("metadata") or {})
        out["payment_id"] = metadata.get("payment_id")
        if etype == "payment_intent.succeeded":
            out.update(kind="succeeded", provider_ref=obj.get("id"))
        elif etype in ("payment_intent.payment_failed", "payment_intent.canceled"):
            error = obj.get("last_payment_error") or {}
            out.update(kind="failed", provider_ref=obj.get("id"), failure_reason=str(error.get("message") or etype)[:200])
        elif etype == "charge.refunded":
            out.update(
                kind="refunded", provider_ref=obj.get("payment_intent"), amount_refunded=int(obj.get("amount_refunded") or 0)
            )
        return out
