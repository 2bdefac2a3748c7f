"""Payments, the double-entry ledger, refunds, withdrawals and processed webhook events.

Balances are never stored: an account's balance is the SUM of its entries. Entries and transactions
are written once and never updated (the admin is read-only for them). Another module's object is
referred to by ``kind`` + ``object_id`` (a UUID), never by a foreign key.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AccountKind(models.TextChoices):
    PLATFORM_REVENUE = "platform_revenue", "Platform revenue"
    TUTOR_PENDING = "tutor_pending", "Tutor pending"
    TUTOR_AVAILABLE = "tutor_available", "Tutor available"
    TUTOR_HELD = "tutor_held", "Tutor held for withdrawal"
    STUDENT_PAYMENTS = "student_payments", "Student payments (money in)"
    REFUNDS = "refunds", "Refunds (money back out)"
    PAYOUTS = "payouts", "Payouts (money out to tutors)"


#: accounts that belong to one user; the others are platform-wide (owner NULL)
OWNED_KINDS = (AccountKind.TUTOR_PENDING, AccountKind.TUTOR_AVAILABLE, AccountKind.TUTOR_HELD)


class Account(models.Model):
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=32, choices=AccountKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="payment_accounts"
    )
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "owner", "currency"], condition=Q(owner__isnull=False), name="payments_account_owned_unique"
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"], condition=Q(owner__isnull=True), name="payments_account_platform_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.owner_id or 'platform'}:{self.currency}"


class LedgerTransaction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, db_index=True)  # capture, release, refund, withdrawal_hold, ...
    reference = models.CharField(max_length=64, db_index=True, blank=True)  # a payment or withdrawal id
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at"]


class LedgerEntry(models.Model):
    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["account", "created_at"])]


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


class Payment(models.Model):
    """One attempt to pay for one thing (a booking, a package, a course enrolment)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16)
    object_id = models.UUIDField()
    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments_made")
    payee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="payments_received"
    )
    description = models.CharField(max_length=200, blank=True)
    amount_minor = models.BigIntegerField()
    fee_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=32)
    provider_ref = models.CharField(max_length=100, null=True, blank=True, unique=True)
    status = models.CharField(max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True)
    # What the provider has told us so far (webhooks may arrive in any order); the ledger converges on it.
    observed_succeeded = models.BooleanField(default=False)
    observed_failed = models.BooleanField(default=False)
    observed_refunded_minor = models.BigIntegerField(default=0)
    captured_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    #: the owner cancelled what this pays for while the payment was still pending: if the provider
    #: reports success later, the money goes straight back (refund in full).
    refund_on_capture = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "object_id"]), models.Index(fields=["payer", "created_at"])]

    @property
    def refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds.all())


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=200, unique=True)  # one refund per effect (cancellation, admin decision...)
    provider_ref = models.CharField(max_length=100, blank=True)
    posted = models.BooleanField(default=False)  # ledger entries written (only once the payment is captured)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)


class WithdrawalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected"


class Withdrawal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tutor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=WithdrawalStatus.choices, default=WithdrawalStatus.PENDING, db_index=True)
    reference = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ProcessedStripeEvent(models.Model):
    """A provider webhook event applied once: inserted in the same transaction as its effect."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(default=timezone.now)
