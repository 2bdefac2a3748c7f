from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Schema
from pydantic import Field, field_validator

from core.api.schemas import WriteSchema
from modules.timetable_import.models import ImportStatus

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
ClassType = Literal["lecture", "lab", "tutorial", "seminar", "other"]


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


class ProposalOut(Schema):
    id: uuid.UUID
    day_of_week: int = Field(description="0 = Monday .. 6 = Sunday")
    start_time: str = Field(description="HH:MM")
    end_time: str = Field(description="HH:MM")
    course_name: str
    course_code: str
    location: str
    class_type: str
    instructor: str
    confidence: float
    flagged: bool
    matched_course_id: uuid.UUID | None
    include: bool

    @staticmethod
    def resolve_start_time(obj: object) -> str:
        return _hhmm(obj.start_time)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_end_time(obj: object) -> str:
        return _hhmm(obj.end_time)  # type: ignore[attr-defined]


class ImportOut(Schema):
    id: uuid.UUID
    status: ImportStatus
    error: str
    engine: str
    pages: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    timetable_id: uuid.UUID | None
    proposals: list[ProposalOut]

    @staticmethod
    def resolve_proposals(obj: object) -> list[object]:
        return list(obj.proposals.all())  # type: ignore[attr-defined]


class ImportAccepted(Schema):
    id: uuid.UUID
    status: ImportStatus


def _parse_time(value: object) -> object:
    if isinstance(value, str):
        import re

        if not re.match(HHMM, value):
            raise ValueError("use HH:MM (24-hour), e.g. 09:30")
        return dt.time.fromisoformat(value)
    return value


class ProposalPatch(WriteSchema):
    day_of_week: int | None = Field(None, ge=0, le=6, description="0 = Monday .. 6 = Sunday")
    start_time: dt.time | None = Field(None, description="HH:MM")
    end_time: dt.time | None = Field(None, description="HH:MM")
    course_name: str | None = Field(None, min_length=1, max_length=255)
    course_code: str | None = Field(None, max_length=50)
    location: str | None = Field(None, max_length=255)
    class_type: ClassType | None = None
    instructor: str | None = Field(None, max_length=255)
    matched_course_id: uuid.UUID | None = None
    include: bool | None = None

    _times = field_validator("start_time", "end_time", mode="before")(_parse_time)


class ProposalIn(WriteSchema):
    day_of_week: int = Field(..., ge=0, le=6, description="0 = Monday .. 6 = Sunday")
    start_time: dt.time = Field(..., description="HH:MM")
    end_time: dt.time = Field(..., description="HH:MM")
    course_name: str = Field(..., min_length=1, max_length=255)
    course_code: str = Field("", max_length=50)
    location: str = Field("", max_length=255)
    class_type: ClassType = "other"
    instructor: str = Field("", max_length=255)
    matched_course_id: uuid.UUID | None = None
    include: bool = True

    _times = field_validator("start_time", "end_time", mode="before")(_parse_time)


class ConfirmIn(WriteSchema):
    create_missing_courses: bool = Field(True, description="Create tracker courses for names that match none")


class CreatedClassOut(Schema):
    id: uuid.UUID
    course_id: uuid.UUID
    course_name: str
    day_of_week: int = Field(description="0 = Monday .. 6 = Sunday")
    start_time: str
    end_time: str
    location: str
    class_type: str
    instructor: str

    @staticmethod
    def resolve_start_time(obj: dict) -> str:
        return _hhmm(obj["start_time"])

    @staticmethod
    def resolve_end_time(obj: dict) -> str:
        return _hhmm(obj["end_time"])


class ConfirmOut(Schema):
    import_id: uuid.UUID
    timetable_id: uuid.UUID
    classes: list[CreatedClassOut]
