from typing import Any

from django.core.management.base import BaseCommand

from core.demo import seed_demo


class Command(BaseCommand):
    help = "Load demo data (an admin, two tutors, two students, and each enabled module's data). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        for line in seed_demo():
            self.stdout.write(line)
