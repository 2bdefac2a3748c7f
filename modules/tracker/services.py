"""The tracker's domain operations: check_* validate and raise core errors, do_* change and publish."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import Conflict, NotFound, ValidationFailed
from core.events import publish
from core.models import User
from core.permissions import get_owned
from modules.tracker import grading
from modules.tracker.events import (
    AssignmentCompleted,
    PlanCompleted,
    ResultRecorded,
    ResultsImported,
)
from modules.tracker.models import (
    AssessmentType,
    Assignment,
    AssignmentStatus,
    Course,
    OnboardingStep,
    PlanStatus,
    Preferences,
    Result,
    StudyPlan,
    StudySession,
    Timetable,
    TimetableClass,
)

DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def invalid(field: str, message: str, code: str = "validation_error") -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}", code=code, errors=[{"field": field, "loc": [field], "message": message, "type": code}]
    )


# --- preferences, zone, onboarding -------------------------------------------------------------


def get_prefs(user: User) -> Preferences:
    prefs = getattr(user, "_tracker_prefs", None)
    if prefs is None:
        try:
            with transaction.atomic():
                prefs, _ = Preferences.objects.get_or_create(user=user)
        except IntegrityError:  # two first requests at once: the other one created it
            prefs = Preferences.objects.get(user=user)
        user._tracker_prefs = prefs  # type: ignore[attr-defined]
    return prefs


def zone_for(user: User, prefs: Preferences | None = None) -> ZoneInfo:
    name = (prefs.time_zone if prefs is not None else "") or user.timezone or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def user_zone(user: User) -> ZoneInfo:
    return zone_for(user, get_prefs(user))


def local_today(user: User, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(user_zone(user)).date()


def do_update_prefs(user: User, **changes: Any) -> Preferences:
    prefs = get_prefs(user)
    if changes.get("time_zone"):
        try:
            ZoneInfo(changes["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise invalid("time_zone", "Not a known IANA time zone") from None
    for key, value in changes.items():
        if value is None and key not in ("target_gpa", "time_zone"):
            continue  # an explicit null leaves a required setting as it is
        setattr(prefs, key, value or "" if key == "time_zone" else value)
    prefs.save()
    return prefs


ONBOARDING_ORDER = [OnboardingStep.PROFILE, OnboardingStep.COURSES, OnboardingStep.TIMETABLE, OnboardingStep.DONE]


def do_set_onboarding(user: User, step: str) -> Preferences:
    prefs = get_prefs(user)
    prefs.onboarding_step = step
    prefs.onboarding_completed_at = timezone.now() if step == OnboardingStep.DONE else None
    prefs.save(update_fields=["onboarding_step", "onboarding_completed_at", "updated_at"])
    return prefs


def grading_bands(user: User) -> list[grading.Band]:
    return grading.parse_scale(get_prefs(user).grading_scale)


def do_set_grading_scale(user: User, scale: list[dict[str, Any]] | None) -> list[grading.Band]:
    """Replace the user's scale (None: back to the default) and re-grade every stored result."""
    if scale is not None:
        try:
            bands = grading.validate_scale(scale)
        except (ValueError, InvalidOperation, KeyError) as exc:
            raise invalid("bands", str(exc) or "Not a valid grading scale") from None
    else:
        bands = grading.parse_scale(None)
    with transaction.atomic():
        prefs = get_prefs(user)
        prefs.grading_scale = grading.scale_to_json(bands) if scale is not None else None
        prefs.save(update_fields=["grading_scale", "updated_at"])
        results = list(Result.objects.filter(user=user).only("id", "percentage", "grade"))
        for r in results:
            r.grade = grading.band_for(r.percentage, bands).letter
        Result.objects.bulk_update(results, ["grade"], batch_size=1000)
    return bands


# --- courses ----------------------------------------------------------------------------------------


def live_courses(user: User) -> QuerySet[Course]:
    return Course.objects.filter(user=user, deleted_at__isnull=True)


