"""Demo data (hook "demo_data"): subjects, two approved tutors with availability, bookings, a review.

Idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.models import User
from modules.marketplace.models import (
    AvailabilityRule,
    Booking,
    BookingEvent,
    BookingStatus,
    Package,
    Review,
    Subject,
    TutorLanguage,
    TutorProfile,
    TutorStatus,
)

SUBJECTS = [
    ("Mathematics", "STEM", "Arithmetic to calculus"),
    ("Physics", "STEM", "Mechanics, electricity, waves"),
    ("Chemistry", "STEM", "General and organic chemistry"),
    ("English", "Languages", "Grammar, writing, conversation"),
    ("Spanish", "Languages", "From beginner to advanced"),
    ("Computer Science", "STEM", "Programming and algorithms"),
    ("History", "Humanities", "World and modern history"),
]

TUTORS: dict[str, dict[str, Any]] = {
    "tutor1@demo.local": {
        "title": "Mathematics and Physics Tutor",
        "headline": "Ten years of A-level and university maths, with patience",
        "bio": "I help students build intuition for calculus, algebra and mechanics, then practise until it sticks.",
        "teaching_philosophy": "Understanding first, then fluency.",
        "hourly_rate_minor": 4500,
        "currency": "GBP",
        "experience_years": 10,
        "education": ["MSc Mathematics, University of Manchester"],
        "certifications": ["QTS"],
        "subjects": ["Mathematics", "Physics"],
        "languages": [("en", "native"), ("fr", "intermediate")],
        "rules": [(d, "09:00", "12:00") for d in range(5)] + [(d, "14:00", "18:00") for d in (0, 2, 4)],
    },
    "tutor2@demo.local": {
        "title": "Languages and Computer Science Tutor",
        "headline": "Spanish and English conversation, Python for beginners",
        "bio": "Bilingual teacher and software developer; relaxed lessons built around what you need.",
        "teaching_philosophy": "Speak from the first minute; code from the first lesson.",
        "hourly_rate_minor": 3800,
        "currency": "USD",
        "experience_years": 6,
        "education": ["BA Linguistics, NYU"],
        "certifications": ["DELE C2", "TEFL"],
        "subjects": ["Spanish", "English", "Computer Science"],
        "languages": [("en", "native"), ("es", "native")],
        "rules": [(d, "10:00", "16:00") for d in range(6)],
    },
}


def _t(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def seed_demo(users: dict[str, User]) -> str:
    created = []
    with transaction.atomic():
        subjects = {}
        for name, category, description in SUBJECTS:
            subject, made = Subject.objects.get_or_create(name=name, defaults={"category": category, "description": description})
            subjects[name] = subject
            if made:
                created.append(f"subject {name}")
        profiles = {}
        for email, spec in TUTORS.items():
            user = users.get(email)
            if user is None:
                continue
            profile, made = TutorProfile.objects.get_or_create(user=user, defaults={"timezone": user.timezone})
            if made or profile.status != TutorStatus.APPROVED:
                for key in (
                    "title",
                    "headline",
                    "bio",
                    "teaching_philosophy",
                    "hourly_rate_minor",
                    "currency",
                    "experience_years",
                    "education",
                    "certifications",
                ):
                    setattr(profile, key, spec[key])
                profile.timezone = user.timezone
                profile.status = TutorStatus.APPROVED
                profile.submitted_at = profile.reviewed_at = timezone.now()
                profile.refresh_search_document()
                profile.save()
                profile.subjects.set([subjects[s] for s in spec["subjects"]])
                TutorLanguage.objects.filter(profile=profile).delete()
                TutorLanguage.objects.bulk_create(
                    [TutorLanguage(profile=profile, code=c, proficiency=p) for c, p in spec["languages"]]
                )
                created.append(f"approved tutor {email}")
            if not AvailabilityRule.objects.filter(profile=profile).exists():
                AvailabilityRule.objects.bulk_create(
                    [AvailabilityRule(profile=profile, weekday=d, start_time=_t(a), end_time=_t(b)) for d, a, b in spec["rules"]]
                )
            if not Package.objects.filter(tutor=profile).exists():
                Package.objects.create(
                    tutor=profile,
                    name="Five sessions",
                    description="Five one-hour sessions",
                    session_count=5,
                    duration_minutes=60,
                    price_minor=spec["hourly_rate_minor"] * 9 // 2,
                    currency=profile.currency,
                    validity_days=90,
                )
            profiles[email] = profile
        student1 = users.get("student1@demo.local")
        student2 = users.get("student2@demo.local")
        if profiles and student1 and not Booking.objects.filter(notes__startswith="[demo]").exists():
            created += _demo_bookings(profiles, subjects, student1, student2)
    return ", ".join(created) if created else "already present"


def _slot(days: int, hour: int) -> dt.datetime:
    day = timezone.now().date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _book(profile: TutorProfile, student: User, subject: Subject, starts_at: dt.datetime, status: str, note: str) -> Booking:
    booking = Booking.objects.create(
        tutor=profile,
        tutor_user=profile.user,
        student=student,
        subject=subject,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
        blocked_until=starts_at + dt.timedelta(hours=1, minutes=profile.buffer_minutes),
        duration_minutes=60,
        price_minor=profile.hourly_rate_minor,
        currency=profile.currency,
        notes=f"[demo] {note}",
        status=status,
        confirmed_at=timezone.now() if status != BookingStatus.PENDING else None,
        meeting_url="https://meet.jit.si/tutoring-demo-room" if status != BookingStatus.PENDING else "",
    )
    BookingEvent.objects.create(booking=booking, action="demo", to_status=status)
    return booking


def _demo_bookings(profiles: dict[str, TutorProfile], subjects: dict[str, Subject], s1: User, s2: User | None) -> list[str]:
    out = []
    t1 = profiles.get("tutor1@demo.local")
    t2 = profiles.get("tutor2@demo.local")
    if t1:
        past = _book(t1, s1, subjects["Mathematics"], _slot(-7, 10), BookingStatus.COMPLETED, "Derivatives revision")
        Review.objects.create(booking=past, tutor=t1, student=s1, rating=5, comment="Clear explanations and good exercises.")
        t1.rating_sum, t1.review_count, t1.average_rating = 5, 1, 5
        t1.save(update_fields=["rating_sum", "review_count", "average_rating"])
        _book(t1, s1, subjects["Physics"], _slot(3, 10), BookingStatus.CONFIRMED, "Kinematics problems")
        out.append("2 bookings and a review for tutor1")
    if t2 and s2:
        _book(t2, s2, subjects["Spanish"], _slot(4, 15), BookingStatus.PENDING, "Conversation practice")
        out.append("1 pending booking for tutor2")
    return out
