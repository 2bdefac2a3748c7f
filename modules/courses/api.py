"""/api/v1/courses/...: catalogue, authoring, enrolment, lesson content, progress and quizzes."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from ninja.renderers import JSONRenderer

from core.api.errors import error_responses
from core.api.pagination import Page, PageQuery, paginate
from core.api.public_cache import register_private_read, register_public_read
from core.errors import NotFound, PermissionDenied
from core.models import Role
from core.permissions import current_user
from modules.courses import selectors, services
from modules.courses.models import Course, Enrolment, Lesson, LessonCompletion
from modules.courses.schemas import (
    CourseDetailOut,
    CourseIn,
    CourseOut,
    CoursePatch,
    CourseQuery,
    EnrolmentOut,
    LessonIn,
    LessonPatch,
    MyCourseRow,
    ProgressOut,
    QuizResultOut,
    QuizSubmitIn,
    StudentLessonOut,
    StudentProgressRow,
    TutorLessonOut,
)

router = Router(tags=["courses"])
CATALOGUE_TTL = 120  # seconds; every course or lesson write bumps services.NS_CATALOGUE first
PRIVATE_TTL = 60
_UUID = r"[0-9a-fA-F-]{36}"
_renderer = JSONRenderer()


def register_reads() -> None:
    """The public catalogue, cached once for everyone, and a student's own course reads, cached per
    caller (core.api.public_cache): my courses and progress. (The course page is cached in its view:
    one copy for every caller plus the caller's "enrolled" flag.)"""
    prefix = r"^/api/v1/courses"

    def mine(user_id: Any, groups: dict[str, str]) -> list[str]:
        return [services.NS_CATALOGUE, services.student_namespace(user_id)]

    register_public_read(prefix + r"$", lambda groups: [services.NS_CATALOGUE], CATALOGUE_TTL)
    register_private_read(prefix + r"/enrolled$", mine, PRIVATE_TTL)
    register_private_read(prefix + rf"/{_UUID}/progress$", mine, PRIVATE_TTL)


def _course_out(c: Course) -> dict[str, Any]:
    return {
        "id": c.id,
        "tutor_id": c.tutor_id,
        "tutor_name": c.tutor.full_name,
        "title": c.title,
        "description": c.description,
        "subject": c.subject,
        "price_minor": c.price_minor,
        "currency": c.currency,
        "is_free": c.is_free,
        "cover_url": default_storage.url(c.cover) if c.cover else None,
        "published": c.published,
        "lesson_count": getattr(c, "lesson_count", 0),
        "total_minutes": getattr(c, "total_minutes", 0),
        "created_at": c.created_at,
    }


def _lesson_out(lesson: Lesson, *, as_tutor: bool, completed: bool) -> dict[str, Any]:
    questions = [
        {"id": q["id"], "text": q["text"], "options": q["options"], "multiple": len(q["correct"]) > 1}
        | ({"correct": q["correct"]} if as_tutor else {})
        for q in lesson.quiz
    ]
    return {
        "id": lesson.id,
        "course_id": lesson.course_id,
        "position": lesson.position,
        "title": lesson.title,
        "content_type": lesson.content_type,
        "video_url": lesson.video_url,
        "body": lesson.body,
        "has_document": bool(lesson.document),
        "document_name": lesson.document_name,
        "questions": questions,
        "duration_minutes": lesson.duration_minutes,
        "is_preview": lesson.is_preview,
        "completed": completed,
    }


# --- catalogue ---------------------------------------------------------------------------------------


@router.get("", response={200: Page[CourseOut], **error_responses(422)}, auth=None)
def list_courses(request: HttpRequest, filters: Query[CourseQuery], page: Query[PageQuery]):  # type: ignore[no-untyped-def]
    """Published courses, filtered by subject, price, tutor and text. Public, like tutor search: a
    catalogue visitors can browse before signing up. The same for every caller, so it is served from
    the cache as rendered bytes under the catalogue's version (core.api.public_cache; a course or
    lesson write makes every cached page miss)."""
    qs = selectors.filter_courses(selectors.courses().filter(published=True), filters)
    rows, meta = paginate(qs.order_by("-created_at", "-id"), page)
    return {"items": [_course_out(c) for c in rows], **meta}


@router.get("/teaching", response={200: Page[CourseOut], **error_responses(401, 422)})
def my_taught_courses(request: HttpRequest, page: Query[PageQuery]):  # type: ignore[no-untyped-def]
    """The caller's own courses, published or not."""
    user = current_user(request)
    rows, meta = paginate(selectors.courses().filter(tutor=user).order_by("-created_at", "-id"), page)
    return {"items": [_course_out(c) for c in rows], **meta}


@router.get("/enrolled", response={200: Page[MyCourseRow], **error_responses(401, 422)})
def my_enrolments(request: HttpRequest, page: Query[PageQuery]):  # type: ignore[no-untyped-def]
    """The caller's enrolments with progress per course."""
    user = current_user(request)
    qs = selectors.enrolments_with_progress().filter(student=user).order_by("-created_at", "-id")
    # The count without the per-row progress aggregates (counting the annotated query computes them all).
    rows, meta = paginate(qs, page, count=Enrolment.objects.filter(student=user).count())
    return {"items": [selectors.progress_row(e) for e in rows], **meta}


@router.post("", response={201: CourseOut, **error_responses(401, 403, 422)})
def create_course(request: HttpRequest, data: CourseIn):  # type: ignore[no-untyped-def]
    user = current_user(request)
    course = services.do_create_course(tutor=user, data=data.model_dump())
    return Status(201, _course_out(selectors.courses().get(pk=course.pk)))


@router.get("/{course_id}", response={200: CourseDetailOut, **error_responses(401, 404)})
def get_course(request: HttpRequest, course_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """A published course's page is the same for everyone but its "enrolled" flag: the page is cached
    once for all callers under the catalogue's version, the flag comes from the caller's cached set of
    active enrolments. Unpublished courses (their tutor's and admins' view) are read afresh."""
    user = current_user(request)
    # Two cache round trips: both namespaces' versions, then the page and the caller's enrolments.
    page_ns, mine_ns = services.NS_CATALOGUE, services.student_namespace(user.pk)
    versions = cache.get_many([f"v:{page_ns}", f"v:{mine_ns}"])
    page_key = f"{page_ns}:{versions.get(f'v:{page_ns}') or 0}:course:{course_id}"
    mine_key = f"{mine_ns}:{versions.get(f'v:{mine_ns}') or 0}:active"
    found = cache.get_many([page_key, mine_key]) if getattr(settings, "PUBLIC_READ_CACHE", True) else {}
    page = found.get(page_key) if user.role != Role.ADMIN else None
    if page is None:
        course = services.visible_course(selectors.courses(), user=user, course_id=course_id)
        body = {**_course_out(course), "lessons": [_lesson_summary(lesson) for lesson in course.lessons.all()]}
        # Rendered once without "enrolled" (the schema's last field), which each answer appends.
        data = CourseDetailOut.model_validate({**body, "enrolled": False}).model_dump()
        del data["enrolled"]
        page = _renderer.render(request, data, response_status=200)
        if course.published:
            cache.set(page_key, page, CATALOGUE_TTL)
    enrolled = found.get(mine_key)
    if enrolled is None:  # the courses the caller is actively enrolled in, bumped with their enrolments
        enrolled = set(selectors.active_course_ids(user))
        cache.set(mine_key, enrolled, PRIVATE_TTL)
    flag = "true" if course_id in enrolled else "false"
    return HttpResponse(f'{page[:-1]}, "enrolled": {flag}}}', content_type=_renderer.media_type + "; charset=utf-8")


def _lesson_summary(lesson: Lesson) -> dict[str, Any]:
    return {
        "id": lesson.id,
        "position": lesson.position,
        "title": lesson.title,
        "content_type": lesson.content_type,
        "duration_minutes": lesson.duration_minutes,
        "is_preview": lesson.is_preview,
    }


@router.patch("/{course_id}", response={200: CourseOut, **error_responses(401, 403, 404, 422)})
def update_course(request: HttpRequest, course_id: uuid.UUID, data: CoursePatch):  # type: ignore[no-untyped-def]
    course = services.managed_course(user=current_user(request), course_id=course_id)
    services.do_update_course(course=course, changes=data.model_dump(exclude_unset=True))
    return _course_out(selectors.courses().get(pk=course.pk))


@router.delete("/{course_id}", response={204: None, **error_responses(401, 403, 404, 409)})
def delete_course(request: HttpRequest, course_id: uuid.UUID):  # type: ignore[no-untyped-def]
    course = services.managed_course(user=current_user(request), course_id=course_id)
    services.do_delete_course(course=course)
    return Status(204, None)


@router.post("/{course_id}/cover", response={200: CourseOut, **error_responses(401, 403, 404, 413, 415)})
def upload_cover(request: HttpRequest, course_id: uuid.UUID, file: File[UploadedFile]):  # type: ignore[no-untyped-def]
    course = services.managed_course(user=current_user(request), course_id=course_id)
    services.do_set_cover(course=course, upload=file)
    return _course_out(selectors.courses().get(pk=course.pk))


# --- lessons -----------------------------------------------------------------------------------------


@router.post("/{course_id}/lessons", response={201: TutorLessonOut, **error_responses(401, 403, 404, 422)})
def add_lesson(request: HttpRequest, course_id: uuid.UUID, data: LessonIn):  # type: ignore[no-untyped-def]
    course = services.managed_course(user=current_user(request), course_id=course_id)
    fields = data.model_dump(exclude={"questions"})
    lesson = services.do_add_lesson(course=course, data=fields, questions=data.questions)
    return Status(201, _lesson_out(lesson, as_tutor=True, completed=False))


@router.patch("/{course_id}/lessons/{lesson_id}", response={200: TutorLessonOut, **error_responses(401, 403, 404, 422)})
def update_lesson(request: HttpRequest, course_id: uuid.UUID, lesson_id: uuid.UUID, data: LessonPatch):  # type: ignore[no-untyped-def]
    course = services.managed_course(user=current_user(request), course_id=course_id)
    lesson = Lesson.objects.filter(pk=lesson_id, course=course).first()
    if lesson is None:
        raise NotFound("No lesson with that id, or you may not see it")
    changes = data.model_dump(exclude_unset=True, exclude={"questions"})
    services.do_update_lesson(lesson=lesson, changes=changes, questions=data.questions)
    return _lesson_out(lesson, as_tutor=True, completed=False)


@router.delete("/{course_id}/lessons/{lesson_id}", response={204: None, **error_responses(401, 403, 404)})
def delete_lesson(request: HttpRequest, course_id: uuid.UUID, lesson_id: uuid.UUID):  # type: ignore[no-untyped-def]
    course = services.managed_course(user=current_user(request), course_id=course_id)
    services.do_delete_lesson(course=course, lesson_id=lesson_id)
    return Status(204, None)


@router.post(
    "/{course_id}/lessons/{lesson_id}/document",
    response={200: TutorLessonOut, **error_responses(401, 403, 404, 409, 413, 415)},
)
def upload_lesson_document(request: HttpRequest, course_id: uuid.UUID, lesson_id: uuid.UUID, file: File[UploadedFile]):  # type: ignore[no-untyped-def]
    course = services.managed_course(user=current_user(request), course_id=course_id)
    lesson = Lesson.objects.filter(pk=lesson_id, course=course).first()
    if lesson is None:
        raise NotFound("No lesson with that id, or you may not see it")
    services.do_set_document(lesson=lesson, upload=file)
    return _lesson_out(lesson, as_tutor=True, completed=False)


@router.get("/{course_id}/lessons/{lesson_id}", response={200: StudentLessonOut | TutorLessonOut, **error_responses(401, 404)})
def get_lesson(request: HttpRequest, course_id: uuid.UUID, lesson_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """Content for enrolled students (or anyone for the preview lesson) and the course's tutor.
    Students get the student schema, which has no field for the correct answers."""
    user = current_user(request)
    lesson, as_tutor, enrolment = services.readable_lesson(user=user, course_id=course_id, lesson_id=lesson_id)
    completed = bool(enrolment) and LessonCompletion.objects.filter(enrolment=enrolment, lesson=lesson).exists()
    body = _lesson_out(lesson, as_tutor=as_tutor, completed=completed)
    schema = TutorLessonOut if as_tutor else StudentLessonOut
    return schema.model_validate(body)


@router.get("/{course_id}/lessons/{lesson_id}/document", response={200: None, **error_responses(401, 404)})
def download_lesson_document(request: HttpRequest, course_id: uuid.UUID, lesson_id: uuid.UUID) -> HttpResponse:
    user = current_user(request)
    lesson, _, _ = services.readable_lesson(user=user, course_id=course_id, lesson_id=lesson_id)
    if not lesson.document or not default_storage.exists(lesson.document):
        raise NotFound("This lesson has no document")
    response = FileResponse(
        default_storage.open(lesson.document, "rb"), as_attachment=True, filename=lesson.document_name or "document"
    )
    response["Content-Type"] = lesson.document_mime or "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- enrolment and progress --------------------------------------------------------------------------


@router.post("/{course_id}/enrol", response={201: EnrolmentOut, **error_responses(401, 402, 404, 409)})
def enrol(request: HttpRequest, course_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """Free courses enrol at once; paid ones answer 402 (check out through payments, kind "course")."""
    return Status(201, services.do_enrol_free(course_id=course_id, student=current_user(request)))


@router.post("/{course_id}/lessons/{lesson_id}/complete", response={200: ProgressOut, **error_responses(401, 404, 409)})
def complete_lesson(request: HttpRequest, course_id: uuid.UUID, lesson_id: uuid.UUID):  # type: ignore[no-untyped-def]
    enrolment = services.do_complete_lesson(user=current_user(request), course_id=course_id, lesson_id=lesson_id)
    return services.progress(enrolment)


@router.post("/{course_id}/lessons/{lesson_id}/quiz", response={201: QuizResultOut, **error_responses(401, 404, 409, 422)})
def submit_quiz(request: HttpRequest, course_id: uuid.UUID, lesson_id: uuid.UUID, data: QuizSubmitIn):  # type: ignore[no-untyped-def]
    """Scored on the server; the answer says right or wrong per question, never the right options."""
    user = current_user(request)
    lesson, _, enrolment = services.readable_lesson(user=user, course_id=course_id, lesson_id=lesson_id)
    attempt = services.do_submit_quiz(lesson=lesson, enrolment=enrolment, answers=data.answers)
    return Status(
        201,
        {"attempt_id": attempt.id, "score": attempt.score, "max_score": attempt.max_score, "results": attempt.results},  # type: ignore[attr-defined]
    )


def _progress(user: Any, course_id: uuid.UUID) -> dict[str, Any]:
    enrolment = Enrolment.objects.select_related("course").filter(course_id=course_id, student=user).first()
    if enrolment is None:
        raise NotFound("You are not enrolled in this course")
    head = services.EnrolmentHead(
        id=enrolment.id,
        course_id=enrolment.course_id,
        course_title=enrolment.course.title,
        created_at=enrolment.created_at,
        status=enrolment.status,
    )
    return services.progress(head)


@router.get("/{course_id}/progress", response={200: ProgressOut, **error_responses(401, 404)})
def my_progress(request: HttpRequest, course_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return _progress(current_user(request), course_id)


@router.get("/{course_id}/enrolments", response={200: Page[StudentProgressRow], **error_responses(401, 403, 404, 422)})
def course_enrolments(request: HttpRequest, course_id: uuid.UUID, page: Query[PageQuery]):  # type: ignore[no-untyped-def]
    """The course's tutor (or an admin) sees its students and their progress."""
    user = current_user(request)
    course = Course.objects.filter(pk=course_id).first()
    if course is None or not (course.published or services.can_manage(course, user)):
        raise NotFound("No course with that id, or you may not see it")
    if not services.can_manage(course, user):
        raise PermissionDenied("Only the course's tutor may see its students", code="not_course_tutor")
    qs = selectors.enrolments_with_progress().filter(course=course).order_by("-created_at", "-id")
    rows, meta = paginate(qs, page)
    return {"items": [selectors.progress_row(e) for e in rows], **meta}
