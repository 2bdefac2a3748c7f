from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema

from core.api.schemas import WriteSchema


class In(WriteSchema):
    """Request bodies: unknown fields refused, booleans strict (see core.api.schemas)."""


class SessionIn(In):
    title: str = Field("", max_length=200)


class SessionRenameIn(In):
    title: str = Field(..., min_length=1, max_length=200)


class CoachSessionOut(Schema):
    id: uuid.UUID
    title: str
    created_at: dt.datetime
    last_activity_at: dt.datetime


SessionOut = CoachSessionOut  # the name modules' api.py uses; the schema name is unique API-wide


class MessageIn(In):
    text: str = Field(..., min_length=1, max_length=4000)


class CoachMessageOut(Schema):
    id: uuid.UUID
    role: str
    text: str
    created_at: dt.datetime
    tokens_in: int
    tokens_out: int
    engine: str
    context_sections: list[str]


MessageOut = CoachMessageOut  # the name modules' api.py uses; the schema name is unique API-wide


class ContextOut(Schema):
    sections: list[str]
    text: str
    tokens: int
    max_tokens: int


class CourseFigure(Schema):
    course_id: str
    code: str
    name: str
    average: str
    grade: str | None = None
    trend: str
    results_count: int


class TypeFigure(Schema):
    assessment_type: str
    average: str
    count: int


class UnderStudied(Schema):
    course_id: str
    code: str
    name: str
    credits: int
    hours: str
    expected_hours: str


class PlanCompletion(Schema):
    total: int
    completed: int
    missed: int
    completion_rate: str | None = None


class DeadlineAtRisk(Schema):
    id: str | None = None
    title: str | None = None
    course: str | None = None
    due_at: str | None = None
    priority: str | None = None
    reasons: list[str]


class Slot(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime


class TutorSuggestion(Schema):
    tutor_id: str
    name: str
    headline: str
    hourly_rate_minor: int | None = None
    currency: str | None = None
    average_rating: float | None = None
    subject: str | None = None
    next_slots: list[Slot]


class InsightsOut(Schema):
    # Served with exclude_none: every nullable field here and in its parts has a default (may be absent).
    weakest_courses: list[CourseFigure]
    weak_assessment_types: list[TypeFigure]
    under_studied_courses: list[UnderStudied]
    plan_completion: PlanCompletion
    deadlines_at_risk: list[DeadlineAtRisk]
    gpa: dict
    total_hours_4_weeks: str
    narrative: str | None = None
    engine: str
    context_sections: list[str]
    tutor_suggestions: list[TutorSuggestion] | None = Field(None, description="Only when the marketplace module is on")


class UsageOut(Schema):
    messages_today: int
    tokens_today: int
    daily_messages: int
    daily_tokens: int
    engine: str