def get_course(user: User, course_id: Any) -> Course:
    return get_owned(Course.objects.filter(deleted_at__isnull=True), user=user, id=course_id)


def do_create_course(user: User, **fields: Any) -> Course:
    get_prefs(user)
    course = Course.objects.create(user=user, **fields)
    prefs = get_prefs(user)
    if prefs.onboarding_step == OnboardingStep.PROFILE:
        do_set_onboarding(user, OnboardingStep.COURSES)
    return course


def do_update_course(user: User, course: Course, **changes: Any) -> Course:
    for key, value in changes.items():
        setattr(course, key, value)
    course.save()
    return course


def do_delete_course(user: User, course: Course) -> None:
    course.deleted_at = timezone.now()
    course.is_active = False
    course.save(update_fields=["deleted_at", "is_active", "updated_at"])


# --- results ----------------------------------------------------------------------------------------


def check_score(score: Decimal, max_score: Decimal) -> None:
    if max_score <= 0:
        raise invalid("max_score", "The maximum score must be greater than 0")
    if score < 0:
        raise invalid("score", "The score cannot be negative")
    if score > max_score:
        raise invalid("score", "The score cannot exceed the maximum score")


def _fill_derived(result: Result, bands: Sequence[grading.Band]) -> None:
    result.percentage = grading.percentage(result.score, result.max_score)
    result.grade = grading.band_for(result.percentage, bands).letter


def do_create_result(user: User, *, course: Course, **fields: Any) -> Result:
    check_score(fields["score"], fields.get("max_score") or Decimal(100))
    fields.setdefault("max_score", Decimal(100))
    fields["semester"] = fields.get("semester") or course.semester
    result = Result(user=user, course=course, **fields)
    _fill_derived(result, grading_bands(user))
    result.save()
    publish(ResultRecorded(user_id=user.pk, result_id=result.pk, course_id=course.pk, percentage=str(result.percentage)))
    return result


def do_update_result(user: User, result: Result, **changes: Any) -> Result:
    for key, value in changes.items():
        setattr(result, key, value)
    check_score(result.score, result.max_score)
    _fill_derived(result, grading_bands(user))
    result.save()
    return result


CSV_COLUMNS = ("course_code", "assessment_type", "assessment_name", "score", "max_score", "date", "weight", "semester", "notes")
MAX_IMPORT_ROWS = 20_000


def _parse_decimal(raw: str, name: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"{name} is not a number: {raw!r}") from None
    if not value.is_finite() or abs(value) >= Decimal("100000"):
        raise ValueError(f"{name} is out of range: {raw!r}")
    return value.quantize(grading.TWO)


