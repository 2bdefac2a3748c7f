"""The offline payment provider: every payment succeeds at once. For the embedded default and demos.

It refuses to work when settings.PRODUCTION is true, so a production deployment can never take
"payments" that no one paid.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from modules.payments.provider_port import CreatedPayment, CreatedRefund, InvalidWebhook, ProviderError, WebhookEvent


class OfflineProvider:
    name = "offline"

    def __init__(self) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise ProviderError("The offline payment provider is refused in production mode; configure stripe")

    @staticmethod
    def _ref(prefix: str, key: str) -> str:
        # Deterministic from the idempotency key: the same request twice gives the same object.
        return f"{prefix}_offline_{hashlib.sha256(key.encode()).hexdigest()[:24]}"

    def create_payment(
        self, *, amount_minor: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> CreatedPayment:
        if amount_minor <= 0:
            raise ProviderError("The amount must be positive")
        return {"provider_ref": self._ref("pi", idempotency_key), "client_secret": None, "status": "succeeded"}

    def refund(self, *, provider_ref: str, amount_minor: int, idempotency_key: str) -> CreatedRefund:
        if amount_minor <= 0:
            raise ProviderError("The amount must be positive")
        return {"provider_ref": self._ref("re", idempotency_key), "status": "succeeded"}

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        raise InvalidWebhook("The offline provider sends no webhooks")
