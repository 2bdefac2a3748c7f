"""Course operations: authoring, enrolment (free at once, paid on payments' event), progress, quizzes."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q

from core.cache import bump_now_and_on_commit
from core.db import db_uuid, from_db_value, insert_unless_conflict, sql_exists
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from core.files import store_file, store_validated_image, validate_upload
from core.models import Role, User
from modules.courses.models import ContentType, Course, Enrolment, EnrolmentStatus, Lesson, LessonCompletion, QuizAttempt

DOCUMENT_MAX_BYTES = 20 * 1024 * 1024


class PaymentRequired(DomainError):
    status, code, title = 402, "payment_required", "Payment required"


# --- read caches ---------------------------------------------------------------------------------------
#: Everything a course's page or the catalogue shows (courses, lessons, tutors' names): bumped by every
#: course and lesson write. Per-student reads (course page's "enrolled", my courses, progress) are also
#: keyed by the student's namespace, bumped whenever their enrolments, completions or quiz attempts change.
NS_CATALOGUE = "courses:catalogue"


def student_namespace(user_id: Any) -> str:
    return f"courses:student:{user_id}"


def invalidate_catalogue() -> None:
    bump_now_and_on_commit(NS_CATALOGUE)


def invalidate_students(*user_ids: Any) -> None:
    ids = {u for u in user_ids if u}
    if ids:
        bump_now_and_on_commit(*(student_namespace(u) for u in ids))


# --- access ------------------------------------------------------------------------------------------


def can_manage(course: Course, user: User) -> bool:
    return course.tutor_id == user.id or user.role == Role.ADMIN


def visible_course(qs: Any, *, user: User, course_id: uuid.UUID) -> Course:
    """A published course, or an unpublished one to its tutor or an admin; 404 otherwise."""
    q = Q(published=True) | Q(tutor=user)
    if user.role == Role.ADMIN:
        q = Q()
    course = qs.filter(q, pk=course_id).first()
    if course is None:
        raise NotFound("No course with that id, or you may not see it")
    return course


def managed_course(*, user: User, course_id: uuid.UUID) -> Course:
    course = Course.objects.filter(pk=course_id).first()
    if course is None or not (course.published or can_manage(course, user)):
        raise NotFound("No course with that id, or you may not see it")
    if not can_manage(course, user):
        raise PermissionDenied("Only the course's tutor may change it", code="not_course_tutor")
    return course


def active_enrolment(course: Course, user: User) -> Enrolment | None:
    return Enrolment.objects.filter(course=course, student=user, status=EnrolmentStatus.ACTIVE).first()


def readable_lesson(*, user: User, course_id: uuid.UUID, lesson_id: uuid.UUID) -> tuple[Lesson, bool, Enrolment | None]:
    """The lesson when the caller may read its content: (lesson, as_tutor, enrolment). 404 otherwise,
    so a non-enrolled student cannot even tell a paid lesson from a missing one."""
    lesson = Lesson.objects.select_related("course").filter(pk=lesson_id, course_id=course_id).first()
    if lesson is None:
        raise NotFound("No lesson with that id, or you may not see it")
    course = lesson.course
    if can_manage(course, user):
        return lesson, True, None
    if not course.published:
        raise NotFound("No lesson with that id, or you may not see it")
    enrolment = active_enrolment(course, user)
    if enrolment is None and not lesson.is_preview:
        raise NotFound("No lesson with that id, or you may not see it")
    return lesson, False, enrolment


# --- authoring ---------------------------------------------------------------------------------------


def do_create_course(*, tutor: User, data: dict[str, Any]) -> Course:
    if tutor.role not in (Role.TUTOR, Role.ADMIN):
        raise PermissionDenied("Only a tutor may publish courses", code="role_required")
    data["currency"] = data.get("currency", "USD").upper()
    course = Course.objects.create(tutor=tutor, **data)
    invalidate_catalogue()
    return course


def do_update_course(*, course: Course, changes: dict[str, Any]) -> Course:
    if "currency" in changes and changes["currency"]:
        changes["currency"] = changes["currency"].upper()
    # A new price applies to new students only: existing enrolments are kept as they are.
    for key, value in changes.items():
        setattr(course, key, value)
    course.save()
    invalidate_catalogue()
    return course


def do_delete_course(*, course: Course) -> None:
    if course.enrolments.filter(status=EnrolmentStatus.ACTIVE).exists():
        raise Conflict("Students are enrolled; unpublish the course instead", code="has_enrolments")
    files = [course.cover, *course.lessons.exclude(document="").values_list("document", flat=True)]
    course.delete()
    invalidate_catalogue()
    for name in filter(None, files):
        transaction.on_commit(lambda name=name: default_storage.delete(name))


def do_set_cover(*, course: Course, upload: Any) -> Course:
    checked = validate_upload(upload, allowed=("image",))
    old = course.cover
    course.cover = store_validated_image(checked, folder=f"courses/{course.id.hex}", max_side=1600)
    course.save(update_fields=["cover", "updated_at"])
    invalidate_catalogue()
    if old:
        transaction.on_commit(lambda: default_storage.delete(old))
    return course


def _questions(raw: list[Any]) -> list[dict[str, Any]]:
    return [{"id": q.id, "text": q.text, "options": list(q.options), "correct": sorted(q.correct)} for q in raw]


def do_add_lesson(*, course: Course, data: dict[str, Any], questions: list[Any]) -> Lesson:
    position = data.pop("position", None)
    if position is None:
        position = (course.lessons.aggregate(m=Max("position"))["m"] or 0) + 1
    lesson = Lesson.objects.create(course=course, position=position, quiz=_questions(questions), **data)
    invalidate_catalogue()
    return lesson


def do_update_lesson(*, lesson: Lesson, changes: dict[str, Any], questions: list[Any] | None) -> Lesson:
    for key, value in changes.items():
        setattr(lesson, key, value)
    if questions is not None:
        if lesson.content_type == ContentType.QUIZ and not questions:
            raise ValidationFailed("A quiz needs questions", code="quiz_empty")
        lesson.quiz = _questions(questions)
    if lesson.content_type == ContentType.VIDEO and not lesson.video_url:
        raise ValidationFailed("A video lesson needs video_url", code="video_url_required")
    lesson.save()
    invalidate_catalogue()
    return lesson


def do_delete_lesson(*, course: Course, lesson_id: uuid.UUID) -> None:
    deleted, _ = Lesson.objects.filter(pk=lesson_id, course=course).delete()
    if not deleted:
        raise NotFound("No lesson with that id, or you may not see it")
    invalidate_catalogue()


def do_set_document(*, lesson: Lesson, upload: Any) -> Lesson:
    if lesson.content_type != ContentType.DOCUMENT:
        raise Conflict("Only a document lesson takes a document", code="not_a_document_lesson")
    checked = validate_upload(upload, allowed=("pdf", "document", "text", "image"), max_bytes=DOCUMENT_MAX_BYTES)
    old = lesson.document
    lesson.document = store_file(checked, folder=f"courses/{lesson.course_id.hex}/lessons")
    lesson.document_name = checked.original_name.rsplit("/", 1)[-1][:200]
    lesson.document_mime = checked.mime if checked.kind != "image" else "image/jpeg"
    lesson.save(update_fields=["document", "document_name", "document_mime"])
    invalidate_catalogue()
    if old:
        transaction.on_commit(lambda: default_storage.delete(old))
    return lesson


# --- enrolment ---------------------------------------------------------------------------------------


def check_may_enrol(course: Course, student: User) -> None:
    if not course.published:
        raise NotFound("No course with that id, or you may not see it")
    if course.tutor_id == student.id:
        raise Conflict("You teach this course", code="own_course")
    if active_enrolment(course, student) is not None:
        raise Conflict("You are already enrolled", code="already_enrolled")


def _enrol(course_id: uuid.UUID, student: User, payment_id: uuid.UUID | None) -> Enrolment:
    try:
        with transaction.atomic():
            enrolment, created = Enrolment.objects.get_or_create(
                course_id=course_id, student=student, defaults={"payment_id": payment_id}
            )
    except IntegrityError:
        enrolment, created = Enrolment.objects.get(course_id=course_id, student=student), False
    if not created and enrolment.status != EnrolmentStatus.ACTIVE:
        enrolment.status = EnrolmentStatus.ACTIVE
        enrolment.payment_id = payment_id
        enrolment.save(update_fields=["status", "payment_id"])
    return enrolment


def do_enrol_free(*, course_id: uuid.UUID, student: User) -> Enrolment:
    """Enrol in a free published course at once, with check_may_enrol's rules; 402 for a paid one.

    The course and the caller's enrolment row (if any) come from one statement, and a new enrolment
    is one INSERT that a concurrent twin turns into nothing: on the ORM (a course query, an enrolment
    check, then get_or_create's transaction and savepoint) it took eight round trips."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.tutor_id, c.price_minor, e.id, e.status FROM {Course._meta.db_table} c
                LEFT JOIN {Enrolment._meta.db_table} e ON e.course_id = c.id AND e.student_id = %s
                WHERE c.id = %s AND c.published""",
            [db_uuid(student.pk), db_uuid(course_id)],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No course with that id, or you may not see it")
    tutor_id, price_minor, enrolment_id, status = row
    if from_db_value(Course._meta.get_field("tutor"), tutor_id) == student.id:
        raise Conflict("You teach this course", code="own_course")
    if status == EnrolmentStatus.ACTIVE:
        raise Conflict("You are already enrolled", code="already_enrolled")
    if price_minor != 0:
        raise PaymentRequired(
            "This course is paid: check out with POST /api/v1/payments/checkout {kind: course, object_id}",
            code="payment_required",
        )
    if enrolment_id is not None:  # refunded or cancelled before: the same row comes back to life
        return _enrol(course_id, student, None)
    enrolment = Enrolment(course_id=course_id, student=student)
    if not insert_unless_conflict(enrolment):  # a concurrent twin enrolled first: show its row
        return Enrolment.objects.get(course_id=course_id, student=student)
    invalidate_students(student.pk)  # what the post_save receiver does for ORM saves
    return enrolment


def describe_payable(object_id: uuid.UUID, payer: User) -> dict[str, Any]:
    """The payments port "payments.payable.course": what enrolling in this course costs."""
    course = Course.objects.filter(pk=object_id).first()
    if course is None:
        raise NotFound("No course with that id, or you may not see it")
    check_may_enrol(course, payer)
    return {
        "amount_minor": course.price_minor,
        "currency": course.currency,
        "payee_user_id": course.tutor_id,
        "description": f"Course: {course.title}"[:200],
    }


def on_payment_succeeded(evt: Any) -> None:
    """payments.payment_succeeded.v1 for kind "course": enrol the payer (idempotent)."""
    if getattr(evt, "kind", None) != "course":
        return
    course = Course.objects.filter(pk=uuid.UUID(str(evt.object_id))).first()
    student = User.objects.filter(pk=uuid.UUID(str(evt.payer_id))).first()
    if course is None or student is None:
        return
    _enrol(course.id, student, uuid.UUID(str(evt.payment_id)))


def on_payment_refunded(evt: Any) -> None:
    """A course payment refunded in full ends the enrolment it paid for (progress is kept)."""
    if getattr(evt, "kind", None) != "course" or not getattr(evt, "full", False):
        return
    paid = Enrolment.objects.filter(payment_id=uuid.UUID(str(evt.payment_id)))
    invalidate_students(*paid.values_list("student_id", flat=True))
    paid.update(status=EnrolmentStatus.REVOKED)


# --- progress ----------------------------------------------------------------------------------------


def _require_enrolment(enrolment: Enrolment | None) -> Enrolment:
    if enrolment is None:
        raise Conflict("Enrol in the course first", code="not_enrolled")
    return enrolment


@dataclass(frozen=True)
class EnrolmentHead:
    """What a progress answer says about the enrolment itself."""

    id: uuid.UUID
    course_id: uuid.UUID
    course_title: str
    created_at: dt.datetime
    status: str


def do_complete_lesson(*, user: User, course_id: uuid.UUID, lesson_id: uuid.UUID) -> EnrolmentHead:
    """Mark a lesson complete for the caller; idempotent. The lesson, its course and the caller's
    active enrolment come from one statement, with readable_lesson's rules (404 to whoever may not
    read the lesson; 409 to its tutor, an admin, or a student on a preview lesson without enrolling);
    the completion is one INSERT that does nothing when it is already there (the unique constraint)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT l.is_preview, c.tutor_id, c.published, c.title, e.id, e.created_at
                FROM {Lesson._meta.db_table} l
                JOIN {Course._meta.db_table} c ON c.id = l.course_id
                LEFT JOIN {Enrolment._meta.db_table} e ON e.course_id = c.id AND e.student_id = %s AND e.status = %s
                WHERE l.id = %s AND l.course_id = %s""",
            [db_uuid(user.pk), EnrolmentStatus.ACTIVE.value, db_uuid(lesson_id), db_uuid(course_id)],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No lesson with that id, or you may not see it")
    is_preview, tutor_id, published, title, enrolment_id, enrolled_at = row
    manages = from_db_value(Course._meta.get_field("tutor"), tutor_id) == user.pk or user.role == Role.ADMIN
    if not manages and not (published and (enrolment_id is not None or is_preview)):
        raise NotFound("No lesson with that id, or you may not see it")
    if manages or enrolment_id is None:
        raise Conflict("Enrol in the course first", code="not_enrolled")
    enrolment = EnrolmentHead(
        id=from_db_value(Enrolment._meta.pk, enrolment_id),
        course_id=course_id,
        course_title=title,
        created_at=from_db_value(Enrolment._meta.get_field("created_at"), enrolled_at),
        status=EnrolmentStatus.ACTIVE,
    )
    insert_unless_conflict(LessonCompletion(enrolment_id=enrolment.id, lesson_id=lesson_id))
    invalidate_students(user.pk)
    return enrolment


def progress(enrolment: EnrolmentHead) -> dict[str, Any]:
    """The course's lesson count, the lessons completed and the best quiz score per lesson, in one
    statement (three UNION ALL branches)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT 0, NULL, COUNT(*) FROM {Lesson._meta.db_table} WHERE course_id = %s
                UNION ALL
                SELECT 1, lesson_id, NULL FROM {LessonCompletion._meta.db_table} WHERE enrolment_id = %s
                UNION ALL
                SELECT 2, lesson_id, MAX(score) FROM {QuizAttempt._meta.db_table} WHERE enrolment_id = %s GROUP BY lesson_id""",
            [db_uuid(enrolment.course_id), db_uuid(enrolment.id), db_uuid(enrolment.id)],
        )
        rows = cursor.fetchall()
    lesson_field = LessonCompletion._meta.get_field("lesson")
    total = next(int(n) for kind, _, n in rows if kind == 0)
    completed = [from_db_value(lesson_field, lesson) for kind, lesson, _ in rows if kind == 1]
    best = {str(from_db_value(lesson_field, lesson)): int(score) for kind, lesson, score in rows if kind == 2}
    done = len(completed)  # one row per completed lesson (unique per enrolment and lesson)
    return {
        "course_id": enrolment.course_id,
        "course_title": enrolment.course_title,
        "enrolled_at": enrolment.created_at,
        "status": enrolment.status,
        "lessons_total": total,
        "lessons_completed": done,
        "percent": (100 * done // total) if total else 0,
        "completed_lesson_ids": completed,
        "best_quiz_scores": best,
    }


def score_quiz(questions: list[dict[str, Any]], answers: dict[str, list[int]]) -> dict[str, bool]:
    """Right when the chosen options are exactly the correct ones."""
    return {q["id"]: sorted(set(answers.get(q["id"], []))) == sorted(q["correct"]) for q in questions}


def do_submit_quiz(*, lesson: Lesson, enrolment: Enrolment | None, answers: dict[str, list[int]]) -> QuizAttempt:
    enrolment = _require_enrolment(enrolment)
    if lesson.content_type != ContentType.QUIZ:
        raise Conflict("This lesson is not a quiz", code="not_a_quiz")
    known = {q["id"] for q in lesson.quiz}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValidationFailed(f"Unknown question ids: {', '.join(unknown[:5])}", code="unknown_question")
    results = score_quiz(lesson.quiz, answers)
    attempt = QuizAttempt.objects.create(
        enrolment=enrolment,
        lesson=lesson,
        answers=answers,
        score=sum(results.values()),
        max_score=len(results),
    )
    LessonCompletion.objects.get_or_create(enrolment=enrolment, lesson=lesson)
    invalidate_students(enrolment.student_id)
    attempt.results = results  # type: ignore[attr-defined]
    return attempt


# --- hooks -------------------------------------------------------------------------------------------


def contact_policy(sender: User, recipient: User) -> str | None:
    """An actively enrolled student and the course's tutor may write. Hand-written: it runs on every
    message sent."""
    a, b = db_uuid(sender.pk), db_uuid(recipient.pk)
    shared = sql_exists(
        f"""SELECT 1 FROM {Enrolment._meta.db_table} e JOIN {Course._meta.db_table} c ON c.id = e.course_id
            WHERE ((e.student_id = %s AND c.tutor_id = %s) OR (e.student_id = %s AND c.tutor_id = %s))
              AND e.status = %s LIMIT 1""",
        [a, b, b, a, EnrolmentStatus.ACTIVE],
    )
    return "course enrolment" if shared else None
