from __future__ import annotations

from django.apps import AppConfig

from core.registry import Schedule

CORE_SCHEDULES = [
    Schedule("core.tasks.drain_outbox", cron="* * * * *", name="core.drain_outbox"),
    Schedule("core.tasks.purge_effect_keys", cron="17 3 * * *", name="core.purge_effect_keys"),
    Schedule("core.console.services.purge_deleted_users", cron="40 3 * * *", name="core.purge_deleted_users"),
    Schedule("core.console.services.purge_audit", cron="50 3 * * *", name="core.purge_audit"),
]


class CoreConfig(AppConfig):
    name = "core"
    label = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"
    schedules = CORE_SCHEDULES

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from core import notify  # noqa: F401 - registers the default notify port
        from core.identity import signals
        from core.templates_registry import register_core_templates

        signals.connect()
        register_core_templates()
        post_migrate.connect(_sync_schedules_after_migrate, sender=self, dispatch_uid="core.sync_schedules")


def _sync_schedules_after_migrate(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    from core.schedules import sync_schedules

    sync_schedules(using=using)