def insert_many(model: type[Any], objs: list[Any]) -> None:
    """bulk_create, except on SQLite, where Django caps a batch at 999 parameters (66 results): there
    one executemany statement inserts every row, so a 5,000-row import stays a handful of queries."""
    from modules.tracker.apps import tracker_changed

    tracker_changed(*{getattr(o, "user_id", None) for o in objs})  # bulk inserts send no signals
    if connection.vendor != "sqlite":
        model.objects.bulk_create(objs, batch_size=1000)
        return
    fields = list(model._meta.concrete_fields)
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    params = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def import_results_csv(user: User, data: bytes, *, all_or_nothing: bool = False) -> dict[str, Any]:
    """Import results from CSV (header row required; row numbers count the header as row 1).

    Course codes resolve in one query; good rows go in with bulk_create. With all_or_nothing, any
    refused row means nothing is imported."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid("file", "The file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("course_code", "assessment_type", "score", "date") if c not in header]
    if missing:
        raise invalid("file", f"The header lacks the column(s): {', '.join(missing)}", code="csv_header")
    reader.fieldnames = header
    courses: dict[str, Course] = {}
    for course in live_courses(user).order_by("is_active", "created_at"):  # active and newest win
        courses[course.code.strip().upper()] = course
    bands = grading_bands(user)
    valid_types = set(AssessmentType.values)
    good: list[Result] = []
    refused: list[dict[str, Any]] = []
    for index, row in enumerate(reader):
        row_no = index + 2
        if index >= MAX_IMPORT_ROWS:
            raise invalid("file", f"At most {MAX_IMPORT_ROWS} rows per import", code="csv_too_many_rows")
        try:
            code = (row.get("course_code") or "").strip().upper()
            course = courses.get(code)
            if course is None:
                raise ValueError(f"unknown course code {code!r}")
            kind = (row.get("assessment_type") or "").strip().lower()
            if kind not in valid_types:
                raise ValueError(f"unknown assessment type {kind!r}")
            score = _parse_decimal(row.get("score") or "", "score")
            max_score = _parse_decimal(row.get("max_score") or "100", "max_score")
            if max_score <= 0:
                raise ValueError("max_score must be greater than 0")
            if score < 0:
                raise ValueError("score cannot be negative")
            if score > max_score:
                raise ValueError(f"score {score} exceeds max_score {max_score}")
            raw_date = (row.get("date") or "").strip()
            try:
                date = dt.date.fromisoformat(raw_date)
            except ValueError:
                raise ValueError(f"date is not YYYY-MM-DD: {raw_date!r}") from None
            raw_weight = (row.get("weight") or "").strip()
            weight = _parse_decimal(raw_weight, "weight") if raw_weight else None
            if weight is not None and not (0 <= weight <= 100):
                raise ValueError("weight must lie between 0 and 100")
            result = Result(
                user=user,
                course=course,
                assessment_type=kind,
                name=(row.get("assessment_name") or "").strip()[:255],
                score=score,
                max_score=max_score,
                weight=weight,
                date=date,
                semester=((row.get("semester") or "").strip() or course.semester)[:100],
                notes=(row.get("notes") or "").strip(),
            )
            _fill_derived(result, bands)
            good.append(result)
        except ValueError as exc:
            refused.append({"row": row_no, "reason": str(exc)})
    imported = 0
    if good and not (all_or_nothing and refused):
        with transaction.atomic():
            insert_many(Result, good)
            publish(ResultsImported(user_id=user.pk, imported=len(good), refused=len(refused)))
        imported = len(good)
    return {
        "imported": imported,
        "refused": refused,
        "total_rows": len(good) + len(refused),
        "all_or_nothing": all_or_nothing,
        "rolled_back": bool(all_or_nothing and refused),
    }


# --- GPA --------------------------------------------------------------------------------------------


def _marks_and_courses(user: User) -> tuple[list[grading.Mark], dict[Any, Course]]:
    """Two queries: the user's live courses, and their results."""
    courses = {c.id: c for c in live_courses(user)}
    rows = Result.objects.filter(user=user, course_id__in=list(courses)).values_list(
        "course_id", "semester", "percentage", "weight", "date"
    )
    rows = sorted(rows, key=lambda r: r[4])
    marks = [grading.Mark(cid, sem, pct, w) for cid, sem, pct, w, _ in rows]
    return marks, courses


def gpa_summary(
    user: User, *, marks: list[grading.Mark] | None = None, courses: dict[Any, Course] | None = None
) -> dict[str, Any]:
    """Per-semester (credit-weighted) GPA, cumulative GPA, trend and per-course averages."""
    if marks is None or courses is None:
        marks, courses = _marks_and_courses(user)
    bands = grading_bands(user)
    grades = grading.course_grades(marks, {cid: c.credits for cid, c in courses.items()}, bands)
    # Semesters in the order their first result appeared (marks are sorted by date).
    order: list[str] = []
    for m in marks:
        if m.semester not in order:
            order.append(m.semester)
    semesters = []
    for sem in order:
        sem_grades = [g for g in grades if g.semester == sem]
        gpa = grading.weighted_gpa(sem_grades)
        semesters.append(
            {
                "semester": sem,
                "gpa": grading.q2(gpa) if gpa is not None else None,
                "credits": sum(g.credits for g in sem_grades),
                "courses": [
                    {
                        "course_id": g.course_id,
                        "code": courses[g.course_id].code,
                        "name": courses[g.course_id].name,
                        "credits": g.credits,
                        "average": grading.q2(g.average),
                        "grade": g.band.letter,
                        "points": g.band.points,
                    }
                    for g in sem_grades
                ],
            }
        )
    cumulative = grading.weighted_gpa(grades)
    sem_values = [s["gpa"] for s in semesters if s["gpa"] is not None]
    return {
        "semesters": semesters,
        "current": sem_values[-1] if sem_values else None,
        "cumulative": grading.q2(cumulative) if cumulative is not None else None,
        "trend": grading.trend_of(sem_values),
        "credits": sum(g.credits for g in grades),
    }


