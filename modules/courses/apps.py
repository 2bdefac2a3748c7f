from __future__ import annotations

from core.registry import ModuleConfig


class CoursesConfig(ModuleConfig):
    """Tutors' courses with ordered lessons (video, document, text, quiz); enrolment and progress."""

    name = "modules.courses"
    label = "courses"
    verbose_name = "Courses"
    description = (
        "Course catalogue, lessons (video, document, rich text, quiz), enrolment (free at once; paid through the "
        "payments module's checkout when it is on), progress and server-scored quizzes."
    )
    requires = ()
    routers = {"courses": "modules.courses.api:router"}
    schedules = []

    def ready(self) -> None:
        super().ready()
        from modules.courses import hooks
        from modules.courses.api import register_reads

        hooks.register()
        register_reads()
