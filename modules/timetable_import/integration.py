"""What the module contributes: notification templates, GDPR hooks, and an OCR line in readiness."""

from __future__ import annotations

from typing import Any

from core.models import User
from core.notify import register_template
from core.registry import HOOKS, UserExport, hooks

LABEL = "timetable_import"


def register() -> None:
    register_template(
        "timetable_import.ready",
        category="system",
        subject="Your timetable is ready to review ({{ count }} class{{ count|pluralize:'es' }})",
        text=(
            "Hello {{ user.first_name|default:'there' }},\n\nWe read {{ count }} class{{ count|pluralize:'es' }} from your "
            "timetable{% if flagged %}; {{ flagged }} need{{ flagged|pluralize:'s,' }} a second look{% endif %}. "
            "Review them and save them to your timetable.\n"
        ),
    )
    register_template(
        "timetable_import.failed",
        category="system",
        subject="We could not read your timetable",
        text="Hello {{ user.first_name|default:'there' }},\n\n{{ error }}\n",
    )
    hooks.register(HOOKS.USER_EXPORT, LABEL, export_user)
    hooks.register(HOOKS.USER_ERASE, LABEL, erase_user)
    _add_readiness_check()


def _add_readiness_check() -> None:
    """Readiness reports whether the configured OCR engine can run (informative: not required)."""
    try:
        from core import health
    except ImportError:  # pragma: no cover
        return

    def check_ocr() -> None:
        from modules.timetable_import.pipeline import get_engine

        get_engine().check()

    health.CHECKS["ocr"] = (check_ocr, False)


def export_user(user: User) -> UserExport:
    from modules.timetable_import.models import ImportStatus, Proposal, TimetableImport

    jobs = TimetableImport.objects.filter(user=user).order_by("created_at")
    props = Proposal.objects.filter(job__user=user).order_by("job_id", "position")
    jobs = list(jobs)
    # The uploaded photo or PDF while it is kept (confirming an import deletes it from storage).
    files: list[tuple[str, Any]] = [
        (f"{j.created_at:%Y-%m-%d %H%M%S} {j.original_name or 'timetable.' + j.file_kind}", j.file_name)
        for j in jobs
        if j.file_name and j.status != ImportStatus.CONFIRMED
    ]
    data = {
        "imports": [
            {
                "id": str(j.id),
                "status": j.status,
                "error": j.error,
                "engine": j.engine,
                "pages": j.pages,
                "original_name": j.original_name,
                "created_at": j.created_at.isoformat(),
                "finished_at": j.finished_at.isoformat() if j.finished_at else None,
            }
            for j in jobs
        ],
        "proposals": [
            {
                "import_id": str(p.job_id),
                "day_of_week": p.day_of_week,
                "start_time": p.start_time.strftime("%H:%M"),
                "end_time": p.end_time.strftime("%H:%M"),
                "course_name": p.course_name,
                "course_code": p.course_code,
                "location": p.location,
                "class_type": p.class_type,
                "instructor": p.instructor,
                "include": p.include,
            }
            for p in props
        ],
    }
    return UserExport(data=data, files=files)


def erase_user(user: User) -> None:
    from modules.timetable_import.services import erase_user as erase

    erase(user)
