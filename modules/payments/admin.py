from __future__ import annotations

from django.contrib import admin, messages

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
    actions = ("approve_withdrawals", "reject_withdrawals")

    def _process(self, request, queryset, *, approve: bool) -> None:  # type: ignore[no-untyped-def]
        from core.errors import DomainError
        from modules.payments.services import do_approve_withdrawal, do_reject_withdrawal

        done = 0
        for withdrawal in queryset:
            try:
                if approve:
                    do_approve_withdrawal(
                        withdrawal_id=withdrawal.id, admin=request.user, reference=f"admin:{request.user.email}"
                    )
                else:
                    do_reject_withdrawal(withdrawal_id=withdrawal.id, admin=request.user, reason="Rejected by an operator")
            except DomainError as exc:
                self.message_user(request, f"{withdrawal.id}: {exc.detail}", level=messages.WARNING)
                continue
            done += 1
        self.message_user(request, f"{done} withdrawal(s) {'marked paid' if approve else 'rejected'}.")

    @admin.action(description="Approve (mark paid) the selected withdrawals")
    def approve_withdrawals(self, request, queryset):  # type: ignore[no-untyped-def]
        self._process(request, queryset, approve=True)

    @admin.action(description="Reject the selected withdrawals (funds return to the tutor)")
    def reject_withdrawals(self, request, queryset):  # type: ignore[no-untyped-def]
        self._process(request, queryset, approve=False)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnly):
    list_display = ("id", "kind", "reference", "created_at")


admin.site.register(LedgerEntry, ReadOnly)
admin.site.register(Account, ReadOnly)
admin.site.register(Refund, ReadOnly)
