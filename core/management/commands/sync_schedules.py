from typing import Any

from django.core.management.base import BaseCommand

from core.schedules import sync_schedules


class Command(BaseCommand):
    help = "Make django-q2's Schedule rows match the enabled modules' manifests (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sync_schedules()
        self.stdout.write(
            f"schedules: {len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.removed)} removed, {len(report.unchanged)} unchanged"
        )
