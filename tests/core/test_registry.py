"""The module registry: subsets, start-up failures, schedules. Subsets run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.registry import ModuleInfo, resolve_enabled_modules

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, enabled: str, tmp_path: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MODULE_PACKAGES": "modules,tests.fixture_modules",
        "ENABLED_MODULES": enabled,
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "DATABASE_URL": "",
        "TESTING": "1",
    }
    proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def paths_for(enabled: str, tmp_path: Path) -> set[str]:
    out = manage("export_openapi", str(tmp_path / "schema.json"), enabled=enabled, tmp_path=tmp_path)
    assert "wrote" in out.stdout
    return set(json.loads((tmp_path / "schema.json").read_text())["paths"])


@pytest.mark.slow
def test_subset_removes_other_modules_routes_and_schema(tmp_path):
    with_dummy = paths_for("dummy", tmp_path)
    assert "/api/v1/dummy/ping" in with_dummy
    assert "/api/v1/me" in with_dummy  # core is always there
    assert not any(p.startswith("/api/v1/marketplace") for p in with_dummy)  # real modules are off
    without = paths_for("none", tmp_path)
    assert "/api/v1/dummy/ping" not in without and "/api/v1/me" in without


@pytest.mark.slow
def test_unknown_module_stops_start_up_naming_it(tmp_path):
    proc = manage("check", enabled="dummy,nosuchmodule", tmp_path=tmp_path, check=False)
    assert proc.returncode != 0
    assert "nosuchmodule" in proc.stderr and "unknown module" in proc.stderr


@pytest.mark.slow
def test_missing_requirement_stops_start_up_naming_both(tmp_path):
    proc = manage("check", enabled="dependent", tmp_path=tmp_path, check=False)
    assert proc.returncode != 0
    assert "'dependent' requires module 'dummy'" in proc.stderr


@pytest.mark.slow
def test_modules_command_and_schedules_follow_the_setting(tmp_path):
    manage("migrate", "--noinput", enabled="dummy,dependent", tmp_path=tmp_path)
    listing = json.loads(manage("modules", "--json", enabled="dummy,dependent", tmp_path=tmp_path).stdout)
    by_label = {row["label"]: row for row in listing}
    assert by_label["dummy"]["enabled"] and by_label["dummy"]["routes"] == ["/api/v1/dummy/"]
    assert by_label["dependent"]["requires"] == ["dummy"]
    assert by_label["dummy"]["schedules"][0]["cron"] == "*/5 * * * *"
    again = manage("sync_schedules", enabled="dummy,dependent", tmp_path=tmp_path).stdout
    assert "0 added, 0 updated, 0 removed" in again  # migrate already synced; idempotent
    # Switching the module off removes its schedule on the next sync.
    off = manage("sync_schedules", enabled="none", tmp_path=tmp_path).stdout
    assert "1 removed" in off, off


def test_resolution_orders_requirements_first():
    available = {
        "a": ModuleInfo("a", "x.A", ("b",)),
        "b": ModuleInfo("b", "x.B", ()),
        "c": ModuleInfo("c", "x.C", ()),
    }
    assert [m.label for m in resolve_enabled_modules(available, "a,b")] == ["b", "a"]
    assert [m.label for m in resolve_enabled_modules(available, "all")] == ["b", "a", "c"]
    assert resolve_enabled_modules(available, "none") == []
    with pytest.raises(ImproperlyConfigured, match="'a' requires module 'b'"):
        resolve_enabled_modules(available, "a")


@pytest.mark.django_db
def test_sync_schedules_is_idempotent_and_repairs_drift():
    from django_q.models import Schedule as QSchedule

    from core.schedules import MANAGED_PREFIX, sync_schedules

    first = sync_schedules()
    assert not first.added and not first.removed  # post_migrate already synced
    row = QSchedule.objects.get(name=MANAGED_PREFIX + "core.drain_outbox")
    row.cron = "0 0 1 1 *"
    row.save()
    QSchedule.objects.create(
        name=MANAGED_PREFIX + "gone.module_task", func="gone.task", schedule_type=QSchedule.CRON, cron="* * * * *"
    )
    QSchedule.objects.create(name="operator-made", func="core.tasks.drain_outbox", schedule_type=QSchedule.HOURLY)
    report = sync_schedules()
    assert report.updated == [MANAGED_PREFIX + "core.drain_outbox"]
    assert report.removed == [MANAGED_PREFIX + "gone.module_task"]
    assert QSchedule.objects.filter(name="operator-made").exists()  # not ours: left alone
    assert QSchedule.objects.get(name=MANAGED_PREFIX + "core.drain_outbox").cron == "* * * * *"
    final = sync_schedules()
    assert not (final.added or final.updated or final.removed)
