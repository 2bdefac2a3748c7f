"""django-q2 tasks. Idempotent: a job is claimed atomically, so a second delivery does nothing."""

from __future__ import annotations

from typing import Any


def process_import(job_id: Any) -> str:
    from modules.timetable_import.services import run_import

    return run_import(job_id)


def fail_stale_imports() -> int:
    from modules.timetable_import.services import fail_stale_imports as sweep

    return sweep()
