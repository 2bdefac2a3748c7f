"""Request and response schemas. Write schemas refuse unknown fields and cap lengths."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import HttpUrl, field_validator

from core.api.schemas import INT32_MAX, QuerySchema, WriteSchema
from core.identity.validators import CURRENCIES


def _check_tz(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError) as exc:
        raise ValueError("not a known IANA time zone") from exc
    return value


class Strict(WriteSchema):
    """Request bodies: unknown fields refused, booleans strict (see core.api.schemas)."""


# --- subjects ---------------------------------------------------------------------------------------


class SubjectIn(Strict):
    name: str = Field(..., min_length=1, max_length=100)
    category: str = Field("", max_length=60)
    description: str = Field("", max_length=2000)


class SubjectPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    category: str | None = Field(None, max_length=60)
    description: str | None = Field(None, max_length=2000)
    is_archived: bool | None = None


class SubjectOut(Schema):
    id: uuid.UUID
    name: str
    category: str
    description: str
    is_archived: bool = False


class SubjectWithCount(SubjectOut):
    tutor_count: int


class SubjectBrief(Schema):
    id: uuid.UUID
    name: str
    category: str


# --- tutor profiles ---------------------------------------------------------------------------------

Proficiency = Literal["beginner", "intermediate", "advanced", "fluent", "native"]


class LanguageIn(Strict):
    code: str = Field(..., min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    proficiency: Proficiency = "fluent"


class LanguageOut(Schema):
    code: str
    proficiency: str


class ProfilePatch(Strict):
    title: str | None = Field(None, max_length=120)
    headline: str | None = Field(None, max_length=200)
    bio: str | None = Field(None, max_length=5000)
    teaching_philosophy: str | None = Field(None, max_length=3000)
    hourly_rate_minor: int | None = Field(None, ge=0, le=10_000_000)
    currency: str | None = Field(None, min_length=3, max_length=3)
    experience_years: int | None = Field(None, ge=0, le=80)
    languages: list[LanguageIn] | None = Field(None, max_length=20)
    education: list[Annotated[str, Field(max_length=300)]] | None = Field(None, max_length=20)
    certifications: list[Annotated[str, Field(max_length=300)]] | None = Field(None, max_length=20)
    subject_ids: list[uuid.UUID] | None = Field(None, max_length=30)
    intro_video_url: HttpUrl | None = None
    timezone: str | None = Field(None, max_length=64)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is not None:
            v = v.upper()
            if v not in CURRENCIES:
                raise ValueError("not a known ISO 4217 currency")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        return _check_tz(v) if v is not None else v

    @field_validator("education", "certifications")
    @classmethod
    def _items(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and any(len(item) > 300 for item in v):
            raise ValueError("each item may have at most 300 characters")
        return v


class TutorPublicOut(Schema):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    title: str
    headline: str
    bio: str
    teaching_philosophy: str
    hourly_rate_minor: int
    currency: str
    experience_years: int
    languages: list[LanguageOut]
    education: list[str]
    certifications: list[str]
    subjects: list[SubjectBrief]
    intro_video_url: str
    photo_url: str | None
    timezone: str
    average_rating: float
    review_count: int
    session_lengths: list[int]
    min_notice_minutes: int
    horizon_days: int


class TutorOwnOut(TutorPublicOut):
    status: str
    rejection_reason: str
    submitted_at: dt.datetime | None
    buffer_minutes: int


class TutorSearchRow(Schema):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    title: str
    headline: str
    hourly_rate_minor: int
    currency: str
    experience_years: int
    languages: list[LanguageOut]
    subjects: list[SubjectBrief]
    photo_url: str | None
    average_rating: float
    review_count: int
    rank: float | None = None


class SearchQuery(QuerySchema):
    q: str | None = Field(None, max_length=200, description="Free text over name, headline and bio")
    subject: str | None = Field(None, max_length=100, description="Subject id or exact name")
    min_price: int | None = Field(None, ge=0, le=INT32_MAX, description="Minimum hourly rate, minor units")
    max_price: int | None = Field(None, ge=0, le=INT32_MAX, description="Maximum hourly rate, minor units")
    min_experience: int | None = Field(None, ge=0, le=80)
    languages: str | None = Field(None, max_length=100, description="Comma-separated language codes (any of)")
    min_rating: float | None = Field(None, ge=0, le=5)
    available_from: dt.date | None = None
    available_to: dt.date | None = None
    sort: Literal["relevance", "rating", "price", "-price", "experience"] = "relevance"
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


class RejectIn(Strict):
    reason: str = Field(..., min_length=3, max_length=1000)


class AdminTutorRow(Schema):
    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    title: str
    status: str
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    rejection_reason: str


# --- availability -----------------------------------------------------------------------------------


class RuleIn(Strict):
    weekday: int = Field(..., ge=0, le=6, description="0 = Monday ... 6 = Sunday, in the tutor's zone")
    start_time: dt.time
    end_time: dt.time


class RuleOut(Schema):
    id: uuid.UUID
    weekday: int
    start_time: dt.time
    end_time: dt.time


class RulesReplaceIn(Strict):
    rules: list[RuleIn] = Field(..., max_length=100)


class ExceptionIn(Strict):
    date: dt.date
    kind: Literal["off", "extra"]
    start_time: dt.time | None = None
    end_time: dt.time | None = None


class ExceptionOut(Schema):
    id: uuid.UUID
    date: dt.date
    kind: str
    start_time: dt.time | None
    end_time: dt.time | None


class AvailabilitySettingsIn(Strict):
    min_notice_minutes: int | None = Field(None, ge=0, le=14 * 24 * 60)
    horizon_days: int | None = Field(None, ge=1, le=365)
    buffer_minutes: int | None = Field(None, ge=0, le=240)
    session_lengths: list[Literal[30, 45, 60, 90]] | None = Field(None, min_length=1, max_length=4)


class AvailabilityOut(Schema):
    timezone: str
    min_notice_minutes: int
    horizon_days: int
    buffer_minutes: int
    session_lengths: list[int]
    rules: list[RuleOut]
    exceptions: list[ExceptionOut]


class SlotsQuery(QuerySchema):
    start: dt.date = Field(..., description="First day, in the zone tz")
    end: dt.date = Field(..., description="Last day (inclusive), in the zone tz")
    duration: int = Field(60, ge=1, le=24 * 60, description="Session length in minutes")
    tz: str = Field("UTC", max_length=64, description="IANA zone the days are in and local times are given in")

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _check_tz(v)


class SlotOut(Schema):
    start_utc: dt.datetime
    end_utc: dt.datetime
    start_local: str
    end_local: str


class SlotsOut(Schema):
    tutor_id: uuid.UUID
    duration: int
    tz: str
    tutor_timezone: str
    slots: list[SlotOut]


# --- bookings ---------------------------------------------------------------------------------------


class BookingIn(Strict):
    tutor_id: uuid.UUID
    subject_id: uuid.UUID
    starts_at: dt.datetime
    duration_minutes: Literal[30, 45, 60, 90]
    mode: Literal["online", "in_person"] = "online"
    notes: str = Field("", max_length=2000)
    package_purchase_id: uuid.UUID | None = None


class ReasonIn(Strict):
    reason: str = Field("", max_length=1000)


class RescheduleIn(Strict):
    starts_at: dt.datetime
    reason: str = Field("", max_length=1000)


class PartyOut(Schema):
    id: uuid.UUID
    name: str


class BookingEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor_id: uuid.UUID | None
    details: dict
    created_at: dt.datetime


class BookingOut(Schema):
    id: uuid.UUID
    status: str
    tutor_id: uuid.UUID
    tutor: PartyOut
    student: PartyOut
    subject: SubjectBrief
    starts_at: dt.datetime
    ends_at: dt.datetime
    duration_minutes: int
    mode: str
    price_minor: int
    currency: str
    package_purchase_id: uuid.UUID | None
    proposed_starts_at: dt.datetime | None
    proposed_by_id: uuid.UUID | None
    payment_state: str
    created_at: dt.datetime


class BookingDetailOut(BookingOut):
    notes: str
    meeting_url: str
    status_reason: str
    refund_eligible: bool | None
    proposal_reason: str
    history: list[BookingEventOut]


class BookingListQuery(QuerySchema):
    role: Literal["student", "tutor"] | None = Field(None, description="Defaults to the caller's role")
    when: Literal["upcoming", "past", "all"] = "all"
    status: str | None = Field(None, max_length=100, description="Comma-separated statuses")
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


# --- packages ---------------------------------------------------------------------------------------


class PackageIn(Strict):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    session_count: int = Field(..., ge=1, le=100)
    duration_minutes: Literal[30, 45, 60, 90]
    price_minor: int = Field(..., ge=0, le=100_000_000)
    validity_days: int = Field(90, ge=1, le=730)


class PackagePatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=2000)
    price_minor: int | None = Field(None, ge=0, le=100_000_000)
    validity_days: int | None = Field(None, ge=1, le=730)
    is_active: bool | None = None


class PackageOut(Schema):
    id: uuid.UUID
    tutor_id: uuid.UUID
    name: str
    description: str
    session_count: int
    duration_minutes: int
    price_minor: int
    currency: str
    validity_days: int
    is_active: bool


class PurchaseOut(Schema):
    id: uuid.UUID
    package_id: uuid.UUID
    tutor_id: uuid.UUID
    student_id: uuid.UUID
    status: str
    sessions_total: int
    credits_remaining: int
    duration_minutes: int
    price_minor: int
    currency: str
    activated_at: dt.datetime | None
    expires_at: dt.datetime | None
    created_at: dt.datetime


# --- reviews, favourites, calendar --------------------------------------------------------------


class ReviewIn(Strict):
    booking_id: uuid.UUID
    rating: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=3000)


class ReviewResponseIn(Strict):
    response: str = Field(..., min_length=1, max_length=3000)


class ReviewHideIn(Strict):
    hidden: bool = True


class ReviewOut(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    tutor_id: uuid.UUID
    student_name: str
    rating: int
    comment: str
    response: str
    responded_at: dt.datetime | None
    is_hidden: bool
    created_at: dt.datetime


class FeedOut(Schema):
    url: str
    token: str
    created_at: dt.datetime
