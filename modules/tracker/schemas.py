"""Request and response shapes. Write schemas refuse unknown fields and cap lengths."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from django.utils import timezone
from ninja import Field, Schema

from core.api.schemas import QuerySchema, WriteSchema

DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

Day = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
AssessmentKind = Literal["quiz", "midterm", "final", "assignment", "project"]
PriorityKind = Literal["high", "medium", "low"]
StudyKind = Literal["review", "new-material", "practice"]
PlanStatusKind = Literal["pending", "in-progress", "completed", "missed"]
AssignmentStatusKind = Literal["pending", "in-progress", "completed", "overdue"]
ClassKind = Literal["lecture", "lab", "tutorial", "seminar"]
OnboardingKind = Literal["profile", "courses", "timetable", "done"]
Score = Field(..., ge=0, max_digits=7, decimal_places=2)


class In(WriteSchema):
    """Request bodies: unknown fields refused, booleans strict (see core.api.schemas)."""


# --- preferences --------------------------------------------------------------------------------


class TrackerPreferencesOut(Schema):
    morning_email_time: dt.time
    reminder_time: dt.time
    email_enabled: bool
    push_enabled: bool
    weekly_report_enabled: bool
    weekly_report_day: str
    weekly_report_time: dt.time
    time_zone: str = Field(..., description="Blank: the user's own zone")
    effective_time_zone: str
    target_gpa: float | None
    onboarding_step: str
    onboarding_completed: bool


PreferencesOut = TrackerPreferencesOut  # the name modules' api.py uses; the schema name is unique API-wide


class PreferencesPatch(In):
    morning_email_time: dt.time | None = None
    reminder_time: dt.time | None = None
    email_enabled: bool | None = None
    push_enabled: bool | None = None
    weekly_report_enabled: bool | None = None
    weekly_report_day: Day | None = None
    weekly_report_time: dt.time | None = None
    time_zone: str | None = Field(None, max_length=64)
    target_gpa: Decimal | None = Field(None, ge=0, le=5, max_digits=3, decimal_places=2)


class OnboardingIn(In):
    step: OnboardingKind


class OnboardingOut(Schema):
    step: str
    completed: bool
    steps: list[str]


class BandIO(Schema):
    min: Decimal = Field(..., ge=0, le=100, max_digits=5, decimal_places=2)
    letter: str = Field(..., min_length=1, max_length=5)
    points: Decimal = Field(..., ge=0, le=10, max_digits=4, decimal_places=2)


class GradingScaleIn(In):
    bands: list[BandIO] | None = Field(None, max_length=20, description="null: back to the default scale")


class GradingScaleOut(Schema):
    bands: list[BandIO]
    is_default: bool


# --- courses ------------------------------------------------------------------------------------


class TrackerCourseIn(In):
    name: str = Field(..., min_length=1, max_length=255)
    code: str = Field(..., min_length=1, max_length=50)
    credits: int = Field(3, ge=1, le=6)
    instructor: str = Field("", max_length=255)
    color: str = Field("blue", max_length=50)
    semester: str = Field(..., min_length=1, max_length=100)
    academic_year: str = Field("", max_length=20)
    description: str = Field("", max_length=5000)
    is_active: bool = True


CourseIn = TrackerCourseIn  # the name modules' api.py uses; the schema name is unique API-wide


class TrackerCoursePatch(In):
    refuse_null = "__all__"  # omit a field to leave it unchanged; its column cannot be empty
    name: str | None = Field(None, min_length=1, max_length=255)
    code: str | None = Field(None, min_length=1, max_length=50)
    credits: int | None = Field(None, ge=1, le=6)
    instructor: str | None = Field(None, max_length=255)
    color: str | None = Field(None, max_length=50)
    semester: str | None = Field(None, min_length=1, max_length=100)
    academic_year: str | None = Field(None, max_length=20)
    description: str | None = Field(None, max_length=5000)
    is_active: bool | None = None


CoursePatch = TrackerCoursePatch  # the name modules' api.py uses; the schema name is unique API-wide


class TrackerCourseOut(Schema):
    id: uuid.UUID
    name: str
    code: str
    credits: int
    instructor: str
    color: str
    semester: str
    academic_year: str
    description: str
    is_active: bool
    created_at: dt.datetime
    results_count: int = 0
    average_percentage: float | None = None


CourseOut = TrackerCourseOut  # the name modules' api.py uses; the schema name is unique API-wide


class CourseStats(Schema):
    total_study_hours: float
    average_grade: float | None
    grade: str | None
    results_count: int


class TrackerCourseDetailOut(CourseOut):
    statistics: CourseStats


CourseDetailOut = TrackerCourseDetailOut  # the name modules' api.py uses; the schema name is unique API-wide


class CourseRef(Schema):
    id: uuid.UUID
    name: str
    code: str
    color: str


class NeededOut(Schema):
    target: str
    target_percentage: float
    remaining_weight: float
    needed_percentage: float | None
    achievable: bool
    already_secured: bool
    earned_points: float


class StandingOut(Schema):
    course_id: uuid.UUID
    results_count: int
    average: float | None
    grade: str | None
    target: NeededOut | None


# --- results ------------------------------------------------------------------------------------


class ResultIn(In):
    course_id: uuid.UUID
    assessment_type: AssessmentKind
    name: str = Field("", max_length=255)
    score: Decimal = Score
    max_score: Decimal = Field(Decimal(100), gt=0, max_digits=7, decimal_places=2)
    weight: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    semester: str = Field("", max_length=100, description="Blank: the course's semester")
    date: dt.date
    notes: str = Field("", max_length=5000)


class ResultPatch(In):
    refuse_null = "__all__"  # omit a field to leave it unchanged; its column cannot be empty
    assessment_type: AssessmentKind | None = None
    name: str | None = Field(None, max_length=255)
    score: Decimal | None = Field(None, ge=0, max_digits=7, decimal_places=2)
    max_score: Decimal | None = Field(None, gt=0, max_digits=7, decimal_places=2)
    weight: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    semester: str | None = Field(None, min_length=1, max_length=100)
    date: dt.date | None = None
    notes: str | None = Field(None, max_length=5000)


class ResultOut(Schema):
    id: uuid.UUID
    course: CourseRef
    assessment_type: str
    name: str
    score: float
    max_score: float
    percentage: float
    grade: str
    weight: float | None
    semester: str
    date: dt.date
    notes: str
    created_at: dt.datetime


class CourseFilters(QuerySchema):
    semester: str | None = Field(None, max_length=100)
    active: bool | None = None


class StandingQuery(QuerySchema):
    target: str | None = None  # a letter or a percentage, parsed (422 otherwise); only 10 characters are read


class CurrentTimetableQuery(QuerySchema):
    semester: str | None = None


class ResultFilters(QuerySchema):
    course_id: uuid.UUID | None = None
    semester: str | None = Field(None, max_length=100)
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    assessment_type: AssessmentKind | None = None


class RefusedRow(Schema):
    row: int
    reason: str


class ImportReport(Schema):
    imported: int
    refused: list[RefusedRow]
    total_rows: int
    all_or_nothing: bool
    rolled_back: bool


# --- GPA ----------------------------------------------------------------------------------------


class CourseGradeOut(Schema):
    course_id: uuid.UUID
    code: str
    name: str
    credits: int
    average: float
    grade: str
    points: float


class SemesterGpaOut(Schema):
    semester: str
    gpa: float | None
    credits: int
    courses: list[CourseGradeOut]


class GpaOut(Schema):
    semesters: list[SemesterGpaOut]
    current: float | None
    cumulative: float | None
    trend: str
    credits: int


# --- plans --------------------------------------------------------------------------------------


class PlanIn(In):
    course_id: uuid.UUID
    topic: str = Field(..., min_length=1, max_length=255)
    description: str = Field("", max_length=5000)
    date: dt.date
    start_time: dt.time
    planned_minutes: int = Field(..., ge=15, le=480)
    priority: PriorityKind = "medium"
    study_type: StudyKind = "review"
    notes: str = Field("", max_length=5000)


class PlanPatch(In):
    refuse_null = "__all__"  # omit a field to leave it unchanged; its column cannot be empty
    course_id: uuid.UUID | None = None
    topic: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=5000)
    date: dt.date | None = None
    start_time: dt.time | None = None
    planned_minutes: int | None = Field(None, ge=15, le=480)
    priority: PriorityKind | None = None
    study_type: StudyKind | None = None
    status: Literal["pending", "in-progress"] | None = None
    notes: str | None = Field(None, max_length=5000)


class PlanCompleteIn(In):
    actual_minutes: int | None = Field(None, ge=1, le=1440)
    notes: str | None = Field(None, max_length=5000)


class PlanOut(Schema):
    id: uuid.UUID
    course: CourseRef
    topic: str
    description: str
    date: dt.date
    start_time: dt.time
    planned_minutes: int
    actual_minutes: int | None
    priority: str
    study_type: str
    status: str
    completed_at: dt.datetime | None
    notes: str


class ConflictOut(Schema):
    type: Literal["class", "plan"]
    id: uuid.UUID
    course_id: uuid.UUID
    course_name: str
    start_time: dt.time
    end_time: dt.time
    location: str
    topic: str | None = None


class PlanWithConflicts(Schema):
    plan: PlanOut
    conflicts: list[ConflictOut]


class ConflictCheckIn(In):
    date: dt.date
    start_time: dt.time
    duration: int = Field(..., ge=1, le=1440, description="minutes")
    exclude_plan_id: uuid.UUID | None = None


class ConflictCheckOut(Schema):
    has_conflicts: bool
    conflicts: list[ConflictOut]


class PlanFilters(QuerySchema):
    date: dt.date | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    status: PlanStatusKind | None = None
    course_id: uuid.UUID | None = None


class PlanSummary(Schema):
    total_plans: int
    pending: int
    completed: int
    missed: int
    total_planned_minutes: int


class PlanPage(Schema):
    items: list[PlanOut]
    page: int
    page_size: int
    total: int
    pages: int
    summary: PlanSummary


# --- timetable ----------------------------------------------------------------------------------


class ClassIn(In):
    course_id: uuid.UUID
    day_of_week: int = Field(..., ge=0, le=6, description="0=Sunday .. 6=Saturday")
    start_time: dt.time
    end_time: dt.time
    location: str = Field("", max_length=255)
    class_type: ClassKind = "lecture"
    instructor: str = Field("", max_length=255)
    notes: str = Field("", max_length=2000)


class ClassPatch(In):
    refuse_null = "__all__"  # omit a field to leave it unchanged; its column cannot be empty
    course_id: uuid.UUID | None = None
    day_of_week: int | None = Field(None, ge=0, le=6)
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    location: str | None = Field(None, max_length=255)
    class_type: ClassKind | None = None
    instructor: str | None = Field(None, max_length=255)
    notes: str | None = Field(None, max_length=2000)


class ClassOut(Schema):
    id: uuid.UUID
    course: CourseRef
    day_of_week: int
    day_name: str
    start_time: dt.time
    end_time: dt.time
    location: str
    class_type: str
    instructor: str
    notes: str

    @staticmethod
    def resolve_day_name(obj: object) -> str:
        return DAY_NAMES[obj.day_of_week]  # type: ignore[attr-defined]


class TimetableIn(In):
    semester: str = Field(..., min_length=1, max_length=100)
    academic_year: str = Field("", max_length=20)
    is_active: bool = True
    classes: list[ClassIn] | None = Field(None, max_length=200, description="When given, replaces the timetable's classes")


class TimetableOut(Schema):
    id: uuid.UUID
    semester: str
    academic_year: str
    is_active: bool
    classes: list[ClassOut]


class OccurrenceOut(Schema):
    class_id: uuid.UUID
    course_id: uuid.UUID
    course_name: str
    course_code: str
    color: str
    date: dt.date
    day_name: str
    start_time: dt.time
    end_time: dt.time
    start_local: str
    end_local: str
    start_utc: dt.datetime
    end_utc: dt.datetime
    location: str
    class_type: str
    instructor: str


class WeekOut(Schema):
    time_zone: str
    start: dt.date
    end: dt.date
    classes: list[OccurrenceOut]


# --- assignments --------------------------------------------------------------------------------


class AssignmentIn(In):
    course_id: uuid.UUID
    title: str = Field(..., min_length=1, max_length=255)
    description: str = Field("", max_length=5000)
    due_at: dt.datetime
    priority: PriorityKind = "medium"
    notes: str = Field("", max_length=5000)


class AssignmentPatch(In):
    refuse_null = "__all__"  # omit a field to leave it unchanged; its column cannot be empty
    course_id: uuid.UUID | None = None
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=5000)
    due_at: dt.datetime | None = None
    priority: PriorityKind | None = None
    status: Literal["pending", "in-progress"] | None = None
    notes: str | None = Field(None, max_length=5000)


class AssignmentOut(Schema):
    id: uuid.UUID
    course: CourseRef
    title: str
    description: str
    due_at: dt.datetime
    priority: str
    status: str
    completed_at: dt.datetime | None
    notes: str
    days_until_due: int

    @staticmethod
    def resolve_days_until_due(obj: object) -> int:
        return (obj.due_at - timezone.now()).days  # type: ignore[attr-defined]


class AssignmentFilters(QuerySchema):
    status: AssignmentStatusKind | None = None
    course_id: uuid.UUID | None = None
    upcoming: bool | None = None


# --- sessions -----------------------------------------------------------------------------------


class SessionStartIn(In):
    course_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    notes: str = Field("", max_length=2000)


class SessionStopIn(In):
    notes: str | None = Field(None, max_length=2000)


class SessionLogIn(In):
    course_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    started_at: dt.datetime
    ended_at: dt.datetime
    notes: str = Field("", max_length=2000)


class StudySessionOut(Schema):
    id: uuid.UUID
    course: CourseRef | None
    plan_id: uuid.UUID | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_minutes: int
    running: bool
    notes: str

    @staticmethod
    def resolve_running(obj: object) -> bool:
        return obj.ended_at is None  # type: ignore[attr-defined]


SessionOut = StudySessionOut  # the name modules' api.py uses; the schema name is unique API-wide


class SessionFilters(QuerySchema):
    course_id: uuid.UUID | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None


# --- dashboard ----------------------------------------------------------------------------------


class GpaBrief(Schema):
    current: float | None
    cumulative: float | None
    trend: str


class DashboardOut(Schema):
    overall_performance: float | None
    courses_enrolled: int
    hours_studied: float
    completion_rate: float | None
    assignments_due: int
    assignments_overdue: int
    gpa: GpaBrief


class StreakDay(Schema):
    date: dt.date
    day: str
    completed: bool


class StreakOut(Schema):
    current_streak: int
    longest_streak: int
    days: list[StreakDay]


class ActivityOut(Schema):
    id: uuid.UUID
    type: str
    description: str
    timestamp: dt.datetime
    metadata: dict


# --- reports and calendar -----------------------------------------------------------------------


class ReportGenerateIn(In):
    week_start: dt.date | None = Field(None, description="Any day of the week; default: the current week")


class ReportOut(Schema):
    id: uuid.UUID
    week_start: dt.date
    week_end: dt.date
    total_study_hours: float
    planned_hours: float
    completion_rate: float
    most_studied_course_id: uuid.UUID | None
    least_studied_course_id: uuid.UUID | None
    performance_trend: str
    insights: list[str]
    data: dict
    generated_at: dt.datetime
    email_sent_at: dt.datetime | None
    pdf_url: str

    @staticmethod
    def resolve_pdf_url(obj: object) -> str:
        return f"/api/v1/tracker/reports/{obj.id}/pdf"  # type: ignore[attr-defined]


class CalendarTokenOut(Schema):
    enabled: bool
    url: str | None
