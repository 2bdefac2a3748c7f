"""The tracker's HTTP API under /api/v1/tracker/. Thin: parse, find the caller's object, call a service."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Count, Prefetch, Q, Sum
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from core.api.errors import error_responses
from core.api.pagination import Page, PageQuery, paginate
from core.errors import NotFound
from core.files import validate_upload
from core.permissions import current_user, get_owned
from modules.tracker import grading, selectors, services
from modules.tracker.ics import build_calendar
from modules.tracker.models import (
    Assignment,
    AssignmentStatus,
    PlanStatus,
    Preferences,
    Result,
    StudyPlan,
    StudySession,
    Timetable,
    TimetableClass,
    WeeklyReport,
)
from modules.tracker.schemas import (
    ActivityOut,
    AssignmentFilters,
    AssignmentIn,
    AssignmentOut,
    AssignmentPatch,
    CalendarTokenOut,
    ClassIn,
    ClassOut,
    ClassPatch,
    ConflictCheckIn,
    ConflictCheckOut,
    CourseDetailOut,
    CourseFilters,
    CourseIn,
    CourseOut,
    CoursePatch,
    CurrentTimetableQuery,
    DashboardOut,
    GpaOut,
    GradingScaleIn,
    GradingScaleOut,
    ImportReport,
    OccurrenceOut,
    OnboardingIn,
    OnboardingOut,
    PlanCompleteIn,
    PlanFilters,
    PlanIn,
    PlanOut,
    PlanPage,
    PlanPatch,
    PlanWithConflicts,
    PreferencesOut,
    PreferencesPatch,
    ReportGenerateIn,
    ReportOut,
    ResultFilters,
    ResultIn,
    ResultOut,
    ResultPatch,
    SessionFilters,
    SessionLogIn,
    SessionOut,
    SessionStartIn,
    SessionStopIn,
    StandingOut,
    StandingQuery,
    StreakOut,
    TimetableIn,
    TimetableOut,
    WeekOut,
)

router = Router(tags=["tracker"])
E = error_responses


def _changes(payload: Any) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


# --- preferences, onboarding, grading scale ----------------------------------------------------------


def _prefs_out(user: Any, prefs: Preferences) -> dict[str, Any]:
    return {
        **{
            f: getattr(prefs, f)
            for f in (
                "morning_email_time",
                "reminder_time",
                "email_enabled",
                "push_enabled",
                "weekly_report_enabled",
                "weekly_report_day",
                "weekly_report_time",
                "time_zone",
                "onboarding_step",
            )
        },
        "target_gpa": prefs.target_gpa,
        "effective_time_zone": services.zone_for(user, prefs).key,
        "onboarding_completed": prefs.onboarding_step == "done",
    }


@router.get("/preferences", response={200: PreferencesOut, **E(401)})
def get_preferences(request: HttpRequest) -> Any:
    user = current_user(request)
    return _prefs_out(user, services.get_prefs(user))


@router.patch("/preferences", response={200: PreferencesOut, **E(401, 422)})
def update_preferences(request: HttpRequest, payload: PreferencesPatch) -> Any:
    user = current_user(request)
    return _prefs_out(user, services.do_update_prefs(user, **_changes(payload)))


def _onboarding(prefs: Preferences) -> dict[str, Any]:
    return {
        "step": prefs.onboarding_step,
        "completed": prefs.onboarding_step == "done",
        "steps": [s.value for s in services.ONBOARDING_ORDER],
    }


@router.get("/onboarding", response={200: OnboardingOut, **E(401)})
def get_onboarding(request: HttpRequest) -> Any:
    return _onboarding(services.get_prefs(current_user(request)))


@router.put("/onboarding", response={200: OnboardingOut, **E(401, 422)})
def set_onboarding(request: HttpRequest, payload: OnboardingIn) -> Any:
    return _onboarding(services.do_set_onboarding(current_user(request), payload.step))


def _scale_out(user: Any) -> dict[str, Any]:
    prefs = services.get_prefs(user)
    return {"bands": grading.scale_to_json(grading.parse_scale(prefs.grading_scale)), "is_default": prefs.grading_scale is None}


@router.get("/grading-scale", response={200: GradingScaleOut, **E(401)})
def get_grading_scale(request: HttpRequest) -> Any:
    return _scale_out(current_user(request))


@router.put("/grading-scale", response={200: GradingScaleOut, **E(401, 422)})
def set_grading_scale(request: HttpRequest, payload: GradingScaleIn) -> Any:
    user = current_user(request)
    services.do_set_grading_scale(user, [b.model_dump() for b in payload.bands] if payload.bands is not None else None)
    return _scale_out(user)


# --- courses -----------------------------------------------------------------------------------------


@router.get("/courses", response={200: Page[CourseOut], **E(401, 422)})
def list_courses(request: HttpRequest, filters: Query[CourseFilters], paging: Query[PageQuery]) -> Any:
    qs = selectors.courses_with_stats(current_user(request)).order_by("-is_active", "semester", "code", "id")
    if filters.semester:
        qs = qs.filter(semester=filters.semester)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    rows, meta = paginate(qs, paging)
    return {"items": rows, **meta}


@router.post("/courses", response={201: CourseOut, **E(401, 422)})
def create_course(request: HttpRequest, payload: CourseIn) -> Any:
    return Status(201, services.do_create_course(current_user(request), **payload.model_dump()))


def _course_detail(user: Any, course: Any) -> dict[str, Any]:
    stats = selectors.course_statistics(user, course)
    out = CourseOut.from_orm(course).model_dump()
    out.update(results_count=stats["results_count"], average_percentage=stats["average_grade"], statistics=stats)
    return out


@router.get("/courses/{course_id}", response={200: CourseDetailOut, **E(401, 404)})
def get_course(request: HttpRequest, course_id: uuid.UUID) -> Any:
    user = current_user(request)
    return _course_detail(user, services.get_course(user, course_id))


@router.patch("/courses/{course_id}", response={200: CourseDetailOut, **E(401, 404, 422)})
def update_course(request: HttpRequest, course_id: uuid.UUID, payload: CoursePatch) -> Any:
    user = current_user(request)
    course = services.do_update_course(user, services.get_course(user, course_id), **_changes(payload))
    return _course_detail(user, course)


@router.delete("/courses/{course_id}", response={204: None, **E(401, 404)})
def delete_course(request: HttpRequest, course_id: uuid.UUID) -> Any:
    user = current_user(request)
    services.do_delete_course(user, services.get_course(user, course_id))
    return Status(204, None)


@router.get("/courses/{course_id}/standing", response={200: StandingOut, **E(401, 404, 422)})
def course_standing(request: HttpRequest, course_id: uuid.UUID, params: Query[StandingQuery]) -> Any:
    """The course's weighted average and, with ``target`` (a letter or a percentage), the average
    needed on the remaining weight."""
    user = current_user(request)
    return services.course_standing(user, services.get_course(user, course_id), (params.target or "")[:10] or None)


# --- results -----------------------------------------------------------------------------------------


def _results_qs(user: Any) -> Any:
    return Result.objects.filter(user=user, course__deleted_at__isnull=True).select_related("course")


@router.get("/results", response={200: Page[ResultOut], **E(401, 422)})
def list_results(request: HttpRequest, filters: Query[ResultFilters], paging: Query[PageQuery]) -> Any:
    qs = _results_qs(current_user(request))
    if filters.course_id:
        qs = qs.filter(course_id=filters.course_id)
    if filters.semester:
        qs = qs.filter(semester=filters.semester)
    if filters.from_date:
        qs = qs.filter(date__gte=filters.from_date)
    if filters.to_date:
        qs = qs.filter(date__lte=filters.to_date)
    if filters.assessment_type:
        qs = qs.filter(assessment_type=filters.assessment_type)
    rows, meta = paginate(qs, paging)
    return {"items": rows, **meta}


@router.post("/results", response={201: ResultOut, **E(401, 404, 422)})
def create_result(request: HttpRequest, payload: ResultIn) -> Any:
    user = current_user(request)
    data = payload.model_dump()
    course = services.get_course(user, data.pop("course_id"))
    return Status(201, services.do_create_result(user, course=course, **data))


@router.post("/results/import", response={200: ImportReport, **E(401, 413, 415, 422)})
def import_results(request: HttpRequest, file: File[UploadedFile], all_or_nothing: Form[bool] = False) -> Any:
    """CSV with a header: course_code, assessment_type, score, date (YYYY-MM-DD) and optionally
    assessment_name, max_score, weight, semester, notes. Row numbers count the header as row 1."""
    user = current_user(request)
    checked = validate_upload(file, allowed=("text",), max_bytes=5 * 1024 * 1024)
    return services.import_results_csv(user, checked.data, all_or_nothing=all_or_nothing)


@router.get("/results/{result_id}", response={200: ResultOut, **E(401, 404)})
def get_result(request: HttpRequest, result_id: uuid.UUID) -> Any:
    return get_owned(_results_qs(current_user(request)), user=current_user(request), id=result_id)


@router.patch("/results/{result_id}", response={200: ResultOut, **E(401, 404, 422)})
def update_result(request: HttpRequest, result_id: uuid.UUID, payload: ResultPatch) -> Any:
    user = current_user(request)
    result = get_owned(_results_qs(user), user=user, id=result_id)
    return services.do_update_result(user, result, **_changes(payload))


@router.delete("/results/{result_id}", response={204: None, **E(401, 404)})
def delete_result(request: HttpRequest, result_id: uuid.UUID) -> Any:
    user = current_user(request)
    get_owned(Result.objects.all(), user=user, id=result_id).delete()
    return Status(204, None)


@router.get("/gpa", response={200: GpaOut, **E(401)})
def gpa(request: HttpRequest) -> Any:
    """Per-semester GPA (credit-weighted), cumulative GPA and the trend over the last three semesters."""
    return services.gpa_summary(current_user(request))


# --- plans -------------------------------------------------------------------------------------------


@router.get("/plans", response={200: PlanPage, **E(401, 422)})
def list_plans(request: HttpRequest, filters: Query[PlanFilters], paging: Query[PageQuery]) -> Any:
    user = current_user(request)
    qs = StudyPlan.objects.filter(user=user).select_related("course")
    if filters.date:
        qs = qs.filter(date=filters.date)
    if filters.from_date:
        qs = qs.filter(date__gte=filters.from_date)
    if filters.to_date:
        qs = qs.filter(date__lte=filters.to_date)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.course_id:
        qs = qs.filter(course_id=filters.course_id)
    summary = qs.aggregate(
        total_plans=Count("id"),
        pending=Count("id", filter=Q(status=PlanStatus.PENDING)),
        completed=Count("id", filter=Q(status=PlanStatus.COMPLETED)),
        missed=Count("id", filter=Q(status=PlanStatus.MISSED)),
        total_planned_minutes=Sum("planned_minutes"),
    )
    summary["total_planned_minutes"] = summary["total_planned_minutes"] or 0
    rows, meta = paginate(qs, paging, count=summary["total_plans"])
    return {"items": rows, **meta, "summary": summary}


@router.post("/plans", response={201: PlanWithConflicts, **E(401, 404, 422)})
def create_plan(request: HttpRequest, payload: PlanIn) -> Any:
    """Creates the plan and answers any timetable classes or plans it overlaps."""
    user = current_user(request)
    data = payload.model_dump()
    course = services.get_course(user, data.pop("course_id"))
    plan, conflicts = services.do_create_plan(user, course=course, **data)
    return Status(201, {"plan": plan, "conflicts": conflicts})


@router.post("/plans/check-conflicts", response={200: ConflictCheckOut, **E(401, 422)})
def check_plan_conflicts(request: HttpRequest, payload: ConflictCheckIn) -> Any:
    conflicts = services.find_conflicts(
        current_user(request),
        date=payload.date,
        start_time=payload.start_time,
        minutes=payload.duration,
        exclude_plan_id=payload.exclude_plan_id,
    )
    return {"has_conflicts": bool(conflicts), "conflicts": conflicts}


def _plan(user: Any, plan_id: uuid.UUID) -> StudyPlan:
    return get_owned(StudyPlan.objects.select_related("course"), user=user, id=plan_id)


@router.get("/plans/{plan_id}", response={200: PlanOut, **E(401, 404)})
def get_plan(request: HttpRequest, plan_id: uuid.UUID) -> Any:
    return _plan(current_user(request), plan_id)


@router.patch("/plans/{plan_id}", response={200: PlanWithConflicts, **E(401, 404, 409, 422)})
def update_plan(request: HttpRequest, plan_id: uuid.UUID, payload: PlanPatch) -> Any:
    user = current_user(request)
    plan = _plan(user, plan_id)
    changes = _changes(payload)
    if "course_id" in changes:
        changes["course"] = services.get_course(user, changes.pop("course_id"))
    plan, conflicts = services.do_update_plan(user, plan, **changes)
    return {"plan": plan, "conflicts": conflicts}


@router.post("/plans/{plan_id}/complete", response={200: PlanOut, **E(401, 404, 409, 422)})
def complete_plan(request: HttpRequest, plan_id: uuid.UUID, payload: PlanCompleteIn) -> Any:
    user = current_user(request)
    return services.do_complete_plan(user, _plan(user, plan_id), actual_minutes=payload.actual_minutes, notes=payload.notes)


@router.delete("/plans/{plan_id}", response={204: None, **E(401, 404)})
def delete_plan(request: HttpRequest, plan_id: uuid.UUID) -> Any:
    _plan(current_user(request), plan_id).delete()
    return Status(204, None)


# --- timetable ---------------------------------------------------------------------------------------


def _timetables(user: Any) -> Any:
    return Timetable.objects.filter(user=user).prefetch_related(
        Prefetch("classes", queryset=TimetableClass.objects.select_related("course").order_by("day_of_week", "start_time", "id"))
    )


@router.get("/timetables", response={200: list[TimetableOut], **E(401)})
def list_timetables(request: HttpRequest) -> Any:
    return list(_timetables(current_user(request)).order_by("-is_active", "-created_at")[:50])


@router.post("/timetables", response={201: TimetableOut, **E(401, 404, 422)})
def save_timetable(request: HttpRequest, payload: TimetableIn) -> Any:
    """Create the semester's timetable, or update it (one per semester and academic year); given
    ``classes`` replace the existing ones. An active timetable makes the others inactive."""
    user = current_user(request)
    classes = [c.model_dump() for c in payload.classes] if payload.classes is not None else None
    tt = services.do_save_timetable(
        user, semester=payload.semester, academic_year=payload.academic_year, is_active=payload.is_active, classes=classes
    )
    return Status(201, _timetables(user).get(id=tt.id))


@router.get("/timetable/current", response={200: TimetableOut, **E(401, 404)})
def current_timetable(request: HttpRequest, params: Query[CurrentTimetableQuery]) -> Any:
    user = current_user(request)
    tt = services.current_timetable(user, params.semester)
    if tt is None:
        raise NotFound("You have no timetable yet", code="no_timetable")
    return _timetables(user).get(id=tt.id)


@router.get("/timetable/week", response={200: WeekOut, **E(401, 422)})
def timetable_week(request: HttpRequest, start: dt.date, end: dt.date | None = None) -> Any:
    """Class occurrences for start..end (inclusive, at most 62 days; default a week) in the user's zone,
    with local and UTC times."""
    user = current_user(request)
    end = end or start + dt.timedelta(days=6)
    if end < start or (end - start).days > 61:
        raise services.invalid("end", "end is on or after start, at most 62 days later")
    return {
        "time_zone": services.user_zone(user).key,
        "start": start,
        "end": end,
        "classes": services.expand_classes(user, start, end),
    }


@router.get("/timetables/{timetable_id}", response={200: TimetableOut, **E(401, 404)})
def get_timetable(request: HttpRequest, timetable_id: uuid.UUID) -> Any:
    user = current_user(request)
    return get_owned(_timetables(user), user=user, id=timetable_id)


@router.delete("/timetables/{timetable_id}", response={204: None, **E(401, 404)})
def delete_timetable(request: HttpRequest, timetable_id: uuid.UUID) -> Any:
    user = current_user(request)
    get_owned(Timetable.objects.all(), user=user, id=timetable_id).delete()
    return Status(204, None)


@router.post("/timetables/{timetable_id}/classes", response={201: ClassOut, **E(401, 404, 422)})
def add_class(request: HttpRequest, timetable_id: uuid.UUID, payload: ClassIn) -> Any:
    user = current_user(request)
    tt = get_owned(Timetable.objects.all(), user=user, id=timetable_id)
    return Status(201, services.do_add_class(user, tt, **payload.model_dump()))


def _class(user: Any, class_id: uuid.UUID) -> TimetableClass:
    return get_owned(TimetableClass.objects.select_related("course"), user=user, owner_fields=("timetable__user",), id=class_id)


@router.patch("/classes/{class_id}", response={200: ClassOut, **E(401, 404, 422)})
def update_class(request: HttpRequest, class_id: uuid.UUID, payload: ClassPatch) -> Any:
    user = current_user(request)
    return services.do_update_class(user, _class(user, class_id), **_changes(payload))


@router.delete("/classes/{class_id}", response={204: None, **E(401, 404)})
def delete_class(request: HttpRequest, class_id: uuid.UUID) -> Any:
    _class(current_user(request), class_id).delete()
    return Status(204, None)


# --- assignments -------------------------------------------------------------------------------------


@router.get("/assignments", response={200: Page[AssignmentOut], **E(401, 422)})
def list_assignments(request: HttpRequest, filters: Query[AssignmentFilters], paging: Query[PageQuery]) -> Any:
    from django.utils import timezone

    qs = Assignment.objects.filter(user=current_user(request)).select_related("course")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.course_id:
        qs = qs.filter(course_id=filters.course_id)
    if filters.upcoming:
        qs = qs.filter(due_at__gte=timezone.now()).exclude(status=AssignmentStatus.COMPLETED)
    rows, meta = paginate(qs.order_by("due_at", "id"), paging)
    return {"items": rows, **meta}


@router.post("/assignments", response={201: AssignmentOut, **E(401, 404, 422)})
def create_assignment(request: HttpRequest, payload: AssignmentIn) -> Any:
    user = current_user(request)
    data = payload.model_dump()
    course = services.get_course(user, data.pop("course_id"))
    return Status(201, services.do_create_assignment(user, course=course, **data))


def _assignment(user: Any, assignment_id: uuid.UUID) -> Assignment:
    return get_owned(Assignment.objects.select_related("course"), user=user, id=assignment_id)


@router.get("/assignments/{assignment_id}", response={200: AssignmentOut, **E(401, 404)})
def get_assignment(request: HttpRequest, assignment_id: uuid.UUID) -> Any:
    return _assignment(current_user(request), assignment_id)


@router.patch("/assignments/{assignment_id}", response={200: AssignmentOut, **E(401, 404, 422)})
def update_assignment(request: HttpRequest, assignment_id: uuid.UUID, payload: AssignmentPatch) -> Any:
    user = current_user(request)
    return services.do_update_assignment(user, _assignment(user, assignment_id), **_changes(payload))


@router.post("/assignments/{assignment_id}/complete", response={200: AssignmentOut, **E(401, 404, 409)})
def complete_assignment(request: HttpRequest, assignment_id: uuid.UUID) -> Any:
    user = current_user(request)
    return services.do_complete_assignment(user, _assignment(user, assignment_id))


@router.delete("/assignments/{assignment_id}", response={204: None, **E(401, 404)})
def delete_assignment(request: HttpRequest, assignment_id: uuid.UUID) -> Any:
    _assignment(current_user(request), assignment_id).delete()
    return Status(204, None)


# --- study sessions ----------------------------------------------------------------------------------


@router.get("/sessions", response={200: Page[SessionOut], **E(401, 422)})
def list_sessions(request: HttpRequest, filters: Query[SessionFilters], paging: Query[PageQuery]) -> Any:
    user = current_user(request)
    qs = StudySession.objects.filter(user=user).select_related("course")
    if filters.course_id:
        qs = qs.filter(course_id=filters.course_id)
    zone = services.user_zone(user)
    if filters.from_date:
        qs = qs.filter(started_at__gte=dt.datetime.combine(filters.from_date, dt.time(0), tzinfo=zone))
    if filters.to_date:
        qs = qs.filter(started_at__lt=dt.datetime.combine(filters.to_date + dt.timedelta(days=1), dt.time(0), tzinfo=zone))
    rows, meta = paginate(qs, paging)
    return {"items": rows, **meta}


@router.post("/sessions", response={201: SessionOut, **E(401, 404, 422)})
def log_session(request: HttpRequest, payload: SessionLogIn) -> Any:
    """Log a finished session; its duration is derived from the two instants."""
    return Status(201, services.do_log_session(current_user(request), **payload.model_dump()))


@router.post("/sessions/start", response={201: SessionOut, **E(401, 404, 409, 422)})
def start_session(request: HttpRequest, payload: SessionStartIn) -> Any:
    return Status(201, services.do_start_session(current_user(request), **payload.model_dump()))


@router.get("/sessions/current", response={200: SessionOut, **E(401, 404)})
def current_session(request: HttpRequest) -> Any:
    session = StudySession.objects.filter(user=current_user(request), ended_at__isnull=True).select_related("course").first()
    if session is None:
        raise NotFound("No timer is running", code="no_running_session")
    return session


@router.post("/sessions/{session_id}/stop", response={200: SessionOut, **E(401, 404, 409, 422)})
def stop_session(request: HttpRequest, session_id: uuid.UUID, payload: SessionStopIn) -> Any:
    user = current_user(request)
    session = get_owned(StudySession.objects.select_related("course"), user=user, id=session_id)
    return services.do_stop_session(user, session, notes=payload.notes)


@router.delete("/sessions/{session_id}", response={204: None, **E(401, 404)})
def delete_session(request: HttpRequest, session_id: uuid.UUID) -> Any:
    get_owned(StudySession.objects.all(), user=current_user(request), id=session_id).delete()
    return Status(204, None)


# --- dashboard ---------------------------------------------------------------------------------------


@router.get("/dashboard", response={200: DashboardOut, **E(401)})
def dashboard(request: HttpRequest) -> Any:
    return selectors.dashboard(current_user(request))


@router.get("/dashboard/upcoming-classes", response={200: list[OccurrenceOut], **E(401, 422)})
def upcoming_classes(request: HttpRequest, days: int = 7, limit: int = 5) -> Any:
    return selectors.upcoming_classes(current_user(request), days=max(1, min(days, 31)), limit=max(1, min(limit, 50)))


@router.get("/dashboard/streak", response={200: StreakOut, **E(401)})
def study_streak(request: HttpRequest) -> Any:
    return selectors.study_streak(current_user(request))


@router.get("/dashboard/activities", response={200: list[ActivityOut], **E(401, 422)})
def activities(request: HttpRequest, limit: int = 10) -> Any:
    return selectors.recent_activity(current_user(request), limit=max(1, min(limit, 50)))


# --- weekly reports ----------------------------------------------------------------------------------


@router.get("/reports", response={200: Page[ReportOut], **E(401, 422)})
def list_reports(request: HttpRequest, paging: Query[PageQuery]) -> Any:
    rows, meta = paginate(WeeklyReport.objects.filter(user=current_user(request)), paging)
    return {"items": rows, **meta}


@router.post("/reports/generate", response={201: ReportOut, **E(401, 422)})
def generate_report(request: HttpRequest, payload: ReportGenerateIn) -> Any:
    """Build (or rebuild) the report of the week holding ``week_start`` (default: this week)."""
    from modules.tracker.reports import generate_weekly_report

    user = current_user(request)
    return Status(201, generate_weekly_report(user, payload.week_start or services.local_today(user)))


@router.get("/reports/{report_id}", response={200: ReportOut, **E(401, 404)})
def get_report(request: HttpRequest, report_id: uuid.UUID) -> Any:
    return get_owned(WeeklyReport.objects.all(), user=current_user(request), id=report_id)


@router.get(
    "/reports/{report_id}/pdf",
    response={200: None, **E(401, 404)},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The report as a PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def report_pdf(request: HttpRequest, report_id: uuid.UUID) -> Any:
    from modules.tracker.reports import read_pdf

    report = get_owned(WeeklyReport.objects.all(), user=current_user(request), id=report_id)
    if not report.pdf_name:
        raise NotFound("This report has no PDF", code="no_pdf")
    response = HttpResponse(read_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="weekly-report-{report.week_start.isoformat()}.pdf"'
    return response


# --- calendar feed -----------------------------------------------------------------------------------


def _token_out(request: HttpRequest, token: str | None) -> dict[str, Any]:
    url = request.build_absolute_uri(f"/api/v1/tracker/calendar/{token}.ics") if token else None
    return {"enabled": bool(token), "url": url}


@router.get("/calendar/token", response={200: CalendarTokenOut, **E(401)})
def calendar_token(request: HttpRequest) -> Any:
    return _token_out(request, services.get_prefs(current_user(request)).ics_token)


@router.post("/calendar/token", response={200: CalendarTokenOut, **E(401)})
def rotate_calendar_token(request: HttpRequest) -> Any:
    """A new private feed URL; the old one stops working."""
    return _token_out(request, services.do_rotate_ics_token(current_user(request)))


@router.delete("/calendar/token", response={200: CalendarTokenOut, **E(401)})
def revoke_calendar_token(request: HttpRequest) -> Any:
    services.do_revoke_ics_token(current_user(request))
    return _token_out(request, None)


@router.get(
    "/calendar/{token}.ics",
    auth=None,
    response={200: None, **E(404)},
    openapi_extra={
        "responses": {
            "200": {"description": "iCalendar (RFC 5545)", "content": {"text/calendar": {"schema": {"type": "string"}}}}
        }
    },
)
def calendar_feed(request: HttpRequest, token: str) -> Any:
    """The private iCalendar feed (timetable classes, study plans, assignment deadlines)."""
    prefs = (
        Preferences.objects.select_related("user")
        .filter(ics_token=token[:64], user__is_active=True, user__deleted_at__isnull=True)
        .first()
    )
    if prefs is None or not token:
        raise NotFound("No calendar at this address", code="not_found")
    user = prefs.user
    user._tracker_prefs = prefs  # type: ignore[attr-defined]
    response = HttpResponse(build_calendar(user), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
