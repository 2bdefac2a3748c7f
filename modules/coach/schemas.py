from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema
from pydantic import ConfigDict


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class SessionIn(In):
    title: str = Field("", max_length=200)


class SessionRenameIn(In):
    title: str = Field(..., min_length=1, max_length=200)


class SessionOut(Schema):
    id: uuid.UUID
    title: str
    created_at: dt.datetime
    last_activity_at: dt.datetime


class MessageIn(In):
    text: str = Field(..., min_length=1, max_length=4000)


class MessageOut(Schema):
    id: uuid.UUID
    role: str
    text: str
    created_at: dt.datetime
    tokens_in: int
    tokens_out: int
    engine: str
    context_sections: list[str]


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
    grade: str | None
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
    completion_rate: str | None


class DeadlineAtRisk(Schema):
    id: str | None
    title: str | None
    course: str | None
    due_at: str | None
    priority: str | None
    reasons: list[str]


class Slot(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime


class TutorSuggestion(Schema):
    tutor_id: str
    name: str
    headline: str
    hourly_rate_minor: int | None
    currency: str | None
    average_rating: float | None
    subject: str | None
    next_slots: list[Slot]


class InsightsOut(Schema):
    weakest_courses: list[CourseFigure]
    weak_assessment_types: list[TypeFigure]
    under_studied_courses: list[UnderStudied]
    plan_completion: PlanCompletion
    deadlines_at_risk: list[DeadlineAtRisk]
    gpa: dict
    total_hours_4_weeks: str
    narrative: str | None
    engine: str
    context_sections: list[str]
    tutor_suggestions: list[TutorSuggestion] | None = Field(None, description="Only when the marketplace module is on")


class UsageOut(Schema):
    messages_today: int
    tokens_today: int
    daily_messages: int
    daily_tokens: int
    engine: str
