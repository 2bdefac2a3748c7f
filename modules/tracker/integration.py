"""What the tracker contributes to core and to other modules: notification templates, ports and
hooks (GDPR export and erasure, admin figures, demo data). Called from TrackerConfig.ready()."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.errors import NotFound
from core.models import User
from core.notify import register_template
from core.registry import HOOKS, UserExport, hooks, ports

LABEL = "tracker"


def register() -> None:
    register_templates()
    ports.register("tracker.busy_times", busy_times)
    ports.register("tracker.coach_context", coach_context)
    ports.register("tracker.timetable_import", TimetableImport())
    hooks.register(HOOKS.USER_EXPORT, LABEL, export_user)
    hooks.register(HOOKS.USER_ERASE, LABEL, erase_user)
    hooks.register(HOOKS.ADMIN_FIGURES, LABEL, admin_figures)
    hooks.register(HOOKS.DEMO_DATA, LABEL, demo_data)
    hooks.register(HOOKS.INTEGRITY_CHECKS, LABEL, integrity_checks)


def register_templates() -> None:
    register_template(
        "tracker.morning_plan",
        category="study_reminders",
        subject="Your study plan for {{ date }}: {{ plans|length }} session{{ plans|length|pluralize }}, {{ total_hours }} h",
        text=(
            "Good morning {{ user.first_name|default:'there' }},\n\nToday ({{ date }}) you planned {{ total_hours }} hours:\n"
            "{% for p in plans %}- {{ p.time }} {{ p.course }}: {{ p.topic }} ({{ p.minutes }} min)\n{% endfor %}"
            "\nSmall steps every day add up.\n"
        ),
    )
    register_template(
        "tracker.plan_reminder",
        category="study_reminders",
        subject="Plan tomorrow's study ({{ tomorrow }})",
        text="Hello {{ user.first_name|default:'there' }},\n\nYou have no study plan for tomorrow ({{ tomorrow }}) yet. Take two minutes to set one.\n",
    )
    register_template(
        "tracker.assignment_overdue",
        category="study_reminders",
        subject="Overdue: {{ title }} ({{ course }})",
        text="Hello {{ user.first_name|default:'there' }},\n\nThe assignment \"{{ title }}\" for {{ course }} was due at {{ due_at }} (UTC) and is not marked complete.\n",
    )
    register_template(
        "tracker.weekly_report",
        category="reports",
        subject="Your weekly study report, {{ week_start }} to {{ week_end }}",
        text=(
            "Hello {{ user.first_name|default:'there' }},\n\nThis week you studied {{ hours }} h of {{ planned }} h planned "
            "(plan completion {{ completion_rate }} %). Performance trend: {{ trend }}.\n"
            "{% if insights %}\nInsights:\n{% for line in insights %}- {{ line }}\n{% endfor %}{% endif %}"
            "\nThe full report is attached as a PDF.\n"
        ),
    )


# --- ports ------------------------------------------------------------------------------------------


BUSY_WINDOW_DAYS = 16


def busy_times(user: User, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Timetable classes between two instants, expanded in the user's zone, as UTC intervals.

    The coach asks on every message for the next 14 days: the classes from yesterday to 16 days on
    (UTC days) are cached per student until their tracker data changes (classes, timetables and
    preferences, the zone included) or a minute passes; wider ranges are expanded afresh. A hit reads
    neither the preferences nor the timetable."""
    from django.core.cache import cache

    from core.cache import versioned_key
    from modules.tracker.apps import tracker_data_namespace

    midnight = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window = (midnight - dt.timedelta(days=1), midnight + dt.timedelta(days=BUSY_WINDOW_DAYS))
    if not (window[0] <= start and end <= window[1]):
        return _expand_busy(user, start, end)
    key = versioned_key(tracker_data_namespace(user.pk), "busy", user.timezone, window[0].date().isoformat())
    spans = cache.get(key)
    if spans is None:
        spans = _expand_busy(user, *window)
        cache.set(key, spans, 60)
    return [(a, b) for a, b in spans if a < end and b > start]