def course_standing(user: User, course: Course, target: str | None = None) -> dict[str, Any]:
    """A course's weighted average, letter, and what the remaining weight needs for ``target``
    (a letter of the user's scale or a percentage)."""
    bands = grading_bands(user)
    rows = Result.objects.filter(user=user, course=course).values_list("semester", "percentage", "weight")
    marks = [grading.Mark(course.id, sem, pct, w) for sem, pct, w in rows]
    avg = grading.course_average(marks)
    out: dict[str, Any] = {
        "course_id": course.id,
        "results_count": len(marks),
        "average": grading.q2(avg) if avg is not None else None,
        "grade": grading.band_for(grading.q2(avg), bands).letter if avg is not None else None,
        "target": None,
    }
    if target:
        by_letter = {b.letter.upper(): b for b in bands}
        if target.upper() in by_letter:
            target_pct = by_letter[target.upper()].min
        else:
            try:
                target_pct = Decimal(target)
            except InvalidOperation:
                raise invalid("target", "Give a letter of your grading scale or a percentage") from None
            if not 0 <= target_pct <= 100:
                raise invalid("target", "A target percentage lies between 0 and 100")
        out["target"] = {"target": target, "target_percentage": grading.q2(target_pct), **grading.needed_score(marks, target_pct)}
    return out


# --- plans and conflicts ----------------------------------------------------------------------------


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def prd_day(date: dt.date) -> int:
    """0=Sunday .. 6=Saturday, as TimetableClass.day_of_week."""
    return (date.weekday() + 1) % 7


def find_conflicts(
    user: User, *, date: dt.date, start_time: dt.time, minutes: int, exclude_plan_id: Any = None
) -> list[dict[str, Any]]:
    """Timetable classes (active timetables) and open plans that overlap the given block. Two queries."""
    start = _minutes(start_time)
    end = start + minutes
    conflicts: list[dict[str, Any]] = []
    classes = TimetableClass.objects.filter(
        timetable__user=user, timetable__is_active=True, day_of_week=prd_day(date), course__deleted_at__isnull=True
    ).select_related("course")
    for c in classes:
        if _minutes(c.start_time) < end and start < _minutes(c.end_time):
            conflicts.append(
                {
                    "type": "class",
                    "id": c.id,
                    "course_id": c.course_id,
                    "course_name": c.course.name,
                    "start_time": c.start_time,
                    "end_time": c.end_time,
                    "location": c.location,
                }
            )
    plans = StudyPlan.objects.filter(
        user=user, date=date, status__in=[PlanStatus.PENDING, PlanStatus.IN_PROGRESS]
    ).select_related("course")
    if exclude_plan_id:
        plans = plans.exclude(id=exclude_plan_id)
    for p in plans:
        p_start = _minutes(p.start_time)
        if p_start < end and start < p_start + p.planned_minutes:
            p_end = (dt.datetime.combine(date, p.start_time) + dt.timedelta(minutes=p.planned_minutes)).time()
            conflicts.append(
                {
                    "type": "plan",
                    "id": p.id,
                    "course_id": p.course_id,
                    "course_name": p.course.name,
                    "start_time": p.start_time,
                    "end_time": p_end,
                    "location": "",
                    "topic": p.topic,
                }
            )
    return conflicts


