"""Build the benchmark database: realistic volumes, written with PostgreSQL COPY.

Full size: 10,000 tutors with availability, 100,000 students, 1,000,000 bookings, 2,000,000 messages
in 200,000 threads, 500,000 tracker results, 1,000,000 notifications. --small builds a tenth.
Reusable: a marker row records what was built; run again and nothing is rebuilt unless --force.
Run through run.py (which sets DATABASE_URL); or: DATABASE_URL=... python platform/bench/seed.py --small
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.models import User  # noqa: E402

rng = random.Random(20261124)
NOW = timezone.now().replace(microsecond=0)
FUTURE_DAYS = 10  # each tutor's last 20 seeded sessions are upcoming
PASSWORD_HASH = None  # filled once: every bench user shares one password hash (bench-pass-123!)
WORDS = [
    "algebra",
    "calculus",
    "physics",
    "chemistry",
    "biology",
    "history",
    "geography",
    "literature",
    "grammar",
    "essay",
    "exam",
    "practice",
    "python",
    "java",
    "statistics",
    "economics",
    "accounting",
    "french",
    "spanish",
    "german",
    "music",
    "piano",
    "guitar",
    "chess",
    "coding",
    "revision",
    "olympiad",
    "gcse",
    "a-level",
    "ib",
    "sat",
    "ielts",
    "toefl",
    "conversation",
    "beginner",
    "advanced",
    "patient",
    "friendly",
]
FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Marie",
    "Niels",
    "Emmy",
    "Carl",
    "Rosalind",
    "Tim",
    "Sofia",
    "Omar",
    "Yuki",
    "Priya",
    "Lars",
    "Ines",
    "Kofi",
    "Mei",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Curie",
    "Bohr",
    "Noether",
    "Gauss",
    "Franklin",
    "Lee",
    "Kim",
    "Patel",
    "Garcia",
    "Okafor",
    "Chen",
    "Silva",
    "Nakamura",
]


def model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _text(value: Any) -> str:
    if value is None:
        return None  # type: ignore[return-value]
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def copy_rows(m: type[models.Model], rows: Iterable[dict[str, Any]], *, batch_note: str = "") -> int:
    """COPY dicts keyed by field attname into the model's table; fields left out take their default."""
    fields = [f for f in m._meta.concrete_fields if not (isinstance(f, models.AutoField) and f.primary_key)]
    cols = [f.column for f in fields]
    defaults: dict[str, Any] = {}
    for f in fields:
        if f.has_default() and not callable(f.default):
            defaults[f.attname] = f.default
        elif f.has_default() and f.default in (dict, list):
            defaults[f.attname] = f.default()
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = NOW
        elif f.null:
            defaults[f.attname] = None
        elif isinstance(f, models.CharField | models.TextField | models.FileField):
            defaults[f.attname] = ""
    callables = {
        f.attname: f.default for f in fields if f.has_default() and callable(f.default) and f.default not in (dict, list)
    }
    n = 0
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(
            f'COPY "{m._meta.db_table}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) FROM STDIN'
        ) as cp,
    ):
        for row in rows:
            values = []
            for f in fields:
                if f.attname in row:
                    v = row[f.attname]
                elif f.attname in callables:
                    v = callables[f.attname]()
                else:
                    v = defaults.get(f.attname)
                values.append(_text(v))
            cp.write_row(values)
            n += 1
    return n


def users(role: str, count: int, prefix: str) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    tzs = ["Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles", "UTC"]

    def rows() -> Iterator[dict[str, Any]]:
        for i, uid in enumerate(ids):
            yield {
                "id": uid,
                "email": f"{prefix}{i}@bench.local",
                "password": PASSWORD_HASH,
                "role": role,
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "timezone": tzs[i % len(tzs)],
                "created_at": NOW - dt.timedelta(days=rng.randint(0, 700)),
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                "locale": "en",
                "currency": "USD",
            }

    copy_rows(User, rows())
    email = model("account.EmailAddress")
    copy_rows(
        email,
        ({"user_id": uid, "email": f"{prefix}{i}@bench.local", "verified": True, "primary": True} for i, uid in enumerate(ids)),
    )
    return ids


