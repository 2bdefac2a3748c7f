"""Course schemas. Students and tutors get different lesson schemas: quiz answers are in the tutor's only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import field_validator, model_validator

from core.api.schemas import INT32_MAX, QuerySchema, WriteSchema
from core.identity.validators import CURRENCIES


class CourseIn(WriteSchema):
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    subject: str = Field(..., min_length=1, max_length=80)
    price_minor: int = Field(0, ge=0, le=10**9)
    currency: str = Field("USD", min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")
    published: bool = False

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, v: str | None) -> str | None:
        return _check_currency(v)


class CoursePatch(WriteSchema):
    refuse_null = "__all__"  # omit a field to leave it unchanged; its column cannot be empty
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    subject: str | None = Field(None, min_length=1, max_length=80)
    price_minor: int | None = Field(None, ge=0, le=10**9)
    currency: str | None = Field(None, min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")
    published: bool | None = None

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, v: str | None) -> str | None:
        return _check_currency(v)


class CourseOut(Schema):
    id: uuid.UUID
    tutor_id: uuid.UUID
    tutor_name: str
    title: str
    description: str
    subject: str
    price_minor: int
    currency: str
    is_free: bool
    cover_url: str | None
    published: bool
    lesson_count: int
    total_minutes: int
    created_at: dt.datetime


class CourseQuery(QuerySchema):
    subject: str | None = Field(None, max_length=80)
    tutor_id: uuid.UUID | None = None
    q: str | None = Field(None, max_length=100, description="Text in the title or description")
    free: bool | None = None
    min_price: int | None = Field(None, ge=0, le=INT32_MAX)
    max_price: int | None = Field(None, ge=0, le=INT32_MAX)
    currency: str | None = Field(None, min_length=3, max_length=3)


class QuestionIn(WriteSchema):
    id: str = Field(..., min_length=1, max_length=40)
    text: str = Field(..., min_length=1, max_length=1000)
    options: list[Annotated[str, Field(max_length=500)]] = Field(..., min_length=2, max_length=10)
    correct: list[int] = Field(..., min_length=1, max_length=10)

    @model_validator(mode="after")
    def _correct_in_range(self) -> QuestionIn:
        if any(i < 0 or i >= len(self.options) for i in self.correct):
            raise ValueError("each correct answer must be the index of an option")
        if len(set(self.correct)) != len(self.correct):
            raise ValueError("correct answers must not repeat")
        return self


def _check_currency(v: str | None) -> str | None:
    if v is None:
        return v
    if v.upper() not in CURRENCIES:
        raise ValueError("not an ISO 4217 currency code")
    return v.upper()


# The rule _check_url enforces, stated in the OpenAPI schema for clients and contract tests (pydantic's
# own pattern check would replace the error message with the regex).
HTTP_URL_RULE = {"pattern": r"^(https?://.*)?$"}


def _check_url(v: str | None) -> str | None:
    if v and not v.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return v


class LessonIn(WriteSchema):
    title: str = Field(..., min_length=1, max_length=200)
    content_type: Literal["video", "document", "text", "quiz"]
    video_url: str = Field("", max_length=500, json_schema_extra=HTTP_URL_RULE)
    body: str = Field("", max_length=100_000)
    questions: list[QuestionIn] = Field(default_factory=list, max_length=100)
    duration_minutes: int = Field(0, ge=0, le=24 * 60)
    is_preview: bool = False
    position: int | None = Field(None, ge=0, le=10_000)

    @field_validator("video_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        return _check_url(v)

    @model_validator(mode="after")
    def _content_matches_type(self) -> LessonIn:
        if self.content_type == "video" and not self.video_url:
            raise ValueError("a video lesson needs video_url")
        if self.content_type == "quiz" and not self.questions:
            raise ValueError("a quiz needs questions")
        if len({q.id for q in self.questions}) != len(self.questions):
            raise ValueError("question ids must be unique")
        return self


class LessonPatch(WriteSchema):
    refuse_null = "__all__"  # omit a field to leave it unchanged; its column cannot be empty
    title: str | None = Field(None, min_length=1, max_length=200)
    video_url: str | None = Field(None, max_length=500, json_schema_extra=HTTP_URL_RULE)
    body: str | None = Field(None, max_length=100_000)
    questions: list[QuestionIn] | None = Field(None, max_length=100)
    duration_minutes: int | None = Field(None, ge=0, le=24 * 60)
    is_preview: bool | None = None
    position: int | None = Field(None, ge=0, le=10_000)

    @field_validator("video_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        return _check_url(v)


class LessonSummary(Schema):
    """The outline everyone who may see the course sees: no content."""

    id: uuid.UUID
    position: int
    title: str
    content_type: str
    duration_minutes: int
    is_preview: bool


class CourseDetailOut(CourseOut):
    lessons: list[LessonSummary]
    enrolled: bool


class StudentQuestion(Schema):
    id: str
    text: str
    options: list[str]
    multiple: bool


class TutorQuestion(StudentQuestion):
    correct: list[int]


class StudentLessonOut(Schema):
    id: uuid.UUID
    course_id: uuid.UUID
    position: int
    title: str
    content_type: str
    video_url: str
    body: str
    has_document: bool
    document_name: str
    questions: list[StudentQuestion]
    duration_minutes: int
    is_preview: bool
    completed: bool


class TutorLessonOut(StudentLessonOut):
    questions: list[TutorQuestion]  # type: ignore[assignment]


class QuizSubmitIn(WriteSchema):
    answers: dict[str, list[int]] = Field(..., max_length=100)


class QuizResultOut(Schema):
    attempt_id: uuid.UUID
    score: int
    max_score: int
    results: dict[str, bool]  # per question: right or wrong; never the right options


class EnrolmentOut(Schema):
    id: uuid.UUID
    course_id: uuid.UUID
    status: str
    created_at: dt.datetime


class ProgressOut(Schema):
    course_id: uuid.UUID
    course_title: str
    enrolled_at: dt.datetime
    status: str
    lessons_total: int
    lessons_completed: int
    percent: int
    completed_lesson_ids: list[uuid.UUID]
    best_quiz_scores: dict[str, int]


class StudentProgressRow(Schema):
    enrolment_id: uuid.UUID
    student_id: uuid.UUID
    student_name: str
    status: str
    enrolled_at: dt.datetime
    lessons_total: int
    lessons_completed: int
    percent: int


class MyCourseRow(Schema):
    course_id: uuid.UUID
    title: str
    status: str
    enrolled_at: dt.datetime
    lessons_total: int
    lessons_completed: int
    percent: int