def do_create_plan(user: User, *, course: Course, **fields: Any) -> tuple[StudyPlan, list[dict[str, Any]]]:
    if fields["date"] < local_today(user):
        raise invalid("date", "A plan's date cannot be in the past")
    plan = StudyPlan.objects.create(user=user, course=course, **fields)
    conflicts = find_conflicts(
        user, date=plan.date, start_time=plan.start_time, minutes=plan.planned_minutes, exclude_plan_id=plan.id
    )
    return plan, conflicts


def do_update_plan(user: User, plan: StudyPlan, **changes: Any) -> tuple[StudyPlan, list[dict[str, Any]]]:
    if plan.status in (PlanStatus.COMPLETED, PlanStatus.MISSED) and set(changes) - {"notes", "status"}:
        raise Conflict("A completed or missed plan cannot be rescheduled", code="plan_closed")
    if "date" in changes and changes["date"] != plan.date and changes["date"] < local_today(user):
        raise invalid("date", "A plan cannot be moved into the past")
    for key, value in changes.items():
        setattr(plan, key, value)
    plan.save()
    conflicts = find_conflicts(
        user, date=plan.date, start_time=plan.start_time, minutes=plan.planned_minutes, exclude_plan_id=plan.id
    )
    return plan, conflicts


def do_complete_plan(
    user: User, plan: StudyPlan, *, actual_minutes: int | None, notes: str | None, now: dt.datetime | None = None
) -> StudyPlan:
    """Complete a plan. When no session was logged for it, the actual minutes become one, so study
    hours have a single source (sessions)."""
    now = now or timezone.now()
    if plan.status == PlanStatus.COMPLETED:
        raise Conflict("This plan is already completed", code="plan_completed")
    with transaction.atomic():
        plan.status = PlanStatus.COMPLETED
        plan.completed_at = now
        logged = sum(s.duration_minutes for s in plan.sessions.filter(ended_at__isnull=False))
        plan.actual_minutes = actual_minutes if actual_minutes is not None else (logged or plan.planned_minutes)
        if notes is not None:
            plan.notes = notes
        plan.save()
        if not logged and plan.actual_minutes:
            StudySession.objects.create(
                user=user,
                plan=plan,
                course=plan.course,
                started_at=now - dt.timedelta(minutes=plan.actual_minutes),
                ended_at=now,
                duration_minutes=plan.actual_minutes,
                notes="Logged when the plan was completed",
            )
        publish(PlanCompleted(user_id=user.pk, plan_id=plan.pk, course_id=plan.course_id, actual_minutes=plan.actual_minutes))
    return plan


# --- timetable --------------------------------------------------------------------------------------


def check_class(start: dt.time, end: dt.time, day: int) -> None:
    if not 0 <= day <= 6:
        raise invalid("day_of_week", "0 (Sunday) to 6 (Saturday)")
    if end <= start:
        raise invalid("end_time", "A class ends after it starts")


def _courses_by_id(user: User, ids: Iterable[Any]) -> dict[Any, Course]:
    ids = set(ids)
    found = {c.id: c for c in live_courses(user).filter(id__in=ids)}
    missing = ids - set(found)
    if missing:
        raise NotFound("No course with that id, or you may not see it")
    return found


