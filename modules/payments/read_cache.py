"""Per-caller read caches for the payments API (core.api.public_cache), and what invalidates them.

A tutor's wallet (balances and entries) changes only when a ledger transaction touches one of their
accounts: ``ledger.post_transaction`` bumps the owners' wallet namespaces. A user's payment list
changes when a payment row (status, capture, release) or a refund of it is saved, on either side
(payer or payee). A saved user (a role change: the wallet answers 403 to non-tutors) drops both.
"""

from __future__ import annotations

from typing import Any

from core.cache import bump_now_and_on_commit

TTL = 60  # seconds: a bound for what no write bumps (none known); writes invalidate at once


def wallet_namespace(user_id: Any) -> str:
    return f"payments:wallet:{user_id}"


def payments_namespace(user_id: Any) -> str:
    return f"payments:mine:{user_id}"


def invalidate_wallets(*user_ids: Any) -> None:
    ids = {u for u in user_ids if u}
    if ids:
        bump_now_and_on_commit(*(wallet_namespace(u) for u in ids))


def invalidate_payment_lists(*user_ids: Any) -> None:
    ids = {u for u in user_ids if u}
    if ids:
        bump_now_and_on_commit(*(payments_namespace(u) for u in ids))


def on_payment_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    invalidate_payment_lists(instance.payer_id, instance.payee_id)


def on_refund_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    payment = instance.payment
    invalidate_payment_lists(payment.payer_id, payment.payee_id)


def on_user_saved(sender: type, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields and "role" not in update_fields:
        return  # a login (last_login) changes no answer here
    invalidate_wallets(instance.pk)
    invalidate_payment_lists(instance.pk)


def register_reads() -> None:
    from django.db.models.signals import post_delete, post_save

    from core.api.public_cache import register_private_read
    from core.models import User
    from modules.payments.models import Payment, Refund

    prefix = r"^/api/v1/payments"
    register_private_read(prefix + r"/wallet(/entries)?$", lambda user_id, groups: [wallet_namespace(user_id)], TTL)
    register_private_read(prefix + r"/mine$", lambda user_id, groups: [payments_namespace(user_id)], TTL)
    post_save.connect(on_payment_saved, sender=Payment, dispatch_uid="payments.cache.payment_saved")
    post_delete.connect(on_payment_saved, sender=Payment, dispatch_uid="payments.cache.payment_deleted")
    post_save.connect(on_refund_saved, sender=Refund, dispatch_uid="payments.cache.refund_saved")
    post_save.connect(on_user_saved, sender=User, dispatch_uid="payments.cache.user_saved")
