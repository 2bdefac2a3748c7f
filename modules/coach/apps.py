from core.registry import ModuleConfig


class CoachConfig(ModuleConfig):
    """AI study coach: a chat grounded in the student's own tracker data, on a configurable engine."""

    name = "modules.coach"
    label = "coach"
    verbose_name = "Study coach"
    description = "Chat and weak-area insights grounded in the tracker's data; Gemini, OpenAI-compatible or offline engine."
    requires = ("tracker",)
    routers = {"coach": "modules.coach.api:router"}
    schedules = []

    def ready(self) -> None:
        super().ready()
        from modules.coach import integration

        integration.register()
