"""Timetable import: upload, background recognition, review, confirm. No HTTP here."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, NotFound, ValidationFailed
from core.files import CheckedUpload, random_name, validate_upload
from core.models import User
from core.notify import notify
from core.realtime.push import push_to_user, push_to_user_on_commit
from core.registry import ports
from modules.timetable_import import images, pipeline
from modules.timetable_import.matching import match_course
from modules.timetable_import.models import ClassKind, ImportStatus, Proposal, TimetableImport
from modules.timetable_import.ocr_port import OcrUnavailable
from modules.timetable_import.parser import NoTimetableFound, ParsedClass

logger = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
TRACKER_PORT = "tracker.timetable_import"
FOLDER = "timetable-imports"


def flag_below() -> float:
    return float(getattr(settings, "OCR_FLAG_BELOW", 0.6))


def stale_after() -> dt.timedelta:
    """A job still 'processing' after this was abandoned by its worker (killed, crashed)."""
    return dt.timedelta(seconds=int(getattr(settings, "OCR_STALE_AFTER_SECONDS", 600)))


def tracker() -> Any:
    return ports.get(TRACKER_PORT)


# --- day numbering at the port boundary ----------------------------------------------------------------


def to_tracker_day(day: int) -> int:
    """Ours: 0 = Monday .. 6 = Sunday. The tracker's: 0 = Sunday .. 6 = Saturday."""
    return (day + 1) % 7


def from_tracker_day(day: int) -> int:
    return (day + 6) % 7


# --- upload ------------------------------------------------------------------------------------------


def check_upload(upload: Any) -> CheckedUpload:
    checked = validate_upload(upload, allowed=("image", "pdf"), max_bytes=MAX_BYTES)
    if checked.kind == "pdf":
        try:
            count = images.pdf_page_count(checked.data)
        except images.UnreadableFile as exc:
            raise ValidationFailed("The PDF could not be opened; is it damaged?", code="invalid_pdf") from exc
        if count > images.MAX_PAGES:
            raise ValidationFailed(
                f"The PDF has {count} pages; at most {images.MAX_PAGES} are read. Upload the timetable pages only.",
                code="too_many_pages",
                errors=[
                    {"field": "file", "loc": ["file"], "message": f"at most {images.MAX_PAGES} pages", "type": "too_many_pages"}
                ],
            )
    return checked


def do_create_import(user: User, *, upload: Any, timetable_id: Any = None) -> TimetableImport:
    """Check and store the file, record a queued import and enqueue the work after commit."""
    checked = check_upload(upload)
    if timetable_id:
        tracker().get_or_create_current_timetable(user, timetable_id)  # 404 unless it is the caller's
    # Images are kept as uploaded (already decoded and checked): re-encoding would cost OCR quality.
    name = default_storage.save(random_name(FOLDER, checked.ext), ContentFile(checked.data))
    try:
        with transaction.atomic():
            job = TimetableImport.objects.create(
                user=user,
                timetable_id=timetable_id,
                file_name=name,
                file_kind=checked.kind,
                file_size=len(checked.data),
                original_name=checked.original_name,
            )
            transaction.on_commit(lambda: enqueue(job.id))
    except Exception:
        default_storage.delete(name)
        raise
    return job


def enqueue(job_id: Any) -> None:
    from django_q.tasks import async_task

    async_task("modules.timetable_import.tasks.process_import", str(job_id), q_options={"group": "timetable_import"})


# --- the work ----------------------------------------------------------------------------------------

FRIENDLY = {
    "ocr_unavailable": "Text recognition is not available on this server at the moment. Please try again later.",
    "no_timetable": "We could not find a timetable in this file: no days or times found. Try a sharper, straighter photo.",
    "no_classes": "We found days and times but could not read any classes from them. Try a sharper, straighter photo.",
    "unreadable": "This file could not be opened. Is it a damaged image or PDF?",
    "too_many_pages": f"The PDF has more than {images.MAX_PAGES} pages.",
    "interrupted": "Reading the file was interrupted. Please try again.",
    "internal": "Something went wrong while reading this file. Please try again.",
}


def _progress(job: TimetableImport, stage: str, percent: int) -> None:
    push_to_user(job.user_id, "import_progress", {"id": str(job.id), "stage": stage, "percent": percent})


def claim(job_id: Any) -> TimetableImport | None:
    """Take a queued job (or one abandoned by a dead worker); None if another worker has it or it is done."""
    now = timezone.now()
    from django.db.models import F, Q

    taken = (
        TimetableImport.objects.filter(id=job_id)
        .filter(Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.PROCESSING, started_at__lt=now - stale_after()))
        .update(status=ImportStatus.PROCESSING, started_at=now, attempts=F("attempts") + 1, error="", error_code="")
    )
    if not taken:
        return None
    return TimetableImport.objects.select_related("user").get(id=job_id)


