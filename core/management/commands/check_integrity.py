import json
from typing import Any

from django.core.management.base import BaseCommand

from core.audit import audit
from core.registry import HOOKS, hooks


class Command(BaseCommand):
    help = "Run every enabled module's integrity checks; --repair fixes what can be fixed (audited)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--repair", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        findings = [
            {"module": owner, **f}
            for owner, found in hooks.call(HOOKS.INTEGRITY_CHECKS, repair=options["repair"]).items()
            for f in found
        ]
        for finding in findings:
            if finding.get("repaired"):
                audit("integrity.repaired", details=finding)
            self.stdout.write(json.dumps(finding, default=str))
        self.stdout.write(f"{len(findings)} finding(s)")
