"""Settings read by the payments module, with their defaults (settings may override each)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import ServiceUnavailable
from modules.payments.provider_port import PaymentProvider, ProviderError

DEFAULT_PROVIDERS = {
    "stripe": "plugins.payments.stripe_provider:StripeProvider",
    "offline": "plugins.payments.offline:OfflineProvider",
}


def fee_percent() -> Decimal:
    return Decimal(str(getattr(settings, "PLATFORM_FEE_PERCENT", 15)))


def withdrawal_minimum_minor() -> int:
    return int(getattr(settings, "WITHDRAWAL_MINIMUM_MINOR", 1000))


def payout_hold_days() -> int:
    return int(getattr(settings, "PAYOUT_HOLD_DAYS", 7))


def default_provider_name() -> str:
    return str(getattr(settings, "PAYMENT_PROVIDER", "offline"))


def provider_paths() -> dict[str, str]:
    return {**DEFAULT_PROVIDERS, **(getattr(settings, "PAYMENT_PROVIDERS", None) or {})}


def get_provider(name: str | None = None) -> PaymentProvider:
    """Instantiate the configured provider (by dotted path, so modules never import plugins)."""
    name = name or default_provider_name()
    path = provider_paths().get(name)
    if not path:
        raise ServiceUnavailable(f"The payment provider {name!r} is not configured", code="provider_unavailable")
    cls: Any = import_string(path.replace(":", "."))
    try:
        return cls()
    except ProviderError as exc:  # e.g. offline in production, or stripe without a key
        raise ServiceUnavailable(str(exc), code="provider_unavailable") from exc