def run_import(job_id: Any) -> str:
    """The task body. Idempotent: a second delivery finds the job taken or finished and does nothing."""
    job = claim(job_id)
    if job is None:
        return "skipped"
    started = time.perf_counter()
    _progress(job, "started", 5)
    try:
        with default_storage.open(job.file_name, "rb") as fh:
            data = fh.read()
        recognised = pipeline.recognise(data, job.file_kind, progress=lambda stage, pct: _progress(job, stage, pct))
        _progress(job, "parsing", 85)
        result = pipeline.parse(recognised.words)
        courses = tracker().list_courses(job.user)
        rows = [_proposal(job, i, c, courses) for i, c in enumerate(result.classes)]
    except NoTimetableFound as exc:
        code = "no_classes" if "no classes" in str(exc) else "no_timetable"
        return _fail(job, code, str(exc))
    except OcrUnavailable as exc:
        return _fail(job, "ocr_unavailable", str(exc))
    except (images.UnreadableFile, FileNotFoundError) as exc:
        return _fail(job, "unreadable", str(exc))
    except images.TooManyPages as exc:
        return _fail(job, "too_many_pages", str(exc))
    except Exception as exc:
        logger.exception("timetable import %s crashed", job.id)
        return _fail(job, "internal", repr(exc))
    with transaction.atomic():
        locked = TimetableImport.objects.select_for_update().get(id=job.id)
        if locked.status != ImportStatus.PROCESSING:  # deleted, or given up on while we worked
            return "abandoned"
        Proposal.objects.filter(job=locked).delete()
        Proposal.objects.bulk_create(rows)
        locked.status = ImportStatus.NEEDS_REVIEW
        locked.engine = recognised.engine
        locked.pages = recognised.pages
        locked.layout = result.layout[:100]
        locked.finished_at = timezone.now()
        locked.duration_ms = int((time.perf_counter() - started) * 1000)
        locked.save(update_fields=["status", "engine", "pages", "layout", "finished_at", "duration_ms"])
        flagged = sum(1 for r in rows if r.flagged)
        payload = {"id": str(job.id), "status": locked.status, "proposals": len(rows), "flagged": flagged}
        push_to_user_on_commit(job.user_id, "import_ready", payload)
        notify(
            job.user,
            "system",
            "timetable_import.ready",
            {"count": len(rows), "flagged": flagged, "import_id": str(job.id)},
            key=f"timetable_import:{job.id}:ready:{locked.attempts}",
        )
    logger.info("timetable import %s: %d classes in %d ms (%s)", job.id, len(rows), locked.duration_ms, recognised.timings)
    return "needs_review"


def _proposal(job: TimetableImport, position: int, c: ParsedClass, courses: list[dict[str, Any]]) -> Proposal:
    m = match_course(c.course_name, c.course_code, courses)
    return Proposal(
        job=job,
        position=position,
        day_of_week=c.day_of_week,
        start_time=dt.time.fromisoformat(c.start_time),
        end_time=dt.time.fromisoformat(c.end_time),
        course_name=c.course_name[:255],
        course_code=c.course_code[:50],
        location=c.location[:255],
        class_type=c.class_type if c.class_type in ClassKind.values else ClassKind.OTHER,
        instructor=c.instructor[:255],
        confidence=c.confidence,
        flagged=c.confidence < flag_below(),
        matched_course_id=m.course_id,
        match_score=m.score if m.course_id else None,
        raw_text=c.raw_text[:500],
    )


def _fail(job: TimetableImport, code: str, detail: str) -> str:
    logger.info("timetable import %s failed (%s): %s", job.id, code, detail)
    message = FRIENDLY.get(code, FRIENDLY["internal"])
    with transaction.atomic():
        updated = TimetableImport.objects.filter(id=job.id, status=ImportStatus.PROCESSING).update(
            status=ImportStatus.FAILED, error=message, error_code=code, finished_at=timezone.now()
        )
        if updated:
            push_to_user_on_commit(job.user_id, "import_failed", {"id": str(job.id), "error": message, "code": code})
            notify(
                job.user,
                "system",
                "timetable_import.failed",
                {"error": message, "import_id": str(job.id)},
                key=f"timetable_import:{job.id}:failed:{job.attempts}",
            )
    return "failed"


def fail_stale_imports() -> int:
    """Jobs left 'processing' by a killed worker become failed and retryable."""
    cutoff = timezone.now() - stale_after()
    stale = list(TimetableImport.objects.filter(status=ImportStatus.PROCESSING, started_at__lt=cutoff).select_related("user"))
    for job in stale:
        _fail(job, "interrupted", "worker did not finish")
    return len(stale)


# --- review ------------------------------------------------------------------------------------------


def _editable(job: TimetableImport) -> None:
    if job.status == ImportStatus.CONFIRMED:
        raise Conflict("This import is already confirmed; edit the classes in your timetable instead", code="already_confirmed")
    if job.status != ImportStatus.NEEDS_REVIEW:
        raise Conflict(f"This import cannot be edited while it is {job.get_status_display().lower()}", code="not_reviewable")


def check_times(start: dt.time, end: dt.time) -> None:
    if end <= start:
        raise ValidationFailed(
            "end_time: A class ends after it starts",
            errors=[
                {"field": "end_time", "loc": ["end_time"], "message": "A class ends after it starts", "type": "validation_error"}
            ],
        )


