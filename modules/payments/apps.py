from __future__ import annotations

from core.registry import ModuleConfig, Schedule


class PaymentsConfig(ModuleConfig):
    """Payments through a provider port (stripe, offline), a double-entry ledger, tutor wallets."""

    name = "modules.payments"
    label = "payments"
    verbose_name = "Payments and wallet"
    description = (
        "Checkout for bookings, packages and courses (payable ports), Stripe webhooks, double-entry ledger, "
        "fees, refunds, tutor wallet and withdrawals."
    )
    requires = ()
    routers = {"payments": "modules.payments.api:router"}
    schedules = [Schedule("modules.payments.tasks.release_due_payments", cron="17 * * * *", name="payments.release_due")]

    def ready(self) -> None:
        super().ready()
        from modules.payments import handlers, hooks, notifications, read_cache

        handlers.connect()
        hooks.register_hooks()
        notifications.connect()
        read_cache.register_reads()
