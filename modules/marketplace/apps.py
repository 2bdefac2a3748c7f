from __future__ import annotations

from core.registry import ModuleConfig, Schedule


class MarketplaceConfig(ModuleConfig):
    name = "modules.marketplace"
    label = "marketplace"
    verbose_name = "Tutoring marketplace"
    description = "Subjects, tutor profiles, availability and slots, bookings, packages, reviews, favourites."
    requires = ()
    routers = {"marketplace": "modules.marketplace.api:router"}
    schedules = [
        Schedule("modules.marketplace.tasks.expire_pending_bookings", cron="*/5 * * * *", name="marketplace.expire_pending"),
        Schedule(
            "modules.marketplace.tasks.complete_finished_bookings", cron="*/15 * * * *", name="marketplace.complete_finished"
        ),
    ]

    def ready(self) -> None:
        super().ready()
        from modules.marketplace import handlers, hooks, payments_bridge, ports
        from modules.marketplace.api import register_public_reads

        ports.register_default_ports()
        hooks.register_hooks()
        handlers.connect()
        payments_bridge.connect()
        register_public_reads()