def do_save_timetable(
    user: User, *, semester: str, academic_year: str, is_active: bool, classes: list[dict[str, Any]] | None
) -> Timetable:
    """Create the semester's timetable or update it; ``classes`` (when given) replace the old ones."""
    from modules.tracker.apps import tracker_changed

    with transaction.atomic():
        tracker_changed(user.pk)  # classes are replaced in bulk, without signals
        tt, _ = Timetable.objects.get_or_create(
            user=user, semester=semester, academic_year=academic_year, defaults={"is_active": is_active}
        )
        if tt.is_active != is_active:
            tt.is_active = is_active
            tt.save(update_fields=["is_active", "updated_at"])
        if is_active:
            Timetable.objects.filter(user=user, is_active=True).exclude(id=tt.id).update(is_active=False)
        if classes is not None:
            courses = _courses_by_id(user, [c["course_id"] for c in classes])
            for c in classes:
                check_class(c["start_time"], c["end_time"], c["day_of_week"])
            tt.classes.all().delete()
            TimetableClass.objects.bulk_create(
                [TimetableClass(timetable=tt, course=courses[c.pop("course_id")], **c) for c in classes]
            )
        prefs = get_prefs(user)
        if prefs.onboarding_step in (OnboardingStep.PROFILE, OnboardingStep.COURSES) and tt.classes.exists():
            do_set_onboarding(user, OnboardingStep.TIMETABLE)
    return tt


def do_add_class(user: User, timetable: Timetable, **fields: Any) -> TimetableClass:
    course = get_course(user, fields.pop("course_id"))
    check_class(fields["start_time"], fields["end_time"], fields["day_of_week"])
    return TimetableClass.objects.create(timetable=timetable, course=course, **fields)


def do_update_class(user: User, klass: TimetableClass, **changes: Any) -> TimetableClass:
    if "course_id" in changes:
        klass.course = get_course(user, changes.pop("course_id"))
    for key, value in changes.items():
        setattr(klass, key, value)
    check_class(klass.start_time, klass.end_time, klass.day_of_week)
    klass.save()
    return klass


def current_timetable(user: User, semester: str | None = None) -> Timetable | None:
    qs = Timetable.objects.filter(user=user)
    if semester:
        return qs.filter(semester=semester).order_by("-is_active", "-created_at").first()
    return qs.order_by("-is_active", "-created_at").first()


def expand_classes(
    user: User, start: dt.date, end: dt.date, *, classes: Iterable[TimetableClass] | None = None
) -> list[dict[str, Any]]:
    """Every occurrence of the active timetables' classes for dates start..end (inclusive), in the
    user's zone, with UTC instants (zoneinfo: DST-safe)."""
    zone = user_zone(user)
    if classes is None:
        classes = TimetableClass.objects.filter(
            timetable__user=user, timetable__is_active=True, course__deleted_at__isnull=True
        ).select_related("course")
    by_day: dict[int, list[TimetableClass]] = {}
    for c in classes:
        by_day.setdefault(c.day_of_week, []).append(c)
    out = []
    day = start
    while day <= end:
        for c in by_day.get(prd_day(day), []):
            local_start = dt.datetime.combine(day, c.start_time, tzinfo=zone)
            local_end = dt.datetime.combine(day, c.end_time, tzinfo=zone)
            out.append(
                {
                    "class_id": c.id,
                    "course_id": c.course_id,
                    "course_name": c.course.name,
                    "course_code": c.course.code,
                    "color": c.course.color,
                    "date": day,
                    "day_name": DAY_NAMES[prd_day(day)],
                    "start_time": c.start_time,
                    "end_time": c.end_time,
                    "start_local": local_start.isoformat(),
                    "end_local": local_end.isoformat(),
                    "start_utc": local_start.astimezone(dt.UTC),
                    "end_utc": local_end.astimezone(dt.UTC),
                    "location": c.location,
                    "class_type": c.class_type,
                    "instructor": c.instructor or c.course.instructor,
                }
            )
        day += dt.timedelta(days=1)
    out.sort(key=lambda o: o["start_utc"])
    return out


# --- assignments ------------------------------------------------------------------------------------


def do_create_assignment(user: User, *, course: Course, **fields: Any) -> Assignment:
    if fields["due_at"] <= timezone.now():
        raise invalid("due_at", "The due date must be in the future")
    return Assignment.objects.create(user=user, course=course, **fields)


