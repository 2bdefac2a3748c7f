from __future__ import annotations

from core.registry import ModuleConfig, Schedule


class TimetableImportConfig(ModuleConfig):
    name = "modules.timetable_import"
    label = "timetable_import"
    verbose_name = "Timetable import (OCR)"
    description = "Upload a photo or PDF of a timetable; review the recognised classes; save them to the tracker."
    requires = ("tracker",)
    routers = {"timetable-import": "modules.timetable_import.api:router"}
    schedules = [
        Schedule("modules.timetable_import.tasks.fail_stale_imports", cron="*/5 * * * *", name="timetable_import.stale"),
    ]

    def ready(self) -> None:
        super().ready()
        from modules.timetable_import import integration

        integration.register()
