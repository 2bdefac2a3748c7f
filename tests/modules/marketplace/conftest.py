"""Marketplace fixtures: subjects, an approved tutor with weekly hours, a helper for future times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from core.models import Role
from modules.marketplace.models import AvailabilityRule, Subject, TutorLanguage, TutorProfile, TutorStatus


@pytest.fixture
def subject(db: Any) -> Subject:
    return Subject.objects.create(name="Mathematics", category="STEM")


@pytest.fixture
def make_tutor(make_user: Callable[..., Any], subject: Subject) -> Callable[..., TutorProfile]:
    """An approved tutor, by default in UTC, free 08:00-20:00 every day, rate 6000 minor/hour."""

    def factory(
        *,
        tz: str = "UTC",
        rate: int = 6000,
        hours: tuple[str, str] = ("08:00", "20:00"),
        status: str = TutorStatus.APPROVED,
        **fields: Any,
    ) -> TutorProfile:
        user = make_user(Role.TUTOR, timezone=tz, first_name=fields.pop("first_name", "Tina"))
        profile = TutorProfile.objects.create(
            user=user,
            title=fields.pop("title", "Maths tutor"),
            headline=fields.pop("headline", "Patient maths help"),
            bio=fields.pop("bio", "I teach algebra and calculus to secondary students."),
            hourly_rate_minor=rate,
            currency="USD",
            timezone=tz,
            status=status,
            **fields,
        )
        profile.subjects.add(subject)
        TutorLanguage.objects.create(profile=profile, code="en", proficiency="native")
        profile.refresh_search_document()
        profile.save()
        start, end = (dt.time.fromisoformat(h) for h in hours)
        AvailabilityRule.objects.bulk_create(
            [AvailabilityRule(profile=profile, weekday=d, start_time=start, end_time=end) for d in range(7)]
        )
        return profile

    return factory


@pytest.fixture
def tutor_profile(make_tutor: Callable[..., TutorProfile]) -> TutorProfile:
    return make_tutor()


def future(days: int = 3, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A UTC time ``days`` from today at hour:minute (beyond the default 12 h notice when days >= 1)."""
    day = timezone.now().date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def book(client: Any, profile: TutorProfile, subject: Subject, starts_at: dt.datetime, duration: int = 60, **extra: Any) -> Any:
    body = {"tutor_id": str(profile.id), "subject_id": str(subject.id), "starts_at": iso(starts_at), "duration_minutes": duration}
    body.update(extra)
    return client.post("/marketplace/bookings", body)