REQUIRED_FIELDS = ("day_of_week", "start_time", "end_time", "course_name", "class_type", "include")


def do_update_proposal(job: TimetableImport, proposal: Proposal, changes: dict[str, Any]) -> Proposal:
    nulls = [key for key in REQUIRED_FIELDS if key in changes and changes[key] is None]
    if nulls:
        raise ValidationFailed(
            f"{nulls[0]}: may not be empty",
            errors=[{"field": k, "loc": [k], "message": "may not be empty", "type": "validation_error"} for k in nulls],
        )
    with transaction.atomic():
        job = TimetableImport.objects.select_for_update().get(id=job.id)
        _editable(job)
        for key, value in changes.items():
            setattr(proposal, key, "" if value is None and key != "matched_course_id" else value)
        check_times(proposal.start_time, proposal.end_time)
        if ("course_name" in changes or "course_code" in changes) and "matched_course_id" not in changes:
            m = match_course(proposal.course_name, proposal.course_code, tracker().list_courses(job.user))
            proposal.matched_course_id, proposal.match_score = m.course_id, (m.score if m.course_id else None)
        if "matched_course_id" in changes and changes["matched_course_id"] is not None:
            _check_course(job.user, changes["matched_course_id"])
        if set(changes) - {"include"}:
            proposal.flagged = False  # the student looked at it and corrected it
        proposal.save()
    return proposal


def _check_course(user: User, course_id: Any) -> None:
    if str(course_id) not in {str(c["id"]) for c in tracker().list_courses(user)}:
        raise NotFound("No course with that id, or you may not see it")


def do_add_proposal(job: TimetableImport, data: dict[str, Any]) -> Proposal:
    with transaction.atomic():
        job = TimetableImport.objects.select_for_update().get(id=job.id)
        _editable(job)
        check_times(data["start_time"], data["end_time"])
        if data.get("matched_course_id"):
            _check_course(job.user, data["matched_course_id"])
        else:
            m = match_course(data["course_name"], data.get("course_code") or "", tracker().list_courses(job.user))
            data = {**data, "matched_course_id": m.course_id, "match_score": m.score if m.course_id else None}
        position = job.proposals.count()
        fields = {k: ("" if v is None and k not in ("matched_course_id", "match_score") else v) for k, v in data.items()}
        return Proposal.objects.create(job=job, position=position, confidence=1.0, flagged=False, manual=True, **fields)


def do_confirm(job: TimetableImport, *, create_missing_courses: bool = True) -> dict[str, Any]:
    """Create the included proposals as tracker classes in one transaction; a second confirm is 409."""
    with transaction.atomic():
        job = TimetableImport.objects.select_for_update().select_related("user").get(id=job.id)
        _editable(job)
        included = list(job.proposals.filter(include=True))
        if not included:
            raise ValidationFailed("No class is included; include at least one before confirming", code="nothing_to_confirm")
        port = tracker()
        timetable_id = port.get_or_create_current_timetable(job.user, job.timetable_id)
        classes = [
            {
                "course_id": p.matched_course_id,
                "course_name": p.course_name,
                "course_code": p.course_code,
                "day_of_week": to_tracker_day(p.day_of_week),
                "start_time": p.start_time,
                "end_time": p.end_time,
                "location": p.location,
                "class_type": p.class_type,
                "instructor": p.instructor,
            }
            for p in included
        ]
        created = port.create_classes(job.user, timetable_id, classes, create_missing_courses=create_missing_courses)
        job.status = ImportStatus.CONFIRMED
        job.timetable_id = timetable_id
        job.confirmed_at = timezone.now()
        job.created_class_ids = [str(c["id"]) for c in created]
        job.save(update_fields=["status", "timetable_id", "confirmed_at", "created_class_ids"])
        name = job.file_name
        transaction.on_commit(lambda: default_storage.delete(name))  # the file is no longer needed
    return {
        "timetable_id": timetable_id,
        "classes": [{**c, "day_of_week": from_tracker_day(int(c["day_of_week"]))} for c in created],
    }


def do_retry(job: TimetableImport) -> TimetableImport:
    with transaction.atomic():
        job = TimetableImport.objects.select_for_update().get(id=job.id)
        if job.status != ImportStatus.FAILED:
            raise Conflict("Only a failed import can be retried", code="not_failed")
        job.proposals.all().delete()
        job.status = ImportStatus.QUEUED
        job.error = job.error_code = ""
        job.finished_at = None
        job.save(update_fields=["status", "error", "error_code", "finished_at"])
        transaction.on_commit(lambda: enqueue(job.id))
    return job


def do_delete(job: TimetableImport) -> None:
    name = job.file_name
    with transaction.atomic():
        TimetableImport.objects.filter(id=job.id).delete()
        transaction.on_commit(lambda: _delete_file(name))


def _delete_file(name: str) -> None:
    if name:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not delete %s", name)


def erase_user(user: User) -> None:
    names = list(TimetableImport.objects.filter(user=user).values_list("file_name", flat=True))
    with transaction.atomic():
        TimetableImport.objects.filter(user=user).delete()

        def drop() -> None:
            for name in names:
                _delete_file(name)

        transaction.on_commit(drop)
