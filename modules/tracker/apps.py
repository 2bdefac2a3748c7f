from __future__ import annotations

from typing import Any

from core.registry import ModuleConfig, Schedule


class TrackerConfig(ModuleConfig):
    name = "modules.tracker"
    label = "tracker"
    verbose_name = "Study tracker"
    description = "A student's own term: courses, results and GPA, plans, timetable, assignments, sessions, reports."
    requires = ()
    routers = {"tracker": "modules.tracker.api:router"}
    schedules = [
        Schedule("modules.tracker.tasks.send_morning_emails", cron="*/15 * * * *", name="tracker.morning_emails"),
        Schedule("modules.tracker.tasks.send_evening_reminders", cron="*/15 * * * *", name="tracker.evening_reminders"),
        Schedule("modules.tracker.tasks.generate_weekly_reports", cron="0 * * * *", name="tracker.weekly_reports"),
        Schedule("modules.tracker.tasks.mark_missed_plans", cron="*/15 * * * *", name="tracker.missed_plans"),
        Schedule("modules.tracker.tasks.mark_overdue_assignments", cron="0 * * * *", name="tracker.overdue_assignments"),
    ]

    def ready(self) -> None:
        super().ready()
        from modules.tracker import integration

        integration.register()
        from core.api.public_cache import register_private_read
        from core.cache import user_writes_namespace

        # Only the student's own writes change these (plus schedules that mark plans missed or
        # assignments overdue, and the date: the 60 s bound).
        own = lambda user_id, groups: [user_writes_namespace(user_id)]  # noqa: E731
        for path in ("dashboard", "dashboard/streak", "gpa"):
            register_private_read(rf"^/api/v1/tracker/{path}$", own, 60)
        # Rows saved outside an API write (schedules, other modules' ports, scripts) too.
        from django.db.models.signals import post_delete, post_save

        for model in self.get_models():
            if any(f.name == "user" for f in model._meta.fields):
                post_save.connect(_owner_wrote, sender=model, dispatch_uid=f"tracker.cache.{model.__name__}.save")
                post_delete.connect(_owner_wrote, sender=model, dispatch_uid=f"tracker.cache.{model.__name__}.delete")
        # A timetable's classes belong to the student through their timetable (cached busy times).
        from modules.tracker.models import TimetableClass

        post_save.connect(_class_wrote, sender=TimetableClass, dispatch_uid="tracker.cache.TimetableClass.save")
        post_delete.connect(_class_wrote, sender=TimetableClass, dispatch_uid="tracker.cache.TimetableClass.delete")


def tracker_data_namespace(user_id: object) -> str:
    """Everything read from a student's tracker data (the coach's context) is cached under this."""
    return f"tracker:data:{user_id}"


def tracker_changed(*user_ids: object) -> None:
    """Call after writes that bypass the model signals (bulk inserts, queryset updates)."""
    from core.cache import bump_now_and_on_commit, user_writes_namespace

    ids = {u for u in user_ids if u}
    bump_now_and_on_commit(*(user_writes_namespace(u) for u in ids), *(tracker_data_namespace(u) for u in ids))


def _owner_wrote(sender: type, instance: object, **kwargs: object) -> None:
    tracker_changed(instance.user_id)  # type: ignore[attr-defined]


def _class_wrote(sender: type, instance: Any, **kwargs: Any) -> None:
    timetable = instance._state.fields_cache.get("timetable")
    if timetable is not None:
        tracker_changed(timetable.user_id)
        return
    from modules.tracker.models import Timetable

    tracker_changed(Timetable.objects.filter(pk=instance.timetable_id).values_list("user_id", flat=True).first())
