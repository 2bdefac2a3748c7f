"""The payments module's contributions to core's hooks (GDPR export/erasure, dashboard, integrity)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.models import User
from core.registry import HOOKS, hooks
from modules.payments import ledger
from modules.payments.models import AccountKind, LedgerEntry, Payment, Withdrawal, WithdrawalStatus

LABEL = "payments"


def export_user(user: User) -> dict[str, Any]:
    return {
        "payments": [
            {
                "id": str(p.id),
                "role": "payer" if p.payer_id == user.id else "payee",
                "kind": p.kind,
                "object_id": str(p.object_id),
                "amount_minor": p.amount_minor,
                "currency": p.currency,
                "status": p.status,
                "created_at": p.created_at.isoformat(),
            }
            for p in Payment.objects.filter(Q(payer=user) | Q(payee=user))
        ],
        "withdrawals": [
            {
                "id": str(w.id),
                "amount_minor": w.amount_minor,
                "currency": w.currency,
                "status": w.status,
                "reference": w.reference,
            }
            for w in Withdrawal.objects.filter(tutor=user)
        ],
        "balances": ledger.tutor_balances(user),
    }


def erase_user(user: User) -> None:
    """Erasure KEEPS payments, withdrawals and ledger rows: accounting law requires them, and they are
    anonymised by design (ids, amounts and currencies only; no names, e-mails or card data). When core
    anonymises the user row, what remains links to nobody. Only free text the user may have shaped is
    cleared here."""
    Payment.objects.filter(payer=user).update(failure_reason="")


def admin_figures(**_: Any) -> dict[str, Any]:
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    revenue = (
        LedgerEntry.objects.filter(account__kind=AccountKind.PLATFORM_REVENUE, created_at__gte=start)
        .values("currency")
        .annotate(total=Sum("amount_minor"))
        .order_by("currency")
    )
    pending = Withdrawal.objects.filter(status=WithdrawalStatus.PENDING).aggregate(n=Count("id"))
    return {
        "platform_revenue_this_month": {r["currency"]: int(r["total"]) for r in revenue},
        "payments_this_month": Payment.objects.filter(created_at__gte=start, captured_at__isnull=False).count(),
        "withdrawals_pending": pending["n"],
    }


def integrity_checks(repair: bool = False, **_: Any) -> list[dict[str, Any]]:
    """Every ledger transaction must sum to zero per currency (nothing to repair: entries are immutable)."""
    bad = (
        LedgerEntry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)
        .order_by()[:50]
    )
    return [
        {
            "check": "ledger_balanced",
            "detail": f"ledger transaction {row['transaction_id']} sums to {row['total']} {row['currency']}",
            "repaired": False,
        }
        for row in bad
    ]


def register_hooks() -> None:
    hooks.register(HOOKS.USER_EXPORT, LABEL, export_user)
    hooks.register(HOOKS.USER_ERASE, LABEL, erase_user)
    hooks.register(HOOKS.ADMIN_FIGURES, LABEL, admin_figures)
    hooks.register(HOOKS.INTEGRITY_CHECKS, LABEL, integrity_checks)
