"""Mirror the enabled manifests' schedules into django-q2's Schedule table."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps

from core.registry import Schedule, enabled_modules

MANAGED_PREFIX = "registry:"


def declared_schedules() -> dict[str, tuple[str, Schedule]]:
    """{managed name: (owner label, schedule)} for core and every enabled module."""
    out: dict[str, tuple[str, Schedule]] = {}
    core = apps.get_app_config("core")
    for sched in getattr(core, "schedules", []):
        out[MANAGED_PREFIX + sched.key] = ("core", sched)
    for module in enabled_modules():
        for sched in module.schedules:
            out[MANAGED_PREFIX + sched.key] = (module.label, sched)
    return out


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def sync_schedules(using: str = "default") -> SyncReport:
    """Add, update and remove our rows so they match the manifests; leaves other rows alone."""
    from django_q.models import Schedule as QSchedule

    report = SyncReport()
    wanted = declared_schedules()
    existing = {row.name: row for row in QSchedule.objects.using(using).filter(name__startswith=MANAGED_PREFIX)}
    for name, (_owner, sched) in wanted.items():
        args = repr(tuple(sched.args)) if sched.args else None
        row = existing.pop(name, None)
        if row is None:
            QSchedule.objects.using(using).create(
                name=name, func=sched.func, args=args, schedule_type=QSchedule.CRON, cron=sched.cron, repeats=-1
            )
            report.added.append(name)
        elif (row.func, row.cron, row.schedule_type, row.args or None) != (sched.func, sched.cron, QSchedule.CRON, args):
            row.func, row.cron, row.schedule_type, row.args, row.repeats = sched.func, sched.cron, QSchedule.CRON, args, -1
            row.next_run = None  # recomputed by django-q2 from the new cron
            row.save()
            report.updated.append(name)
        else:
            report.unchanged.append(name)
    for name, row in existing.items():  # a module was switched off or dropped a schedule
        row.delete()
        report.removed.append(name)
    return report
