"""Read queries with a fixed number of queries per list."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core.models import User
from modules.courses.models import Course, Enrolment, Lesson


def courses() -> QuerySet[Course]:
    lessons = Lesson.objects.filter(course=OuterRef("pk")).order_by().values("course")
    return Course.objects.select_related("tutor").annotate(
        lesson_count=Coalesce(Subquery(lessons.annotate(n=Count("id")).values("n")[:1]), Value(0), output_field=IntegerField()),
        total_minutes=Coalesce(
            Subquery(lessons.annotate(m=Sum("duration_minutes")).values("m")[:1]), Value(0), output_field=IntegerField()
        ),
    )


def filter_courses(qs: QuerySet[Course], f: Any) -> QuerySet[Course]:
    if f.subject:
        qs = qs.filter(subject__iexact=f.subject)
    if f.tutor_id:
        qs = qs.filter(tutor_id=f.tutor_id)
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(description__icontains=f.q))
    if f.free is True:
        qs = qs.filter(price_minor=0)
    elif f.free is False:
        qs = qs.filter(price_minor__gt=0)
    if f.min_price is not None:
        qs = qs.filter(price_minor__gte=f.min_price)
    if f.max_price is not None:
        qs = qs.filter(price_minor__lte=f.max_price)
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    return qs


def enrolments_with_progress() -> QuerySet[Enrolment]:
    total = (
        Lesson.objects.filter(course=OuterRef("course_id")).order_by().values("course").annotate(n=Count("id")).values("n")[:1]
    )
    return Enrolment.objects.select_related("course", "student").annotate(
        lessons_total=Coalesce(Subquery(total), Value(0), output_field=IntegerField()),
        lessons_completed=Count("completions", distinct=True),
    )


def progress_row(e: Enrolment) -> dict[str, Any]:
    total = e.lessons_total  # type: ignore[attr-defined]
    done = e.lessons_completed  # type: ignore[attr-defined]
    return {
        "enrolment_id": e.id,
        "course_id": e.course_id,
        "title": e.course.title,
        "student_id": e.student_id,
        "student_name": e.student.full_name,
        "status": e.status,
        "enrolled_at": e.created_at,
        "lessons_total": total,
        "lessons_completed": done,
        "percent": (100 * done // total) if total else 0,
    }


def is_enrolled(course: Course, user: User) -> bool:
    return Enrolment.objects.filter(course=course, student=user, status="active").exists()


def active_course_ids(user: User) -> list[Any]:
    return list(Enrolment.objects.filter(student=user, status="active").values_list("course_id", flat=True))
