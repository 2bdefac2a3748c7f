from core.registry import ModuleConfig, Schedule


class NotificationsConfig(ModuleConfig):
    """Notification centre, preferences and quiet hours; replaces core's notify port."""

    name = "modules.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    description = "In-app notification centre, e-mail and push by user preference, event handlers."
    requires = ()
    routers = {"notifications": "modules.notifications.api:router"}
    schedules = [
        Schedule("modules.notifications.tasks.scan_unread_messages", cron="* * * * *"),
        Schedule("modules.notifications.tasks.send_session_reminders", cron="*/5 * * * *"),
        Schedule("modules.notifications.tasks.send_deferred_emails", cron="*/5 * * * *"),
        Schedule("modules.notifications.tasks.purge_old_notifications", cron="17 3 * * *"),
        Schedule("modules.notifications.tasks.purge_email_logs", cron="27 3 * * *"),
    ]

    def ready(self) -> None:
        super().ready()
        from core.notify import PORT
        from core.registry import HOOKS, hooks, ports
        from modules.notifications import handlers, services, templates

        ports.register(PORT, services.notify_user)
        templates.register_templates()
        handlers.subscribe_all()
        hooks.register(HOOKS.USER_EXPORT, self.label, services.export_user)
        from core.api.public_cache import register_private_read
        from core.cache import user_writes_namespace

        # The caller's own writes (read, delete), and new notifications (services.notify_user).
        mine = lambda user_id, groups: [user_writes_namespace(user_id), services.centre_namespace(user_id)]  # noqa: E731
        for path in (r"", r"/unread-count"):
            register_private_read(rf"^/api/v1/notifications{path}$", mine, 60)
        hooks.register(HOOKS.USER_ERASE, self.label, services.erase_user)
        hooks.register(HOOKS.ADMIN_FIGURES, self.label, services.admin_figures)
