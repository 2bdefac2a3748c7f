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
        hooks.register(HOOKS.USER_ERASE, self.label, services.erase_user)
        hooks.register(HOOKS.ADMIN_FIGURES, self.label, services.admin_figures)