def do_update_assignment(user: User, assignment: Assignment, **changes: Any) -> Assignment:
    if "course_id" in changes:
        assignment.course = get_course(user, changes.pop("course_id"))
    for key, value in changes.items():
        setattr(assignment, key, value)
    if "due_at" in changes and assignment.status == AssignmentStatus.OVERDUE and assignment.due_at > timezone.now():
        assignment.status = AssignmentStatus.PENDING
        assignment.overdue_notified_at = None
    assignment.save()
    return assignment


def do_complete_assignment(user: User, assignment: Assignment) -> Assignment:
    if assignment.status == AssignmentStatus.COMPLETED:
        raise Conflict("This assignment is already completed", code="assignment_completed")
    assignment.status = AssignmentStatus.COMPLETED
    assignment.completed_at = timezone.now()
    assignment.save(update_fields=["status", "completed_at", "updated_at"])
    publish(AssignmentCompleted(user_id=user.pk, assignment_id=assignment.pk))
    return assignment


# --- study sessions ---------------------------------------------------------------------------------


def _duration(start: dt.datetime, end: dt.datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _session_refs(user: User, course_id: Any, plan_id: Any) -> tuple[Course | None, StudyPlan | None]:
    plan = get_owned(StudyPlan.objects.all(), user=user, id=plan_id) if plan_id else None
    course = get_course(user, course_id) if course_id else (plan.course if plan else None)
    return course, plan


def do_start_session(
    user: User, *, course_id: Any = None, plan_id: Any = None, notes: str = "", now: dt.datetime | None = None
) -> StudySession:
    course, plan = _session_refs(user, course_id, plan_id)
    try:
        with transaction.atomic():
            session = StudySession.objects.create(
                user=user, course=course, plan=plan, started_at=now or timezone.now(), notes=notes
            )
            if plan and plan.status == PlanStatus.PENDING:
                plan.status = PlanStatus.IN_PROGRESS
                plan.save(update_fields=["status", "updated_at"])
    except IntegrityError:
        raise Conflict("A timer is already running; stop it first", code="timer_running") from None
    return session


def do_stop_session(
    user: User, session: StudySession, *, notes: str | None = None, now: dt.datetime | None = None
) -> StudySession:
    if session.ended_at is not None:
        raise Conflict("This session has already stopped", code="session_stopped")
    end = now or timezone.now()
    if end <= session.started_at:
        end = session.started_at + dt.timedelta(seconds=1)
    session.ended_at = end
    session.duration_minutes = _duration(session.started_at, end)
    if notes is not None:
        session.notes = notes
    session.save()
    return session


def do_log_session(
    user: User, *, started_at: dt.datetime, ended_at: dt.datetime, course_id: Any = None, plan_id: Any = None, notes: str = ""
) -> StudySession:
    if ended_at <= started_at:
        raise invalid("ended_at", "A session ends after it starts")
    if ended_at - started_at > dt.timedelta(hours=24):
        raise invalid("ended_at", "A session lasts at most 24 hours")
    if ended_at > timezone.now() + dt.timedelta(minutes=5):
        raise invalid("ended_at", "A logged session cannot end in the future")
    course, plan = _session_refs(user, course_id, plan_id)
    return StudySession.objects.create(
        user=user,
        course=course,
        plan=plan,
        started_at=started_at,
        ended_at=ended_at,
        duration_minutes=_duration(started_at, ended_at),
        notes=notes,
    )


# --- calendar token ---------------------------------------------------------------------------------


def do_rotate_ics_token(user: User) -> str:
    prefs = get_prefs(user)
    prefs.ics_token = secrets.token_urlsafe(32)
    prefs.save(update_fields=["ics_token", "updated_at"])
    return prefs.ics_token


def do_revoke_ics_token(user: User) -> None:
    prefs = get_prefs(user)
    prefs.ics_token = None
    prefs.save(update_fields=["ics_token", "updated_at"])


def owner_filter(user: User) -> Q:
    return Q(user=user)
