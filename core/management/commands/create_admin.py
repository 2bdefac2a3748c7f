from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.identity.bootstrap import ensure_admin


class Command(BaseCommand):
    help = "Create (or update) the first admin from ADMIN_EMAIL and ADMIN_PASSWORD, or the options."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", default=settings.ADMIN_EMAIL)
        parser.add_argument("--password", default=settings.ADMIN_PASSWORD)

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["email"] or not options["password"]:
            raise CommandError("Set ADMIN_EMAIL and ADMIN_PASSWORD (or pass --email and --password)")
        user, created = ensure_admin(options["email"], options["password"])
        self.stdout.write(f"admin {user.email} {'created' if created else 'already present'}")
