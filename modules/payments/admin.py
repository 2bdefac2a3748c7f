from __future__ import annotations

from django.contrib import admin

from modules.payments.models import Account, LedgerEntry, LedgerTransaction, Payment, Refund, Withdrawal


class ReadOnly(admin.ModelAdmin):
    """Money rows are changed only by services (ledger entries are immutable)."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnly):
    list_display = ("id", "kind", "amount_minor", "currency", "status", "provider", "created_at")
    list_filter = ("status", "kind", "provider", "currency")


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnly):
    list_display = ("id", "tutor", "amount_minor", "currency", "status", "created_at")
    list_filter = ("status",)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnly):
    list_display = ("id", "kind", "reference", "created_at")


admin.site.register(LedgerEntry, ReadOnly)
admin.site.register(Account, ReadOnly)
admin.site.register(Refund, ReadOnly)