def build(scale: float) -> dict[str, int]:
    global PASSWORD_HASH
    from django.contrib.auth.hashers import make_password

    PASSWORD_HASH = make_password("bench-pass-123!")
    counts: dict[str, int] = {}
    n_tutors, n_students = int(10_000 * scale), int(100_000 * scale)
    n_bookings, n_threads, n_messages = int(1_000_000 * scale), int(200_000 * scale), int(2_000_000 * scale)
    n_results, n_notifications = int(500_000 * scale), int(1_000_000 * scale)

    t = time.perf_counter()
    tutor_users = users("tutor", n_tutors, "tutor")
    student_users = users("student", n_students, "student")
    counts["users"] = n_tutors + n_students
    print(f"  users {counts['users']:,} in {time.perf_counter() - t:.0f}s", flush=True)

    subject_m, profile_m = model("marketplace.Subject"), model("marketplace.TutorProfile")
    profiles: list[uuid.UUID] = []
    rates: list[int] = []
    subject_ids: list[uuid.UUID] = []
    if profile_m is not None:
        t = time.perf_counter()
        names = [
            "Mathematics",
            "Physics",
            "Chemistry",
            "Biology",
            "English",
            "History",
            "Computer Science",
            "Economics",
            "French",
            "Spanish",
            "German",
            "Music",
            "Art",
            "Geography",
            "Statistics",
            "Accounting",
            "Philosophy",
            "Psychology",
            "Law",
            "Engineering",
        ]
        subject_ids = [uuid.uuid4() for _ in names]
        copy_rows(
            subject_m,
            (
                {"id": sid, "name": n, "category": "general", "is_archived": False}
                for sid, n in zip(subject_ids, names, strict=True)
            ),
        )
        profiles = [uuid.uuid4() for _ in tutor_users]
        rates = [rng.choice([1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000]) for _ in profiles]

        def profile_rows() -> Iterator[dict[str, Any]]:
            for pid, uid, rate in zip(profiles, tutor_users, rates, strict=True):
                words = " ".join(rng.sample(WORDS, 12))
                reviews = rng.randint(0, 60)
                rating_sum = sum(rng.randint(3, 5) for _ in range(reviews))
                yield {
                    "id": pid,
                    "user_id": uid,
                    "title": "Tutor",
                    "headline": f"{rng.choice(WORDS).title()} tutor, {rng.randint(1, 25)} years",
                    "bio": f"I teach {words}.",
                    "hourly_rate_minor": rate,
                    "currency": "USD",
                    "experience_years": rng.randint(0, 30),
                    "timezone": rng.choice(["Europe/London", "America/New_York", "Asia/Tokyo"]),
                    "status": "approved",
                    "rating_sum": rating_sum,
                    "review_count": reviews,
                    "average_rating": f"{(rating_sum / reviews) if reviews else 0:.2f}",
                    "search_document": f"{words}",
                    "min_notice_minutes": 720,
                    "horizon_days": 60,
                    "buffer_minutes": 0,
                    "session_lengths": [30, 45, 60, 90],
                    "submitted_at": NOW,
                    "reviewed_at": NOW,
                }

        copy_rows(profile_m, profile_rows())
        through = profile_m.subjects.through
        copy_rows(
            through, ({"tutorprofile_id": pid, "subject_id": sid} for pid in profiles for sid in rng.sample(subject_ids, 3))
        )
        lang_m = model("marketplace.TutorLanguage")
        copy_rows(
            lang_m,
            (
                {"profile_id": pid, "code": code, "proficiency": "fluent"}
                for pid in profiles
                for code in rng.sample(["en", "fr", "de", "es", "ja", "zh"], 2)
            ),
        )
        rule_m = model("marketplace.AvailabilityRule")
        copy_rows(
            rule_m,
            (
                {"profile_id": pid, "weekday": d, "start_time": dt.time(9), "end_time": dt.time(17)}
                for pid in profiles
                for d in range(5)
            ),
        )
        counts["tutors"] = len(profiles)
        print(f"  tutors with availability in {time.perf_counter() - t:.0f}s", flush=True)

        booking_m = model("marketplace.Booking")
        t = time.perf_counter()
        per_tutor = max(1, n_bookings // len(profiles))

        def booking_rows() -> Iterator[dict[str, Any]]:
            for ti, (pid, tuid, rate) in enumerate(zip(profiles, tutor_users, rates, strict=True)):
                # Consecutive one-hour sessions, 2 a day, never overlapping; the last FUTURE_DAYS days are
                # upcoming (pending or confirmed), as on a live platform: statistics taken with no active
                # booking at all made PostgreSQL walk a whole partial index per clash check.
                start = (NOW - dt.timedelta(days=per_tutor // 2 - FUTURE_DAYS)).replace(hour=10, minute=0, second=0)
                for k in range(per_tutor):
                    day = start + dt.timedelta(days=k // 2)
                    s = day.replace(hour=10 + 3 * (k % 2))
                    past = s < NOW
                    status = (
                        rng.choice(["completed", "completed", "completed", "cancelled"])
                        if past
                        else rng.choice(["pending", "confirmed", "confirmed"])
                    )
                    yield {
                        "tutor_id": pid,
                        "tutor_user_id": tuid,
                        "student_id": student_users[(ti * 7 + k) % len(student_users)],
                        "subject_id": subject_ids[k % len(subject_ids)],
                        "starts_at": s,
                        "ends_at": s + dt.timedelta(hours=1),
                        "blocked_until": s + dt.timedelta(hours=1),
                        "duration_minutes": 60,
                        "mode": "online",
                        "status": status,
                        "price_minor": rate,
                        "currency": "USD",
                        "credit_consumed": False,
                        "created_at": s - dt.timedelta(days=3),
                    }

        counts["bookings"] = copy_rows(booking_m, booking_rows())
        print(f"  bookings {counts['bookings']:,} in {time.perf_counter() - t:.0f}s", flush=True)

    thread_m, message_m = model("messaging.Thread"), model("messaging.Message")
    if thread_m is not None:
        t = time.perf_counter()
        pairs, seen = [], set()
        while len(pairs) < n_threads:
            a, b = rng.choice(tutor_users), rng.choice(student_users)
            low, high = sorted([a, b], key=str)
            if (low, high) in seen:
                continue
            seen.add((low, high))
            pairs.append((uuid.uuid4(), low, high))
        copy_rows(
            thread_m,
            (
                {
                    "id": tid,
                    "user_low_id": lo,
                    "user_high_id": hi,
                    "created_at": NOW - dt.timedelta(days=200),
                    "last_message_at": NOW - dt.timedelta(minutes=i),
                }
                for i, (tid, lo, hi) in enumerate(pairs)
            ),
        )
        per_thread = max(1, n_messages // len(pairs))

        def message_rows() -> Iterator[dict[str, Any]]:
            for i, (tid, lo, hi) in enumerate(pairs):
                base = NOW - dt.timedelta(days=200)
                for k in range(per_thread):
                    sender, recipient = (lo, hi) if k % 2 == 0 else (hi, lo)
                    yield {
                        "thread_id": tid,
                        "sender_id": sender,
                        "recipient_id": recipient,
                        "body": " ".join(rng.sample(WORDS, 8)),
                        "created_at": base + dt.timedelta(minutes=k * 37 + i % 30),
                        "read_at": base if k < per_thread - 2 else None,
                    }

        counts["messages"] = copy_rows(message_m, message_rows())
        counts["threads"] = len(pairs)
        print(f"  messages {counts['messages']:,} in {time.perf_counter() - t:.0f}s", flush=True)

    course_m, result_m = model("tracker.Course"), model("tracker.Result")
    if course_m is not None:
        t = time.perf_counter()
        trackers = student_users[: max(1, n_results // 50)]  # 50 results each
        courses = [(uuid.uuid4(), uid, j) for uid in trackers for j in range(5)]
        copy_rows(
            course_m,
            (
                {
                    "id": cid,
                    "user_id": uid,
                    "name": f"Course {j}",
                    "code": f"C{j}01",
                    "credits": 3 + j % 3,
                    "semester": f"2026-S{1 + j % 2}",
                    "color": "blue",
                    "is_active": True,
                }
                for cid, uid, j in courses
            ),
        )

        def result_rows() -> Iterator[dict[str, Any]]:
            for cid, uid, j in courses:
                for k in range(10):
                    score = rng.randint(40, 100)
                    yield {
                        "user_id": uid,
                        "course_id": cid,
                        "assessment_type": rng.choice(["quiz", "midterm", "final", "assignment", "project"]),
                        "name": f"Assessment {k}",
                        "score": f"{score}.00",
                        "max_score": "100.00",
                        "percentage": f"{score}.00",
                        "grade": "A"
                        if score >= 90
                        else "B"
                        if score >= 80
                        else "C"
                        if score >= 70
                        else "D"
                        if score >= 60
                        else "F",
                        "semester": f"2026-S{1 + j % 2}",
                        "date": (NOW - dt.timedelta(days=k * 9)).date(),
                    }

        counts["results"] = copy_rows(result_m, result_rows())
        print(f"  results {counts['results']:,} in {time.perf_counter() - t:.0f}s", flush=True)

    notif_m = model("notifications.Notification")
    if notif_m is not None:
        t = time.perf_counter()
        per_user = max(1, n_notifications // len(student_users))

        def notif_rows() -> Iterator[dict[str, Any]]:
            for i, uid in enumerate(student_users):
                for k in range(per_user):
                    yield {
                        "user_id": uid,
                        "type": "notifications.booking_confirmed",
                        "category": "bookings",
                        "title": "Booking confirmed",
                        "body": "Your session is confirmed.",
                        "data": {},
                        "in_app": True,
                        "created_at": NOW - dt.timedelta(hours=k * 5 + i % 5),
                        "read_at": None if k < 3 else NOW,
                    }

        counts["notifications"] = copy_rows(notif_m, notif_rows())
        print(f"  notifications {counts['notifications']:,} in {time.perf_counter() - t:.0f}s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts


# --- courses and payments (issue 4) ------------------------------------------------------------------
# Added to an existing database too: each part runs only while its own tables are empty, so a built
# bench_full keeps everything else and only gains these rows.

COURSE_SUBJECTS = ["Mathematics", "Physics", "Chemistry", "Biology", "English", "History", "Computer Science", "Economics"]
COURSE_SUBJECTS += ["French", "Spanish", "Music", "Statistics", "Accounting", "Philosophy", "Psychology", "Geography"]


def _empty(m: type[models.Model] | None) -> bool:
    return m is not None and not m.objects.exists()


def bench_students() -> list[uuid.UUID]:
    """Students in the order prepare.py takes them (by e-mail), so its tokens hit the busy ones."""
    return list(
        User.objects.filter(role="student", email__endswith="@bench.local").order_by("email").values_list("id", flat=True)
    )


def approved_tutors() -> list[uuid.UUID]:
    profile_m = model("marketplace.TutorProfile")
    qs = User.objects.filter(role="tutor", email__endswith="@bench.local", is_active=True)
    if profile_m is not None:
        qs = qs.filter(pk__in=profile_m.objects.filter(status="approved").values("user_id"))
    return list(qs.order_by("email").values_list("id", flat=True))


def build_courses(scale: float) -> dict[str, int]:
    """~2,000 published courses by approved tutors, 10 lessons each (2 quizzes), ~200,000 enrolments
    (paid ones carry the payment id the payments part then writes), lesson progress and quiz attempts.
    The first students by e-mail (the ones prepare.py signs in) get 10 enrolments each with little
    progress, so the progress and completion scenarios have open lessons to work on."""
    course_m, lesson_m, enrol_m = model("courses.Course"), model("courses.Lesson"), model("courses.Enrolment")
    if not _empty(course_m):
        return {}
    t = time.perf_counter()
    n_courses, n_enrolments = int(2_000 * scale), int(200_000 * scale)
    tutors, students = approved_tutors(), bench_students()
    teaching = tutors[: max(1, n_courses // 2)]  # a thousand tutors with two courses each (full size)
    courses = []
    for i in range(n_courses):
        subject = COURSE_SUBJECTS[i % len(COURSE_SUBJECTS)]
        price = 0 if rng.random() < 0.4 else rng.choice([1900, 2900, 4900, 9900])
        created = NOW - dt.timedelta(days=rng.randint(30, 600), minutes=i)
        courses.append((uuid.uuid4(), teaching[i % len(teaching)], subject, price, created, rng.random() < 0.95))
    copy_rows(
        course_m,
        (
            {
                "id": cid,
                "tutor_id": tid,
                "title": f"{subject}: {' '.join(rng.sample(WORDS, 3)).title()} {i}",
                "description": f"A course in {subject.lower()}: {' '.join(rng.sample(WORDS, 14))}.",
                "subject": subject,
                "price_minor": price,
                "currency": "USD",
                "published": published,
                "created_at": created,
                "updated_at": created,
            }
            for i, (cid, tid, subject, price, created, published) in enumerate(courses)
        ),
    )
    quiz = [{"id": f"q{k}", "text": f"Question {k}?", "options": ["a", "b", "c", "d"], "correct": [k % 4]} for k in range(1, 4)]
    lessons: dict[uuid.UUID, list[tuple[uuid.UUID, bool]]] = {}  # course -> [(lesson, is_quiz)] in order

    def lesson_rows() -> Iterator[dict[str, Any]]:
        for cid, _tid, _subject, _price, created, _published in courses:
            rows = lessons.setdefault(cid, [])
            for pos in range(1, 11):
                lid, kind = uuid.uuid4(), "quiz" if pos in (5, 10) else ("video" if pos % 3 == 1 else "text")
                rows.append((lid, kind == "quiz"))
                yield {
                    "id": lid,
                    "course_id": cid,
                    "position": pos,
                    "title": f"Lesson {pos}: {rng.choice(WORDS).title()}",
                    "content_type": kind,
                    "video_url": f"https://video.example/{lid.hex[:12]}" if kind == "video" else "",
                    "body": f"# Notes\n{' '.join(rng.sample(WORDS, 20))}" if kind == "text" else "",
                    "quiz": quiz if kind == "quiz" else [],
                    "duration_minutes": rng.choice([5, 10, 15, 20, 30]),
                    "is_preview": pos == 1,
                    "created_at": created,
                }

    n_lessons = copy_rows(lesson_m, lesson_rows())
    published = [c for c in courses if c[5]]
    # (enrolment id, course, student, enrolled at, paid, revoked, completed lessons)
    enrolments: list[tuple[uuid.UUID, tuple[Any, ...], uuid.UUID, dt.datetime, uuid.UUID | None, bool, int]] = []
    busy = students[: max(1, len(students) // 50)]  # 2,000 students (full size) with ten courses each
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()

    def enrol(student: uuid.UUID, course: tuple[Any, ...], done: int) -> None:
        if (course[0], student) in seen or course[1] == student:
            return
        seen.add((course[0], student))
        at = course[4] + dt.timedelta(days=rng.randint(1, max(1, (NOW - course[4]).days - 1)), minutes=rng.randint(0, 1439))
        paid = uuid.uuid4() if course[3] else None
        revoked = bool(paid) and rng.random() < 0.03
        enrolments.append((uuid.uuid4(), course, student, min(at, NOW), paid, revoked, done))

    for student in busy:
        for course in rng.sample(published, min(10, len(published))):
            enrol(student, course, rng.randint(0, 3))
    rest = students[len(busy) :] or students
    while len(enrolments) < n_enrolments:
        enrol(rng.choice(rest), rng.choice(published), rng.randint(0, 10))
    copy_rows(
        enrol_m,
        (
            {
                "id": eid,
                "course_id": course[0],
                "student_id": student,
                "status": "revoked" if revoked else "active",
                "payment_id": paid,
                "created_at": at,
            }
            for eid, course, student, at, paid, revoked, _done in enrolments
        ),
    )

    def completion_rows() -> Iterator[dict[str, Any]]:
        for eid, course, _student, at, _paid, _revoked, done in enrolments:
            for k, (lid, _quiz) in enumerate(lessons[course[0]][:done]):
                yield {"enrolment_id": eid, "lesson_id": lid, "completed_at": min(NOW, at + dt.timedelta(days=k + 1))}

    n_done = copy_rows(model("courses.LessonCompletion"), completion_rows())

    def attempt_rows() -> Iterator[dict[str, Any]]:
        for eid, course, _student, at, _paid, _revoked, done in enrolments:
            for k, (lid, is_quiz) in enumerate(lessons[course[0]][:done]):
                if is_quiz:
                    score = rng.randint(1, 3)
                    answers = {q["id"]: [rng.randint(0, 3)] for q in quiz}
                    yield {
                        "enrolment_id": eid,
                        "lesson_id": lid,
                        "answers": answers,
                        "score": score,
                        "max_score": 3,
                        "created_at": min(NOW, at + dt.timedelta(days=k + 1)),
                    }

    n_attempts = copy_rows(model("courses.QuizAttempt"), attempt_rows())
    print(
        f"  courses {len(courses):,}, lessons {n_lessons:,}, enrolments {len(enrolments):,}, completions {n_done:,}, "
        f"quiz attempts {n_attempts:,} in {time.perf_counter() - t:.0f}s",
        flush=True,
    )
    return {
        "courses": len(courses),
        "lessons": n_lessons,
        "enrolments": len(enrolments),
        "lesson_completions": n_done,
        "quiz_attempts": n_attempts,
    }


def build_payments(scale: float) -> dict[str, int]:
    """~300,000 payments (every paid course enrolment, the rest for completed and confirmed bookings),
    with the ledger modules/payments writes for them: a capture per captured payment
    (student_payments -amount, platform_revenue +fee, tutor_pending +share), a release once paid out
    of the hold, a refund for refunded ones (back out of tutor_pending and the fee), and a few thousand
    withdrawals (hold; then payout or release). Every transaction sums to zero and no tutor account
    goes below zero, so balances (sums of entries) are what the services would have produced."""
    payment_m = model("payments.Payment")
    if not _empty(payment_m):
        return {}
    from modules.payments import conf

    t = time.perf_counter()
    n_payments, n_withdrawals = int(300_000 * scale), int(3_000 * scale)
    fee_pct, hold = conf.fee_percent(), dt.timedelta(days=conf.payout_hold_days())
    minimum = conf.withdrawal_minimum_minor()

    def fee_of(amount: int) -> int:
        from decimal import ROUND_HALF_UP, Decimal

        return int((Decimal(amount) * fee_pct / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    # (id, kind, object id, payer, payee, amount, created, status, description)
    payments: list[tuple[uuid.UUID, str, uuid.UUID, uuid.UUID, uuid.UUID, int, dt.datetime, str, str]] = []
    enrol_m = model("courses.Enrolment")
    if enrol_m is not None:
        rows = enrol_m.objects.filter(payment_id__isnull=False).values_list(
            "payment_id",
            "course_id",
            "student_id",
            "course__tutor_id",
            "course__price_minor",
            "created_at",
            "status",
            "course__title",
        )
        for pid, cid, sid, tid, price, at, status, title in rows.iterator(chunk_size=5000):
            payments.append(
                (
                    pid,
                    "course",
                    cid,
                    sid,
                    tid,
                    price,
                    at,
                    "refunded" if status == "revoked" else "succeeded",
                    f"Course: {title}"[:200],
                )
            )
    booking_m = model("marketplace.Booking")
    need = n_payments - len(payments)
    if need > 0 and booking_m is not None:
        qs = booking_m.objects.filter(status__in=["completed", "confirmed", "cancelled"])
        share = min(1.0, need / max(1, qs.count()))
        for bid, sid, tid, price, starts, status in qs.values_list(
            "id", "student_id", "tutor_user_id", "price_minor", "starts_at", "status"
        ).iterator(chunk_size=5000):
            if len(payments) >= n_payments or rng.random() > share:
                continue
            state = {"completed": "succeeded", "confirmed": "succeeded", "cancelled": "refunded"}[status]
            payments.append(
                (
                    uuid.uuid4(),
                    "booking",
                    bid,
                    sid,
                    tid,
                    price,
                    min(starts - dt.timedelta(days=3), NOW - dt.timedelta(hours=1)),
                    state,
                    "Session",
                )
            )
    elif need > 0:  # no marketplace: bookings are only ids to payments
        tutors, students = approved_tutors(), bench_students()
        for _ in range(need):
            at = NOW - dt.timedelta(days=rng.randint(1, 300))
            payments.append(
                (
                    uuid.uuid4(),
                    "booking",
                    uuid.uuid4(),
                    rng.choice(students),
                    rng.choice(tutors),
                    3000,
                    at,
                    "succeeded",
                    "Session",
                )
            )
    # A few that never captured: no ledger entries.
    for k in rng.sample(range(len(payments)), min(len(payments), max(1, n_payments // 100))):
        if payments[k][1] == "booking" and payments[k][7] == "succeeded":
            payments[k] = (*payments[k][:7], rng.choice(["failed", "pending"]), payments[k][8])

    account_m, txn_m, entry_m = model("payments.Account"), model("payments.LedgerTransaction"), model("payments.LedgerEntry")
    refund_m, withdrawal_m = model("payments.Refund"), model("payments.Withdrawal")
    tutors_paid = sorted({p[4] for p in payments}, key=str)
    existing = {(k, o, c) for k, o, c in account_m.objects.values_list("kind", "owner_id", "currency")}
    wanted = [(k, None, "USD") for k in ("platform_revenue", "student_payments", "refunds", "payouts")]
    wanted += [(k, tid, "USD") for tid in tutors_paid for k in ("tutor_pending", "tutor_available", "tutor_held")]
    copy_rows(
        account_m,
        (
            {"kind": k, "owner_id": o, "currency": c, "created_at": NOW - dt.timedelta(days=700)}
            for k, o, c in wanted
            if (k, o, c) not in existing
        ),
    )
    acct = {(k, o): i for i, k, o in account_m.objects.filter(currency="USD").values_list("id", "kind", "owner_id")}
    txns: list[dict[str, Any]] = []
    entries: list[tuple[uuid.UUID, int, int, dt.datetime]] = []
    refunds: list[dict[str, Any]] = []
    available: dict[uuid.UUID, list[tuple[dt.datetime, int]]] = {}  # tutor -> released shares over time

    def post(kind: str, key: str, reference: str, at: dt.datetime, legs: list[tuple[int, int]]) -> None:
        assert sum(a for _, a in legs) == 0, (key, legs)
        tid = uuid.uuid4()
        txns.append({"id": tid, "kind": kind, "reference": reference, "idempotency_key": key, "created_at": at})
        entries.extend((tid, account, amount, at) for account, amount in legs if amount)

    payment_rows = []
    for pid, kind, oid, payer, payee, amount, at, status, description in payments:
        fee = fee_of(amount)
        captured = status in ("succeeded", "refunded")
        captured_at = at + dt.timedelta(seconds=5) if captured else None
        released_at = None
        if captured:
            share = amount - fee
            post(
                "capture",
                f"capture:{pid}",
                str(pid),
                captured_at,
                [
                    (acct["student_payments", None], -amount),
                    (acct["platform_revenue", None], fee),
                    (acct["tutor_pending", payee], share),
                ],
            )
            if status == "refunded":  # refunded while pending: the share comes out of pending, the rest out of the fee
                rid, r_at = uuid.uuid4(), captured_at + dt.timedelta(hours=rng.randint(1, 48))
                refunds.append(
                    {
                        "id": rid,
                        "payment_id": pid,
                        "amount_minor": amount,
                        "reason": "cancelled",
                        "key": f"owner_cancelled:{pid}",
                        "provider_ref": f"re_bench_{rid.hex[:20]}",
                        "posted": True,
                        "created_at": r_at,
                    }
                )
                post(
                    "refund",
                    f"refund:{rid}",
                    str(pid),
                    r_at,
                    [
                        (acct["refunds", None], amount),
                        (acct["tutor_pending", payee], -share),
                        (acct["platform_revenue", None], -(amount - share)),
                    ],
                )
            elif captured_at + hold < NOW:
                released_at = captured_at + hold
                post(
                    "release",
                    f"release:{pid}",
                    str(pid),
                    released_at,
                    [(acct["tutor_pending", payee], -share), (acct["tutor_available", payee], share)],
                )
                available.setdefault(payee, []).append((released_at, share))
        payment_rows.append(
            {
                "id": pid,
                "kind": kind,
                "object_id": oid,
                "payer_id": payer,
                "payee_id": payee,
                "description": description,
                "amount_minor": amount,
                "fee_minor": fee,
                "currency": "USD",
                "provider": "stripe",
                "provider_ref": f"pi_bench_{pid.hex}",
                "status": status,
                "observed_succeeded": captured,
                "observed_failed": status == "failed",
                "observed_refunded_minor": amount if status == "refunded" else 0,
                "captured_at": captured_at,
                "released_at": released_at,
                "failure_reason": "card_declined" if status == "failed" else "",
                "created_at": at,
                "updated_at": released_at or captured_at or at,
            }
        )
    # Withdrawals: tutors with the most released money ask for part of what is available at the time.
    withdrawals = []
    rich = sorted(available, key=lambda u: -sum(a for _, a in available[u]))
    for tutor in rich:
        if len(withdrawals) >= n_withdrawals:
            break
        balance, last = 0, None
        for released_at, share in sorted(available[tutor]):
            balance += share
            if balance >= max(minimum, 20_000) and (last is None or released_at - last > dt.timedelta(days=20)):
                wid, amount = uuid.uuid4(), balance * rng.choice([5, 8, 10]) // 10
                at = min(NOW, released_at + dt.timedelta(hours=2))
                status = "pending" if at > NOW - dt.timedelta(days=3) else rng.choice(["paid"] * 8 + ["rejected"])
                decided = None if status == "pending" else at + dt.timedelta(days=1)
                hold_legs = [(acct["tutor_available", tutor], -amount), (acct["tutor_held", tutor], amount)]
                post("withdrawal_hold", f"withdrawal:{wid}:hold", str(wid), at, hold_legs)
                balance -= amount
                if status == "paid":
                    out_legs = [(acct["tutor_held", tutor], -amount), (acct["payouts", None], amount)]
                    post("payout", f"withdrawal:{wid}:paid", str(wid), decided, out_legs)
                elif status == "rejected":
                    back_legs = [(acct["tutor_held", tutor], -amount), (acct["tutor_available", tutor], amount)]
                    post("withdrawal_release", f"withdrawal:{wid}:rejected", str(wid), decided, back_legs)
                    balance += amount
                withdrawals.append(
                    {
                        "id": wid,
                        "tutor_id": tutor,
                        "amount_minor": amount,
                        "currency": "USD",
                        "status": status,
                        "reference": f"PAYOUT-{wid.hex[:8]}" if status == "paid" else "",
                        "reason": "bank details do not match" if status == "rejected" else "",
                        "decided_at": decided,
                        "created_at": at,
                    }
                )
                last = released_at
    copy_rows(payment_m, payment_rows)
    copy_rows(refund_m, refunds)
    copy_rows(withdrawal_m, withdrawals)
    copy_rows(txn_m, txns)
    n_entries = copy_rows(
        entry_m,
        (
            {"transaction_id": tid, "account_id": a, "amount_minor": amt, "currency": "USD", "created_at": at}
            for tid, a, amt, at in entries
        ),
    )
    print(
        f"  payments {len(payment_rows):,}, ledger transactions {len(txns):,}, entries {n_entries:,}, refunds {len(refunds):,}, "
        f"withdrawals {len(withdrawals):,} in {time.perf_counter() - t:.0f}s",
        flush=True,
    )
    return {
        "payments": len(payment_rows),
        "ledger_transactions": len(txns),
        "ledger_entries": n_entries,
        "refunds": len(refunds),
        "withdrawals": len(withdrawals),
    }


def build_learning(scale: float) -> dict[str, int]:
    """The courses and payments parts, each only into its empty tables; ANALYZE what was added."""
    counts = {**build_courses(scale), **build_payments(scale)}
    if counts:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_marker (scale text primary key, counts jsonb, built_at timestamptz)")
        cursor.execute("SELECT counts FROM bench_marker LIMIT 1")
        row = cursor.fetchone()
    started = time.perf_counter()
    if row and not args.force:
        print(f"data present: {row[0]}")
    else:
        counts = build(0.1 if args.small else 1.0)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_marker VALUES (%s, %s, now())", ["small" if args.small else "full", json.dumps(counts)]
            )
        print(f"built {counts} in {time.perf_counter() - started:.0f}s")
    added = build_learning(0.1 if args.small else 1.0)  # courses and payments: only into their empty tables
    if added:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE bench_marker SET counts = counts || %s::jsonb", [json.dumps(added)])
        print(f"added {added} in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
