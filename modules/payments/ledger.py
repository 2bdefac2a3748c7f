"""The double-entry ledger: accounts, balanced transactions, balances as sums of entries.

Sign convention: every transaction's entries sum to zero per currency. Tutor and platform accounts
hold positive balances (what is owed to them); the outside-world accounts carry the other side:
``student_payments`` goes negative as money comes in, ``refunds`` and ``payouts`` go positive as money
goes back out. So a captured payment of 100 with a 15 fee is
``student_payments -100, platform_revenue +15, tutor_pending +85``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum

from core.models import User
from modules.payments.models import OWNED_KINDS, Account, AccountKind, LedgerEntry, LedgerTransaction
from modules.payments.read_cache import invalidate_wallets


class UnbalancedTransaction(ValueError):
    pass


@dataclass(frozen=True)
class Leg:
    account: Account
    amount_minor: int


def account(kind: str, currency: str, owner: User | None = None) -> Account:
    """The account (created on first use; safe when two requests create it at once)."""
    currency = currency.upper()
    if (kind in OWNED_KINDS) != (owner is not None):
        raise ValueError(f"Account kind {kind} {'needs' if kind in OWNED_KINDS else 'takes no'} owner")
    lookup = {"kind": kind, "currency": currency, "owner": owner}
    found = Account.objects.filter(**lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Account.objects.create(**lookup)
    except IntegrityError:
        return Account.objects.get(**lookup)


def lock_account(acct: Account) -> Account:
    """SELECT ... FOR UPDATE on the account row: serialises spending from it."""
    return Account.objects.select_for_update().get(pk=acct.pk)


def balance(acct: Account) -> int:
    return int(LedgerEntry.objects.filter(account=acct).aggregate(s=Sum("amount_minor"))["s"] or 0)


def post_transaction(legs: Iterable[Leg], *, key: str, kind: str, reference: str = "") -> tuple[LedgerTransaction, bool]:
    """Write one balanced transaction atomically; once per ``key``. Returns (txn, created).

    Zero legs are dropped; the rest must sum to zero per currency and each leg's currency must be its
    account's. A second call with the same key writes nothing and returns the first transaction.
    """
    legs = [leg for leg in legs if leg.amount_minor != 0]
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.account.currency] += leg.amount_minor
    unbalanced = {cur: total for cur, total in totals.items() if total != 0}
    if unbalanced:
        raise UnbalancedTransaction(f"Transaction {key} does not balance: {unbalanced}")
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(idempotency_key=key[:200], kind=kind, reference=reference)
            LedgerEntry.objects.bulk_create(
                [
                    LedgerEntry(
                        transaction=txn,
                        account=leg.account,
                        amount_minor=leg.amount_minor,
                        currency=leg.account.currency,
                        created_at=txn.created_at,
                    )
                    for leg in legs
                ]
            )
    except IntegrityError:
        return LedgerTransaction.objects.get(idempotency_key=key[:200]), False
    invalidate_wallets(*(leg.account.owner_id for leg in legs))  # balances and entries are sums of these
    return txn, True


def reference_balance(acct: Account, reference: str) -> int:
    """What this account holds from one payment (or withdrawal): the sum of its entries there."""
    return int(
        LedgerEntry.objects.filter(account=acct, transaction__reference=reference).aggregate(s=Sum("amount_minor"))["s"] or 0
    )


def tutor_balances(user: User) -> dict[str, dict[str, int]]:
    """{currency: {pending, available, held, paid_out}} for a tutor, from the entries (one query)."""
    rows = (
        LedgerEntry.objects.filter(account__owner=user)
        .values("account__kind", "currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    names = {AccountKind.TUTOR_PENDING: "pending", AccountKind.TUTOR_AVAILABLE: "available", AccountKind.TUTOR_HELD: "held"}
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        bucket = out.setdefault(row["currency"], {"pending": 0, "available": 0, "held": 0})
        bucket[names[row["account__kind"]]] = int(row["total"] or 0)
    return out
