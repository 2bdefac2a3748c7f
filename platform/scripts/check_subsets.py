"""Prove every module subset works: core alone, and each module switched off (with its dependants).

For each subset: migrate an empty SQLite database, `manage.py check`, export the OpenAPI schema (and
check the disabled modules' routes are absent), then run the core smoke tests. A few seconds each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.registry import discover_modules  # noqa: E402

SMOKE = ["tests/core/test_me.py", "tests/core/test_errors.py", "tests/core/test_realtime.py", "tests/core/test_console.py"]


def run(args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n")
        raise SystemExit(f"subset failed: {' '.join(args)} with ENABLED_MODULES={env['ENABLED_MODULES']!r}")


def main() -> None:
    available = discover_modules(["modules"])
    subsets: list[tuple[str, list[str]]] = [("core only", [])]
    for label in available:
        off = {label}
        changed = True
        while changed:  # switch off everything that requires something switched off
            changed = False
            for other, info in available.items():
                if other not in off and any(r in off for r in info.requires):
                    off.add(other)
                    changed = True
        subsets.append((f"without {label}", [m for m in available if m not in off]))
    # One subset per core, up to four at once: each is four process starts and a migrate, mostly CPU.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        for line in pool.map(lambda subset: check(*subset, available), subsets):
            print(line, flush=True)


def check(name: str, enabled: list[str], available: dict[str, Any]) -> str:
    python = str(ROOT / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "ENABLED_MODULES": ",".join(enabled) or "none",
            "SQLITE_PATH": f"{tmp}/db.sqlite3",
            "DATABASE_URL": "",
        }
        env.pop("REDIS_URL", None)
        run([python, "manage.py", "migrate", "--noinput"], env)
        run([python, "manage.py", "check"], env)
        run([python, "manage.py", "export_openapi", f"{tmp}/schema.json"], env)
        paths = json.loads(Path(f"{tmp}/schema.json").read_text())["paths"]
        disabled = [m for m in available if m not in enabled]
        leaked = [p for p in paths for m in disabled for prefix in _prefixes(m) if p.startswith(f"/api/v1/{prefix}/")]
        if leaked:
            raise SystemExit(f"{name}: routes of disabled modules in the schema: {leaked[:5]}")
        run([python, "-m", "pytest", "-q", "-p", "no:randomly", *SMOKE], env)
    return f"ok  {name:<28} modules: {','.join(enabled) or '-'}  ({len(paths)} paths)"


def _prefixes(label: str) -> list[str]:
    import importlib

    info = discover_modules(["modules"])[label]
    module_path, cls_name = info.app.rsplit(".", 1)
    cfg = getattr(importlib.import_module(module_path), cls_name)
    return [p.strip("/") for p in cfg.routers]


if __name__ == "__main__":
    main()
