from core.registry import ModuleConfig


class MessagingConfig(ModuleConfig):
    """One-to-one threads between users, attachments, blocking, real-time delivery."""

    name = "modules.messaging"
    label = "messaging"
    verbose_name = "Messaging"
    description = "One-to-one messages between users who may contact each other (contact-policy hook)."
    requires = ()
    routers = {"messaging": "modules.messaging.api:router"}
    schedules = []

    def ready(self) -> None:
        super().ready()
        from core.registry import HOOKS, hooks
        from modules.messaging import services

        hooks.register(HOOKS.USER_EXPORT, self.label, services.export_user)
        from core.api.public_cache import register_private_read
        from core.cache import user_writes_namespace

        # The caller's own writes, and what the other party does (services.invalidate_threads_of).
        mine = lambda user_id, groups: [user_writes_namespace(user_id), services.threads_namespace(user_id)]  # noqa: E731
        for path in (r"threads", r"threads/[0-9a-fA-F-]{32,36}/messages", r"unread-count"):
            register_private_read(rf"^/api/v1/messaging/{path}$", mine, 60)
        hooks.register(HOOKS.USER_ERASE, self.label, services.erase_user)
        hooks.register(HOOKS.ADMIN_FIGURES, self.label, services.admin_figures)
