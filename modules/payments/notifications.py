"""Tell people about their money: receipts, refunds and withdrawal decisions (through core.notify)."""

from __future__ import annotations

from typing import Any

from core.events import subscribe
from core.models import User
from core.notify import notify, register_template

TEMPLATES = {
    "payments.payment_receipt": (
        "Payment received: {{ amount }} {{ currency }}",
        "Hello {{ user.first_name }},\n\nWe received your payment of {{ amount }} {{ currency }} for {{ description }}.\n"
        "Reference: {{ payment_id }}",
    ),
    "payments.payment_refunded": (
        "Refund of {{ amount }} {{ currency }}",
        "Hello {{ user.first_name }},\n\n{{ amount }} {{ currency }} of your payment {{ payment_id }} is on its way back to you"
        "{% if full %} (refunded in full){% endif %}.",
    ),
    "payments.withdrawal_processed": (
        "Your withdrawal of {{ amount }} {{ currency }} was {{ status }}",
        "Hello {{ user.first_name }},\n\nYour withdrawal of {{ amount }} {{ currency }} was {{ status }}."
        "{% if status == 'rejected' %} The funds are available in your wallet again.{% endif %}",
    ),
}


def _amount(minor: int, currency: str) -> str:
    from core.identity.validators import CURRENCIES

    digits = CURRENCIES.get(currency.upper(), ("", 2))[1]
    return f"{minor / 10**digits:.{digits}f}" if digits else str(minor)


def on_succeeded(evt: Any) -> None:
    from modules.payments.models import Payment

    payment = Payment.objects.select_related("payer").filter(pk=evt.payment_id).first()
    if payment is None:
        return
    notify(
        payment.payer,
        "payments",
        "payments.payment_receipt",
        {
            "amount": _amount(payment.amount_minor, payment.currency),
            "currency": payment.currency,
            "description": payment.description or payment.kind,
            "payment_id": str(payment.id),
        },
        key=f"payments.receipt:{payment.id}",
    )


def on_refunded(evt: Any) -> None:
    from modules.payments.models import Payment

    payment = Payment.objects.select_related("payer").filter(pk=evt.payment_id).first()
    if payment is None:
        return
    done = sum(r.amount_minor for r in payment.refunds.all())
    notify(
        payment.payer,
        "payments",
        "payments.payment_refunded",
        {
            "amount": _amount(evt.amount_minor, evt.currency),
            "currency": evt.currency,
            "payment_id": str(payment.id),
            "full": evt.full,
        },
        key=f"payments.refund:{payment.id}:{done}",
    )


def on_withdrawal(evt: Any) -> None:
    tutor = User.objects.filter(pk=evt.tutor_user_id).first()
    if tutor is None:
        return
    notify(
        tutor,
        "payments",
        "payments.withdrawal_processed",
        {"amount": _amount(evt.amount_minor, evt.currency), "currency": evt.currency, "status": evt.status},
        key=f"payments.withdrawal:{evt.withdrawal_id}",
    )


def connect() -> None:
    for name, (subject, text) in TEMPLATES.items():
        register_template(name, category="payments", subject=subject, text=text)
    subscribe("payments.payment_succeeded.v1", on_succeeded)
    subscribe("payments.payment_refunded.v1", on_refunded)
    subscribe("payments.withdrawal_processed.v1", on_withdrawal)
