"""The courses module's ports, event subscriptions and hook contributions."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from core.events import subscribe
from core.models import User
from core.registry import HOOKS, UserExport, hooks, ports
from modules.courses import services
from modules.courses.models import Course, Enrolment, EnrolmentStatus, Lesson, LessonCompletion, QuizAttempt

LABEL = "courses"
PAYMENT_SUCCEEDED = "payments.payment_succeeded.v1"
PAYMENT_REFUNDED = "payments.payment_refunded.v1"


def _ext(name: str) -> str:
    """The extension of a storage name, with its dot ("" when it has none)."""
    base = name.rsplit("/", 1)[-1]
    return base[base.rfind(".") :] if "." in base else ""


def export_user(user: User) -> UserExport:
    """The user's enrolments and progress, and the courses they teach with the files they uploaded
    (covers and lesson documents; the ZIP has them under files/courses/<course title (id)>/)."""
    taught = list(Course.objects.filter(tutor=user))
    files: list[tuple[str, Any]] = []
    for c in taught:
        if c.cover:
            files.append((f"{c.title} ({c.id.hex[:8]})/cover{_ext(c.cover)}", c.cover))
    documents = Lesson.objects.filter(course__tutor=user).exclude(document="").select_related("course")
    for lesson in documents.order_by("course_id", "position"):
        name = lesson.document_name or f"document{_ext(lesson.document)}"
        files.append((f"{lesson.course.title} ({lesson.course_id.hex[:8]})/{lesson.position:02d} {name}", lesson.document))
    data = {
        "courses_taught": [
            {"id": str(c.id), "title": c.title, "published": c.published, "price_minor": c.price_minor, "currency": c.currency}
            for c in taught
        ],
        "enrolments": [
            {"course_id": str(e.course_id), "status": e.status, "enrolled_at": e.created_at.isoformat()}
            for e in Enrolment.objects.filter(student=user)
        ],
        "completed_lessons": [
            {"lesson_id": str(c.lesson_id), "completed_at": c.completed_at.isoformat()}
            for c in LessonCompletion.objects.filter(enrolment__student=user)
        ],
        "quiz_attempts": [
            {"lesson_id": str(a.lesson_id), "answers": a.answers, "score": a.score, "max_score": a.max_score}
            for a in QuizAttempt.objects.filter(enrolment__student=user)
        ],
    }
    return UserExport(data=data, files=files)


def erase_user(user: User) -> None:
    """A student's progress and quiz answers are deleted, and their enrolments with them (payments keeps
    its own anonymous records). A tutor's courses are unpublished and kept for the students who paid."""
    QuizAttempt.objects.filter(enrolment__student=user).delete()
    LessonCompletion.objects.filter(enrolment__student=user).delete()
    Enrolment.objects.filter(student=user).delete()
    Course.objects.filter(tutor=user).update(published=False)
    services.invalidate_students(user.pk)
    services.invalidate_catalogue()


def admin_figures(**_: Any) -> dict[str, Any]:
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return {
        "courses_published": Course.objects.filter(published=True).count(),
        "enrolments_active": Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE).count(),
        "enrolments_this_month": Enrolment.objects.filter(created_at__gte=start).count(),
        "paid_enrolments_this_month": Enrolment.objects.filter(created_at__gte=start, payment_id__isnull=False).count(),
    }


# A tutor's account fields that course answers show (the tutor's name on the catalogue and course pages).
_SHOWN_USER_FIELDS = {"first_name", "last_name", "email", "is_active", "deleted_at"}


def on_user_saved(sender: type[User], instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    """A tutor renamed (or deactivated) changes cached catalogue and course answers at once; a user's
    role (an admin sees unpublished courses) changes their own cached answers."""
    if update_fields and not (_SHOWN_USER_FIELDS | {"role"}) & set(update_fields):
        return  # a login (last_login) or a password change shows nowhere
    services.invalidate_students(instance.pk)
    if Course.objects.filter(tutor_id=instance.pk).exists():
        services.invalidate_catalogue()


def on_enrolment_written(sender: type[Enrolment], instance: Enrolment, **kwargs: Any) -> None:
    """Any enrolment row saved or deleted (services, admin, cascades): the student's cached reads go."""
    services.invalidate_students(instance.student_id)


def register() -> None:
    from django.db.models.signals import post_delete, post_save

    post_save.connect(on_user_saved, sender=User, dispatch_uid="courses.user_saved")
    post_save.connect(on_enrolment_written, sender=Enrolment, dispatch_uid="courses.enrolment_saved")
    post_delete.connect(on_enrolment_written, sender=Enrolment, dispatch_uid="courses.enrolment_deleted")
    ports.register("payments.payable.course", services.describe_payable)
    subscribe(PAYMENT_SUCCEEDED, services.on_payment_succeeded)
    subscribe(PAYMENT_REFUNDED, services.on_payment_refunded)
    hooks.register(HOOKS.CONTACT_POLICY, LABEL, services.contact_policy)
    hooks.register(HOOKS.USER_EXPORT, LABEL, export_user)
    hooks.register(HOOKS.USER_ERASE, LABEL, erase_user)
    hooks.register(HOOKS.ADMIN_FIGURES, LABEL, admin_figures)
    from modules.courses.demo import seed_demo

    hooks.register(HOOKS.DEMO_DATA, LABEL, seed_demo)
