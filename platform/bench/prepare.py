"""Write the request lines each scenario replays: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY, one per line.

Runs inside Django against the benchmark database (tokens are real allauth JWTs bound to sessions).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import zoneinfo
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.models import User  # noqa: E402
from core.testing import issue_access_token  # noqa: E402

rng = random.Random(7)
N = int(os.environ.get("BENCH_LINES", "2000"))
CREATED_MARK = "bench-create"


def line(method: str, path: str, token: str = "", body: dict | None = None) -> str:
    return "\t".join([method, path, token, json.dumps(body, default=str) if body else ""])


def tokens_for(role: str, count: int) -> list[tuple[User, str]]:
    users = list(User.objects.filter(role=role, email__endswith="@bench.local").order_by("email")[:count])
    return [(u, issue_access_token(u)) for u in users]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    scenarios: dict[str, list[str]] = {
        "floor": [line("GET", "/api/v1/utils/ping")],
        "health": [line("GET", "/health")],
    }
    students = tokens_for("student", 200)
    if apps.is_installed("modules.marketplace"):
        from modules.marketplace.models import Booking, Subject, TutorProfile

        profiles = list(TutorProfile.objects.filter(status="approved").values_list("id", "user_id", "timezone")[:3000])
        subjects = list(Subject.objects.values_list("id", "name"))
        words = ["algebra", "physics", "python", "exam", "essay", "chess", "french", "statistics"]
        search = []
        for _ in range(N):
            params = [
                f"q={rng.choice(words)}",
                f"subject={rng.choice(subjects)[0]}",
                f"max_price={rng.choice([3000, 4000, 6000])}",
                f"sort={rng.choice(['relevance', 'rating', 'price'])}",
                f"page={rng.randint(1, 3)}",
            ]
            search.append(line("GET", "/api/v1/marketplace/tutors?" + "&".join(rng.sample(params, rng.randint(2, 5)))))
        scenarios["tutor_search"] = search
        scenarios["tutor_profile"] = [line("GET", f"/api/v1/marketplace/tutors/{rng.choice(profiles)[0]}") for _ in range(N)]
        today = timezone.now().date()
        scenarios["tutor_slots_14d"] = [
            line(
                "GET",
                f"/api/v1/marketplace/tutors/{rng.choice(profiles)[0]}/slots?start={today + dt.timedelta(days=2)}&end={today + dt.timedelta(days=16)}&duration=60",
            )
            for _ in range(N)
        ]
        scenarios["my_bookings"] = [
            line("GET", "/api/v1/marketplace/bookings?page_size=20", tok) for _, tok in students for _ in range(5)
        ]
        # Booking creation: distinct free slots (future weekdays, inside the 09-17 local rule), one per request.
        create: list[str] = []
        subj_by_tutor = {}
        through = TutorProfile.subjects.through
        for pid, sid in through.objects.filter(tutorprofile_id__in=[p[0] for p in profiles]).values_list(
            "tutorprofile_id", "subject_id"
        ):
            subj_by_tutor.setdefault(pid, sid)
        # The bookings an earlier run's creation scenario made (marked in their notes) go first, so the
        # scenario finds the same free days on every run instead of using them up.
        Booking.objects.filter(notes=CREATED_MARK).delete()
        # Never a slot the data already holds: skip tutor-days and student-days with an active booking
        # in the window, and give each student at most one booking a day.
        window = (today + dt.timedelta(days=3), today + dt.timedelta(days=51))
        active = Booking.objects.filter(
            status__in=["pending", "confirmed"], starts_at__date__gte=window[0], starts_at__date__lte=window[1]
        )
        busy_tutor_days = set(active.filter(tutor_id__in=[p[0] for p in profiles]).values_list("tutor_id", "starts_at__date"))
        busy_student_days = set(active.filter(student__in=[u for u, _ in students]).values_list("student_id", "starts_at__date"))
        attempts = 0
        while len(create) < N * 5 and attempts < N * 50:
            attempts += 1
            pid, _uid, tzname = rng.choice(profiles)
            day = today + dt.timedelta(days=rng.randint(3, 50))
            if day.weekday() >= 5 or (pid, day) in busy_tutor_days:
                continue
            hour = rng.randint(9, 15)
            local = dt.datetime.combine(day, dt.time(hour), tzinfo=zoneinfo.ZoneInfo(tzname))
            student, tok = students[len(create) % len(students)]
            if (student.pk, local.astimezone(dt.UTC).date()) in busy_student_days:
                continue
            busy_tutor_days.add((pid, day))
            busy_student_days.add((student.pk, local.astimezone(dt.UTC).date()))
            create.append(
                line(
                    "POST",
                    "/api/v1/marketplace/bookings",
                    tok,
                    {
                        "tutor_id": pid,
                        "subject_id": subj_by_tutor.get(pid),
                        "starts_at": local.astimezone(dt.UTC).isoformat(),
                        "duration_minutes": 60,
                        "mode": "online",
                        "notes": CREATED_MARK,
                    },
                )
            )
        scenarios["booking_create"] = create
        # Confirmation: pending future bookings (days 52-58, apart from the creation scenario's days),
        # each confirmed once by its tutor; topped up to what three runs use. Candidate slots walk
        # tutors, days and hours; ones an earlier run holds are skipped by the exclusion constraints.
        need = N * 3
        confirm_qs = Booking.objects.filter(status="pending", starts_at__gt=timezone.now(), notes="bench-confirm")
        pool = list(User.objects.filter(role="student").order_by("email").values_list("id", flat=True)[:50_000])
        slot = 0
        while confirm_qs.count() < need and slot < len(profiles) * 7 * 6:
            made = []
            for _ in range(need):
                pid, uid, _tz = profiles[slot % len(profiles)]
                day = today + dt.timedelta(days=52 + (slot // len(profiles)) % 7)
                start = dt.datetime.combine(day, dt.time(9 + (slot // (len(profiles) * 7)) % 6), tzinfo=dt.UTC)
                made.append(
                    Booking(
                        tutor_id=pid,
                        tutor_user_id=uid,
                        student_id=pool[slot % len(pool)],
                        subject_id=subj_by_tutor.get(pid) or subjects[0][0],
                        starts_at=start,
                        ends_at=start + dt.timedelta(hours=1),
                        blocked_until=start + dt.timedelta(hours=1),
                        duration_minutes=60,
                        price_minor=3000,
                        currency="USD",
                        status="pending",
                        notes="bench-confirm",
                    )
                )
                slot += 1
            Booking.objects.bulk_create(made, ignore_conflicts=True)
        pending = list(confirm_qs.order_by("starts_at", "id").values_list("id", "tutor_user_id")[:need])
        tutor_tokens: dict = {}
        confirm = []
        for bid, tuid in pending:
            if tuid not in tutor_tokens:
                tutor_tokens[tuid] = issue_access_token(User.objects.get(pk=tuid))
            confirm.append(line("POST", f"/api/v1/marketplace/bookings/{bid}/confirm", tutor_tokens[tuid]))
        scenarios["booking_confirm"] = confirm
    if apps.is_installed("modules.messaging"):
        from modules.messaging.models import Thread

        threads = list(
            Thread.objects.filter(user_high__email__endswith="@bench.local").values_list("user_low_id", "user_high_id")[:400]
        )
        uids = {u for pair in threads for u in pair}
        toks = {u.pk: issue_access_token(u) for u in User.objects.filter(pk__in=uids)}
        scenarios["thread_list"] = [line("GET", "/api/v1/messaging/threads?limit=20", toks[lo]) for lo, _ in threads]
        scenarios["thread_history"] = [
            line("GET", f"/api/v1/messaging/threads/{hi}/messages?limit=30", toks[lo]) for lo, hi in threads
        ]
        if apps.is_installed("modules.marketplace"):
            # Pairs that share a booking: the contact policy lets them write to each other.
            from modules.marketplace.models import Booking

            pairs = list(
                Booking.objects.filter(status__in=["confirmed", "completed"])
                .values_list("student_id", "tutor_user_id")
                .distinct()[:400]
            )
            ptoks = {u.pk: issue_access_token(u) for u in User.objects.filter(pk__in={s for s, _ in pairs})}
            scenarios["message_send"] = [
                line("POST", "/api/v1/messaging/messages", ptoks[s], {"recipient_id": t, "body": "See you on Tuesday at four."})
                for s, t in pairs
                for _ in range(5)
            ]
    if apps.is_installed("modules.notifications"):
        scenarios["notification_list"] = [
            line("GET", "/api/v1/notifications?limit=20", tok) for _, tok in students for _ in range(5)
        ]
    if apps.is_installed("modules.tracker"):
        from modules.tracker.models import Course

        trackers = list(User.objects.filter(pk__in=Course.objects.values("user_id")[:200]))
        ttoks = [issue_access_token(u) for u in trackers]
        scenarios["tracker_dashboard"] = [line("GET", "/api/v1/tracker/dashboard", t) for t in ttoks for _ in range(5)]
        scenarios["gpa_summary"] = [line("GET", "/api/v1/tracker/gpa", t) for t in ttoks for _ in range(5)]
    if apps.is_installed("modules.coach") and apps.is_installed("modules.tracker"):
        from modules.coach.models import CoachSession
        from modules.tracker.models import Course

        learners = list(User.objects.filter(pk__in=Course.objects.values("user_id")).order_by("email")[:400])
        coach_lines = []
        for u in learners:
            session = CoachSession.objects.filter(user=u).first() or CoachSession.objects.create(user=u, title="Bench")
            coach_lines.append(
                line(
                    "POST", f"/api/v1/coach/sessions/{session.id}/messages", issue_access_token(u), {"text": "How can I improve?"}
                )
            )
        scenarios["coach_message_offline"] = coach_lines
    if apps.is_installed("modules.courses"):
        from modules.courses.models import Course, Enrolment, Lesson, LessonCompletion

        # The catalogue (every signed-in user sees the same answer), a course's page, a student's courses.
        catalogue = list(Course.objects.filter(published=True).values_list("id", "subject", "price_minor", "tutor_id"))
        subjects_c = sorted({c[1] for c in catalogue})
        words_c = ["algebra", "physics", "python", "exam", "essay", "chess", "french", "statistics", "revision", "piano"]
        course_list = []
        for _ in range(N):
            params = [
                f"subject={quote(rng.choice(subjects_c))}",  # "Computer Science": a raw space breaks the request line
                f"q={rng.choice(words_c)}",
                f"free={rng.choice(['true', 'false'])}",
                f"max_price={rng.choice([2000, 5000, 10000])}",
                f"page={rng.randint(1, 3)}",
            ]
            picked = rng.sample(params, rng.randint(0, 3))
            course_list.append(line("GET", "/api/v1/courses?" + "&".join(picked)))
        scenarios["course_list"] = course_list
        scenarios["course_detail"] = [
            line("GET", f"/api/v1/courses/{rng.choice(catalogue)[0]}", students[i % len(students)][1]) for i in range(N)
        ]
        scenarios["my_enrolments"] = [
            line("GET", "/api/v1/courses/enrolled?page_size=20", tok) for _, tok in students for _ in range(5)
        ]
        # Writes, each line once: complete an open lesson of an active enrolment; enrol in a free course.
        learners = tokens_for("student", 1000)
        tok_of = {u.pk: tok for u, tok in learners}
        open_enrolments = list(
            Enrolment.objects.filter(student__in=list(tok_of), status="active", course__published=True).values_list(
                "id", "course_id", "student_id"
            )
        )
        done = set(
            LessonCompletion.objects.filter(enrolment_id__in=[e[0] for e in open_enrolments]).values_list(
                "enrolment_id", "lesson_id"
            )
        )
        lessons_of: dict = {}
        for lid, cid in Lesson.objects.filter(course_id__in={e[1] for e in open_enrolments}).values_list("id", "course_id"):
            lessons_of.setdefault(cid, []).append(lid)
        complete = [
            line("POST", f"/api/v1/courses/{cid}/lessons/{lid}/complete", tok_of[sid])
            for eid, cid, sid in open_enrolments
            for lid in lessons_of.get(cid, [])
            if (eid, lid) not in done
        ]
        rng.shuffle(complete)  # spread over students and courses, as real traffic would be
        scenarios["lesson_complete"] = complete
        enrolled = set(Enrolment.objects.filter(student__in=list(tok_of)).values_list("student_id", "course_id"))
        free = [(c[0], c[3]) for c in catalogue if c[2] == 0]
        enrol_lines = [
            line("POST", f"/api/v1/courses/{cid}/enrol", tok)
            for u, tok in learners
            for cid, tutor_id in rng.sample(free, min(len(free), 30))
            if (u.pk, cid) not in enrolled and tutor_id != u.pk
        ]
        rng.shuffle(enrol_lines)
        scenarios["course_enrol_free"] = enrol_lines
    if apps.is_installed("modules.payments"):
        from modules.payments.models import Account, Payment

        # Tutors with money: balances and the first page of entries, alternately; payers' own payments.
        earners = list(
            User.objects.filter(pk__in=Account.objects.filter(kind="tutor_available").values("owner_id")).order_by("email")[:200]
        )
        wallet = []
        for u in earners:
            tok = issue_access_token(u)
            wallet += [
                line("GET", "/api/v1/payments/wallet", tok),
                line("GET", "/api/v1/payments/wallet/entries?page_size=20", tok),
            ]
        scenarios["wallet"] = wallet * 3
        payers = set(Payment.objects.filter(payer__in=[u for u, _ in students]).values_list("payer_id", flat=True))
        scenarios["my_payments"] = [
            line("GET", "/api/v1/payments/mine?page_size=20", tok) for u, tok in students if u.pk in payers for _ in range(5)
        ]
    for name, lines in scenarios.items():
        (out / f"{name}.tsv").write_text("\n".join(lines) + "\n")
        print(f"  {name}: {len(lines)} request lines")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
