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
                # Consecutive one-hour sessions on weekdays, 2 a day, back from 300 days ago: never overlapping.
                start = (NOW - dt.timedelta(days=300)).replace(hour=10, minute=0, second=0)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_marker (scale text primary key, counts jsonb, built_at timestamptz)")
        cursor.execute("SELECT counts FROM bench_marker LIMIT 1")
        row = cursor.fetchone()
    if row and not args.force:
        print(f"data present: {row[0]}")
        return
    started = time.perf_counter()
    counts = build(0.1 if args.small else 1.0)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_marker VALUES (%s, %s, now())", ["small" if args.small else "full", json.dumps(counts)])
    print(f"built {counts} in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