def _expand_busy(user: User, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    from modules.tracker.services import expand_classes, user_zone

    zone = user_zone(user)
    first = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    return [
        (o["start_utc"], o["end_utc"]) for o in expand_classes(user, first, last) if o["start_utc"] < end and o["end_utc"] > start
    ]


def coach_context(user: User) -> dict[str, Any]:
    """Cached per student until their tracker data changes (or a minute passes: due dates move)."""
    from django.core.cache import cache

    from core.cache import versioned_key
    from modules.tracker.apps import tracker_data_namespace
    from modules.tracker.selectors import coach_context as build

    key = versioned_key(tracker_data_namespace(user.pk), "coach")
    found = cache.get(key)
    if found is None:
        found = build(user)
        cache.set(key, found, 60)
    return found


class TimetableImport:
    """What the OCR import module calls to turn recognised classes into timetable rows."""

    def get_or_create_current_timetable(self, user: User, timetable_id: Any = None) -> Any:
        from modules.tracker.models import Timetable
        from modules.tracker.services import current_timetable, live_courses

        if timetable_id:
            tt = Timetable.objects.filter(user=user, id=timetable_id).first()
            if tt is None:
                raise NotFound("No timetable with that id, or you may not see it")
            return tt.id
        tt = current_timetable(user)
        if tt is None:
            semester = (
                live_courses(user).filter(is_active=True).values_list("semester", flat=True).order_by("-created_at").first()
            )
            tt, _ = Timetable.objects.get_or_create(user=user, semester=semester or "Current semester", academic_year="")
        return tt.id

    def list_courses(self, user: User) -> list[dict[str, Any]]:
        from modules.tracker.services import live_courses

        return [{"id": c.id, "name": c.name, "code": c.code} for c in live_courses(user).order_by("code")]

    def create_classes(
        self, user: User, timetable_id: Any, classes: list[dict[str, Any]], create_missing_courses: bool = False
    ) -> list[dict[str, Any]]:
        """Each class: course_id or course_name/course_code, day_of_week (0=Sunday), start_time, end_time,
        location, class_type, instructor. All or nothing."""
        from modules.tracker.models import ClassType, Course, Timetable, TimetableClass
        from modules.tracker.services import check_class, invalid, live_courses

        with transaction.atomic():
            tt = Timetable.objects.filter(user=user, id=timetable_id).first()
            if tt is None:
                raise NotFound("No timetable with that id, or you may not see it")
            courses = list(live_courses(user))
            by_id = {str(c.id): c for c in courses}
            by_key = {k.strip().upper(): c for c in courses for k in (c.code, c.name) if k}
            rows = []
            for i, raw in enumerate(classes):
                course = by_id.get(str(raw.get("course_id"))) if raw.get("course_id") else None
                if course is None:
                    for k in (raw.get("course_code"), raw.get("course_name")):
                        if k and k.strip().upper() in by_key:
                            course = by_key[k.strip().upper()]
                            break
                if course is None:
                    name = (raw.get("course_name") or raw.get("course_code") or "").strip()
                    if not (create_missing_courses and name):
                        raise invalid(f"classes.{i}.course", "No matching course")
                    course = Course.objects.create(
                        user=user,
                        name=name[:255],
                        code=(raw.get("course_code") or name)[:50],
                        semester=tt.semester,
                        academic_year=tt.academic_year,
                    )
                    by_key[name.upper()] = course
                    if raw.get("course_code"):
                        by_key[raw["course_code"].strip().upper()] = course
                start, end = _as_time(raw.get("start_time")), _as_time(raw.get("end_time"))
                day = int(raw.get("day_of_week", -1))
                check_class(start, end, day)
                kind = raw.get("class_type") or ClassType.LECTURE
                rows.append(
                    TimetableClass(
                        timetable=tt,
                        course=course,
                        day_of_week=day,
                        start_time=start,
                        end_time=end,
                        location=(raw.get("location") or "")[:255],
                        class_type=kind if kind in ClassType.values else ClassType.LECTURE,
                        instructor=(raw.get("instructor") or "")[:255],
                    )
                )
            TimetableClass.objects.bulk_create(rows)
            from modules.tracker.apps import tracker_changed

            tracker_changed(user.pk)
        return [
            {
                "id": r.id,
                "course_id": r.course_id,
                "course_name": r.course.name,
                "day_of_week": r.day_of_week,
                "start_time": r.start_time,
                "end_time": r.end_time,
                "location": r.location,
                "class_type": r.class_type,
                "instructor": r.instructor,
            }
            for r in rows
        ]


def _as_time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        from modules.tracker.services import invalid

        raise invalid("start_time", f"Not a time: {value!r}") from None


# --- hooks ------------------------------------------------------------------------------------------


def _rows(qs: Any, *fields: str) -> list[dict[str, Any]]:
    def conv(v: Any) -> Any:
        if isinstance(v, dt.datetime | dt.date | dt.time):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        if hasattr(v, "hex"):
            return str(v)
        return v

    return [{k: conv(v) for k, v in row.items()} for row in qs.values(*fields)]


def export_user(user: User) -> UserExport:
    from modules.tracker import models as m

    prefs = m.Preferences.objects.filter(user=user)
    reports = m.WeeklyReport.objects.filter(user=user).exclude(pdf_name="").order_by("week_start")
    files: list[tuple[str, Any]] = [(f"weekly-reports/{r.week_start.isoformat()}.pdf", r.pdf_name) for r in reports]
    data = {
        "preferences": _rows(
            prefs,
            "morning_email_time",
            "reminder_time",
            "email_enabled",
            "push_enabled",
            "weekly_report_enabled",
            "weekly_report_day",
            "weekly_report_time",
            "time_zone",
            "grading_scale",
            "target_gpa",
            "onboarding_step",
        ),
        "courses": _rows(
            m.Course.objects.filter(user=user),
            "id",
            "name",
            "code",
            "credits",
            "instructor",
            "color",
            "semester",
            "academic_year",
            "description",
            "is_active",
            "deleted_at",
            "created_at",
        ),
        "results": _rows(
            m.Result.objects.filter(user=user),
            "id",
            "course_id",
            "assessment_type",
            "name",
            "score",
            "max_score",
            "percentage",
            "grade",
            "weight",
            "semester",
            "date",
            "notes",
            "created_at",
        ),
        "study_plans": _rows(
            m.StudyPlan.objects.filter(user=user),
            "id",
            "course_id",
            "topic",
            "description",
            "date",
            "start_time",
            "planned_minutes",
            "actual_minutes",
            "priority",
            "study_type",
            "status",
            "completed_at",
            "notes",
        ),
        "timetables": _rows(m.Timetable.objects.filter(user=user), "id", "semester", "academic_year", "is_active"),
        "timetable_classes": _rows(
            m.TimetableClass.objects.filter(timetable__user=user),
            "id",
            "timetable_id",
            "course_id",
            "day_of_week",
            "start_time",
            "end_time",
            "location",
            "class_type",
            "instructor",
            "notes",
        ),
        "assignments": _rows(
            m.Assignment.objects.filter(user=user),
            "id",
            "course_id",
            "title",
            "description",
            "due_at",
            "priority",
            "status",
            "completed_at",
            "notes",
        ),
        "study_sessions": _rows(
            m.StudySession.objects.filter(user=user),
            "id",
            "course_id",
            "plan_id",
            "started_at",
            "ended_at",
            "duration_minutes",
            "notes",
        ),
        "weekly_reports": _rows(
            m.WeeklyReport.objects.filter(user=user),
            "id",
            "week_start",
            "week_end",
            "total_study_hours",
            "planned_hours",
            "completion_rate",
            "performance_trend",
            "insights",
            "data",
            "generated_at",
        ),
    }
    return UserExport(data=data, files=files)


def erase_user(user: User) -> None:
    from modules.tracker import models as m

    names = list(m.WeeklyReport.objects.filter(user=user).exclude(pdf_name="").values_list("pdf_name", flat=True))
    with transaction.atomic():
        m.StudySession.objects.filter(user=user).delete()
        m.WeeklyReport.objects.filter(user=user).delete()
        m.TimetableClass.objects.filter(timetable__user=user).delete()
        m.Timetable.objects.filter(user=user).delete()
        m.Assignment.objects.filter(user=user).delete()
        m.StudyPlan.objects.filter(user=user).delete()
        m.Result.objects.filter(user=user).delete()
        m.Course.objects.filter(user=user).delete()
        m.Preferences.objects.filter(user=user).delete()

    def drop_files() -> None:
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(drop_files)


def admin_figures(months: int = 12, **_: Any) -> dict[str, Any]:
    """Core documents fn() and calls fn(months=...): accept both."""
    from modules.tracker import models as m

    since = timezone.now() - dt.timedelta(days=30)
    return {
        "results_last_months": m.Result.objects.filter(created_at__gte=timezone.now() - dt.timedelta(days=31 * months)).count(),
        "active_trackers_30d": m.StudySession.objects.filter(started_at__gte=since).values("user").distinct().count(),
        "tracker_users": m.Preferences.objects.count(),
        "courses": m.Course.objects.filter(deleted_at__isnull=True).count(),
        "results": m.Result.objects.count(),
        "plans": m.StudyPlan.objects.count(),
        "plans_missed": m.StudyPlan.objects.filter(status=m.PlanStatus.MISSED).count(),
        "assignments_overdue": m.Assignment.objects.filter(status=m.AssignmentStatus.OVERDUE).count(),
        "weekly_reports": m.WeeklyReport.objects.count(),
    }


def integrity_checks(repair: bool = False, **_: Any) -> list[dict[str, Any]]:
    """Stored percentages and letters that disagree with score / max and the owner's scale."""
    from modules.tracker import grading
    from modules.tracker import models as m

    findings: list[dict[str, Any]] = []
    scales: dict[Any, list[grading.Band]] = {
        user_id: grading.parse_scale(scale) for user_id, scale in m.Preferences.objects.values_list("user_id", "grading_scale")
    }
    default = grading.parse_scale(None)
    fixed: list[Any] = []
    for r in m.Result.objects.only("id", "user_id", "score", "max_score", "percentage", "grade").iterator(chunk_size=2000):
        pct = grading.percentage(r.score, r.max_score)
        letter = grading.band_for(pct, scales.get(r.user_id, default)).letter
        if pct != r.percentage or letter != r.grade:
            findings.append(
                {
                    "check": "result_grade",
                    "detail": f"result {r.id}: stored {r.percentage}/{r.grade}, expected {pct}/{letter}",
                    "repaired": repair,
                }
            )
            if repair:
                r.percentage, r.grade = pct, letter
                fixed.append(r)
    if fixed:
        m.Result.objects.bulk_update(fixed, ["percentage", "grade"], batch_size=500)
    return findings


DEMO_COURSES = [
    ("CS201", "Data Structures & Algorithms", 4, "orange", "Dr. Sarah Johnson"),
    ("MA202", "Linear Algebra", 3, "blue", "Prof. Ivan Petrov"),
    ("NET301", "Computer Networks", 3, "green", "Dr. Amal Haddad"),
]


def demo_data(users: dict[str, User]) -> str:
    """Idempotent: a user who already has tracker courses is left alone."""
    from modules.tracker import models as m
    from modules.tracker.services import do_create_result, get_prefs

    made = []
    today = timezone.now().date()
    for email in ("student1@demo.local", "student2@demo.local"):
        user = users.get(email)
        if user is None or m.Course.objects.filter(user=user).exists():
            continue
        with transaction.atomic():
            get_prefs(user)
            courses = [
                m.Course.objects.create(
                    user=user,
                    code=code,
                    name=name,
                    credits=cr,
                    color=color,
                    instructor=ins,
                    semester="Spring 2026",
                    academic_year="2025-2026",
                )
                for code, name, cr, color, ins in DEMO_COURSES
            ]
            old = m.Course.objects.create(
                user=user,
                code="CS101",
                name="Intro to Programming",
                credits=4,
                semester="Fall 2025",
                academic_year="2025-2026",
                is_active=False,
            )
            do_create_result(
                user,
                course=old,
                assessment_type="final",
                name="Final exam",
                score=Decimal(88),
                max_score=Decimal(100),
                weight=Decimal(100),
                date=today - dt.timedelta(days=150),
            )
            for i, course in enumerate(courses):
                do_create_result(
                    user,
                    course=course,
                    assessment_type="quiz",
                    name="Quiz 1",
                    score=Decimal(16 + i),
                    max_score=Decimal(20),
                    weight=Decimal(10),
                    date=today - dt.timedelta(days=40 - i),
                )
                do_create_result(
                    user,
                    course=course,
                    assessment_type="midterm",
                    name="Midterm",
                    score=Decimal(70 + 7 * i),
                    max_score=Decimal(100),
                    weight=Decimal(30),
                    date=today - dt.timedelta(days=20 - i),
                )
            tt = m.Timetable.objects.create(user=user, semester="Spring 2026", academic_year="2025-2026")
            for i, course in enumerate(courses):
                m.TimetableClass.objects.create(
                    timetable=tt,
                    course=course,
                    day_of_week=1 + i,
                    start_time=dt.time(10),
                    end_time=dt.time(11, 30),
                    location=f"Room {301 + i}",
                    instructor=course.instructor,
                )
            for i, course in enumerate(courses):
                m.StudyPlan.objects.create(
                    user=user,
                    course=course,
                    topic=f"Week review {i + 1}",
                    date=today + dt.timedelta(days=i),
                    start_time=dt.time(14),
                    planned_minutes=90,
                    priority="high" if i == 0 else "medium",
                )
                m.Assignment.objects.create(
                    user=user, course=course, title=f"Problem set {i + 1}", due_at=timezone.now() + dt.timedelta(days=3 + 2 * i)
                )
                start = timezone.now() - dt.timedelta(days=i + 1, hours=3)
                m.StudySession.objects.create(
                    user=user,
                    course=course,
                    started_at=start,
                    ended_at=start + dt.timedelta(minutes=60 + 15 * i),
                    duration_minutes=60 + 15 * i,
                )
        made.append(email)
    return f"tracker data for {', '.join(made)}" if made else "tracker data already present"
