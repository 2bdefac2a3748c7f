from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from core.registry import enabled_modules


def module_report() -> list[dict[str, Any]]:
    enabled = {m.label: m for m in enabled_modules()}
    rows = []
    for label, info in settings.AVAILABLE_MODULES.items():
        cfg = enabled.get(label)
        rows.append(
            {
                "label": label,
                "enabled": cfg is not None,
                "version": getattr(cfg, "version", None),
                "requires": list(info.requires),
                "routes": [f"/api/v1/{p.strip('/')}/" for p in (cfg.routers if cfg else {})],
                "schedules": [{"name": s.key, "func": s.func, "cron": s.cron} for s in (cfg.schedules if cfg else [])],
            }
        )
    return rows


class Command(BaseCommand):
    help = "List feature modules: state, requirements, routes and schedules."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = module_report()
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for row in rows:
            state = "enabled " if row["enabled"] else "disabled"
            self.stdout.write(f"{row['label']:<20} {state}  requires: {', '.join(row['requires']) or '-'}")
            for route in row["routes"]:
                self.stdout.write(f"    route     {route}")
            for sched in row["schedules"]:
                self.stdout.write(f"    schedule  {sched['cron']:<15} {sched['func']}")
