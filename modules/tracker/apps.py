from __future__ import annotations

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
