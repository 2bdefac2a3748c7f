"""Demo courses for ``manage.py seed_demo`` (hook "demo_data"); idempotent by title."""

from __future__ import annotations

from core.models import User
from modules.courses.models import ContentType, Course, Enrolment, Lesson

DEMO = [
    (
        "tutor1@demo.local",
        "Algebra from scratch",
        "Mathematics",
        0,
        "USD",
        [
            ("Welcome", ContentType.VIDEO, {"video_url": "https://video.example/algebra-welcome", "is_preview": True}, 5),
            ("Linear equations", ContentType.TEXT, {"body": "# Linear equations\n\nSolve `2x + 3 = 7` step by step."}, 20),
            (
                "Check yourself",
                ContentType.QUIZ,
                {"quiz": [{"id": "q1", "text": "2x + 3 = 7; x = ?", "options": ["1", "2", "5"], "correct": [1]}]},
                5,
            ),
        ],
    ),
    (
        "tutor2@demo.local",
        "Calculus I",
        "Mathematics",
        4900,
        "EUR",
        [
            ("What is a limit?", ContentType.VIDEO, {"video_url": "https://video.example/limits", "is_preview": True}, 12),
            ("Derivatives", ContentType.TEXT, {"body": "# Derivatives\n\nThe slope of a curve at a point."}, 30),
        ],
    ),
]


def seed_demo(users: dict[str, User]) -> str:
    created = 0
    for email, title, subject, price, currency, lessons in DEMO:
        tutor = users.get(email)
        if tutor is None:
            continue
        course, new = Course.objects.get_or_create(
            tutor=tutor,
            title=title,
            defaults={"subject": subject, "price_minor": price, "currency": currency, "published": True, "description": title},
        )
        if new:
            created += 1
            for position, (name, kind, extra, minutes) in enumerate(lessons, start=1):
                Lesson.objects.create(
                    course=course, position=position, title=name, content_type=kind, duration_minutes=minutes, **extra
                )
    free = Course.objects.filter(title="Algebra from scratch").first()
    student = users.get("student1@demo.local")
    if free is not None and student is not None:
        Enrolment.objects.get_or_create(course=free, student=student)
    return f"{created} demo courses"
