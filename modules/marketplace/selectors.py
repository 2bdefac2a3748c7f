"""Read queries tuned for the API: a fixed number of queries whatever the page size."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import BooleanField, Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.api.pagination import PageQuery, paginate
from core.cache import versioned_key
from core.db import db_uuid, from_db_row, select_columns
from core.errors import BadRequest, NotFound
from core.models import User
from modules.marketplace.availability import BusyIndex, free_slots
from modules.marketplace.models import (
    ACTIVE_STATUSES,
    AvailabilityException,
    AvailabilityRule,
    Booking,
    BookingEvent,
    BookingStatus,
    ExceptionKind,
    Review,
    Subject,
    TutorLanguage,
    TutorProfile,
    TutorStatus,
)
from modules.marketplace.services import NS_PUBLIC, aware, load_availability, overlapping

MAX_SLOT_RANGE_DAYS = 62


def photo_url(profile: TutorProfile) -> str | None:
    if profile.photo:
        try:
            return default_storage.url(profile.photo)
        except Exception:  # noqa: BLE001 - a storage without URLs
            return None
    if profile.user.avatar:
        return profile.user.avatar.url
    return None


def public_tutors() -> QuerySet[TutorProfile]:
    # "Not one of the few unusable accounts" (a small partial index) rather than a join with every
    # user: the join made PostgreSQL hash all 110,000 users for each search count.
    unusable = User.objects.filter(Q(is_active=False) | Q(deleted_at__isnull=False)).values("id")
    return TutorProfile.objects.filter(status=TutorStatus.APPROVED).exclude(user_id__in=unusable)


def with_related(qs: QuerySet[TutorProfile], *, join_user: bool = True) -> QuerySet[TutorProfile]:
    """Subjects and languages prefetched; the user joined, or (for ranked pages) prefetched for the
    page's rows only, so that the join cannot stop PostgreSQL from stopping at the page's LIMIT."""
    related = [
        Prefetch("subjects", queryset=Subject.objects.only("id", "name", "category").order_by("name")),
        Prefetch("languages", queryset=TutorLanguage.objects.order_by("id")),
    ]
    if join_user:
        return qs.select_related("user").prefetch_related(*related)
    return qs.prefetch_related("user", *related)


def profile_dict(profile: TutorProfile, *, own: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": profile.id,
        "user_id": profile.user_id,
        "name": profile.user.full_name,
        "title": profile.title,
        "headline": profile.headline,
        "bio": profile.bio,
        "teaching_philosophy": profile.teaching_philosophy,
        "hourly_rate_minor": profile.hourly_rate_minor,
        "currency": profile.currency,
        "experience_years": profile.experience_years,
        "languages": [{"code": lang.code, "proficiency": lang.proficiency} for lang in profile.languages.all()],
        "education": list(profile.education or []),
        "certifications": list(profile.certifications or []),
        "subjects": [{"id": s.id, "name": s.name, "category": s.category} for s in profile.subjects.all()],
        "intro_video_url": profile.intro_video_url,
        "photo_url": photo_url(profile),
        "timezone": profile.timezone,
        "average_rating": float(profile.average_rating),
        "review_count": profile.review_count,
        "session_lengths": list(profile.session_lengths or []),
        "min_notice_minutes": profile.min_notice_minutes,
        "horizon_days": profile.horizon_days,
    }
    if own:
        data.update(
            status=profile.status,
            rejection_reason=profile.rejection_reason,
            submitted_at=profile.submitted_at,
            buffer_minutes=profile.buffer_minutes,
        )
    return data


def get_public_profile(tutor_id: uuid.UUID) -> dict[str, Any]:
    profile = with_related(public_tutors()).filter(pk=tutor_id).first()
    if profile is None:
        raise NotFound("No tutor with that id")
    return profile_dict(profile)


def search_row(profile: TutorProfile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "user_id": profile.user_id,
        "name": profile.user.full_name,
        "title": profile.title,
        "headline": profile.headline,
        "hourly_rate_minor": profile.hourly_rate_minor,
        "currency": profile.currency,
        "experience_years": profile.experience_years,
        "languages": [{"code": lang.code, "proficiency": lang.proficiency} for lang in profile.languages.all()],
        "subjects": [{"id": s.id, "name": s.name, "category": s.category} for s in profile.subjects.all()],
        "photo_url": photo_url(profile),
        "average_rating": float(profile.average_rating),
        "review_count": profile.review_count,
        "rank": float(profile.rank) if getattr(profile, "rank", None) is not None else None,
    }


def _subject_filter(value: str) -> Q:
    try:
        subject_id = uuid.UUID(value)
    except ValueError:
        return Q(
            Exists(TutorProfile.subjects.through.objects.filter(tutorprofile_id=OuterRef("pk"), subject__name__iexact=value))
        )
    return Q(Exists(TutorProfile.subjects.through.objects.filter(tutorprofile_id=OuterRef("pk"), subject_id=subject_id)))


def search_tutors(params: Any) -> dict[str, Any]:
    """Approved tutors matching the filters: one COUNT, one SELECT, two prefetches."""
    qs = public_tutors()
    if params.subject:
        qs = qs.filter(_subject_filter(params.subject))
    if params.min_price is not None:
        qs = qs.filter(hourly_rate_minor__gte=params.min_price)
    if params.max_price is not None:
        qs = qs.filter(hourly_rate_minor__lte=params.max_price)
    if params.min_experience is not None:
        qs = qs.filter(experience_years__gte=params.min_experience)
    if params.min_rating is not None:
        qs = qs.filter(average_rating__gte=params.min_rating)
    if params.languages:
        codes = [c.strip().lower() for c in params.languages.split(",") if c.strip()][:10]
        if codes:
            qs = qs.filter(Exists(TutorLanguage.objects.filter(profile_id=OuterRef("pk"), code__in=codes)))
    if params.available_from or params.available_to:
        start = params.available_from or timezone.now().date()
        end = params.available_to or start + dt.timedelta(days=7)
        if end < start:
            raise BadRequest("available_to is before available_from", code="invalid_range")
        if (end - start).days > MAX_SLOT_RANGE_DAYS:
            raise BadRequest(f"The availability range may span at most {MAX_SLOT_RANGE_DAYS} days", code="range_too_long")
        weekdays = {(start + dt.timedelta(days=i)).weekday() for i in range(min(7, (end - start).days + 1))}
        # Weekly hours on a weekday in the range, or extra hours on a date in it (slots are checked on booking).
        qs = qs.filter(
            Exists(AvailabilityRule.objects.filter(profile_id=OuterRef("pk"), weekday__in=weekdays))
            | Exists(
                AvailabilityException.objects.filter(
                    profile_id=OuterRef("pk"), kind=ExceptionKind.EXTRA, date__gte=start, date__lte=end
                )
            )
        )
    ordering: list[Any] = []
    text = (params.q or "").strip()
    if text:
        if settings.IS_POSTGRES:
            # search_tsv: a stored, GIN-indexed tsvector column (migration 0004), so ranking reads
            # it instead of recomputing to_tsvector for every matching row.
            tsquery = "websearch_to_tsquery('english', %s)"
            qs = qs.filter(RawSQL(f"marketplace_tutorprofile.search_tsv @@ {tsquery}", [text], output_field=BooleanField()))
            qs = qs.annotate(rank=RawSQL(f"ts_rank(marketplace_tutorprofile.search_tsv, {tsquery})", [text]))
            if params.sort == "relevance":
                ordering = ["-rank"]
        else:
            for word in text.split()[:8]:
                qs = qs.filter(search_document__icontains=word)
    sort_map = {
        "rating": ["-average_rating", "-review_count"],
        "price": ["hourly_rate_minor"],
        "-price": ["-hourly_rate_minor"],
        "experience": ["-experience_years"],
        "relevance": ["-average_rating", "-review_count"],
    }
    ordering = ordering or sort_map[params.sort]
    qs = with_related(qs.order_by(*ordering, "id"), join_user=False)
    rows, meta = paginate(qs, PageQuery(page=params.page, page_size=params.page_size))
    return {"items": [search_row(p) for p in rows], **meta}


def subjects_with_counts(include_archived: bool = False) -> list[dict[str, Any]]:
    qs = Subject.objects.all() if include_archived else Subject.objects.filter(is_archived=False)
    qs = qs.annotate(
        tutor_count=Count("tutors", filter=Q(tutors__status=TutorStatus.APPROVED, tutors__user__is_active=True), distinct=True)
    ).order_by("name")
    return [
        {
            "id": s.id,
            "name": s.name,
            "category": s.category,
            "description": s.description,
            "is_archived": s.is_archived,
            "tutor_count": s.tutor_count,
        }
        for s in qs
    ]


def tutor_reviews(tutor_id: uuid.UUID, params: PageQuery) -> dict[str, Any]:
    if not public_tutors().filter(pk=tutor_id).exists():
        raise NotFound("No tutor with that id")
    qs = Review.objects.filter(tutor_id=tutor_id, is_hidden=False).select_related("student").order_by("-created_at", "id")
    rows, meta = paginate(qs, params)
    return {"items": [review_dict(r) for r in rows], **meta}


def review_dict(review: Review) -> dict[str, Any]:
    student = review.student
    name = f"{student.first_name} {student.last_name[:1]}.".strip() if student.first_name else "A student"
    return {
        "id": review.id,
        "booking_id": review.booking_id,
        "tutor_id": review.tutor_id,
        "student_name": name,
        "rating": review.rating,
        "comment": review.comment,
        "response": review.response,
        "responded_at": review.responded_at,
        "is_hidden": review.is_hidden,
        "created_at": review.created_at,
    }


# --- slots ------------------------------------------------------------------------------------------


def compute_slots(
    profile: TutorProfile, *, start: dt.date, end: dt.date, duration: int, tz_name: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Free start times: one query for rules, one for exceptions, one for bookings; the rest in Python."""
    if end < start:
        raise BadRequest("end is before start", code="invalid_range")
    if (end - start).days + 1 > MAX_SLOT_RANGE_DAYS:
        raise BadRequest(f"A range may span at most {MAX_SLOT_RANGE_DAYS} days", code="range_too_long")
    if duration not in (profile.session_lengths or []):
        raise BadRequest(
            f"This tutor offers sessions of {', '.join(str(n) for n in profile.session_lengths)} minutes", code="invalid_duration"
        )
    now = now or timezone.now()
    zone = ZoneInfo(tz_name)
    window_start = dt.datetime.combine(start, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    window_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    availability = load_availability(profile, window_start, window_end)
    margin = dt.timedelta(minutes=duration + profile.buffer_minutes + 24 * 60)
    busy = BusyIndex(
        Booking.objects.filter(
            overlapping("blocked_until", window_start - margin, window_end + margin), tutor=profile, status__in=ACTIVE_STATUSES
        ).values_list("starts_at", "blocked_until")
    )
    starts = free_slots(
        availability=availability,
        busy=busy,
        duration=duration,
        buffer=profile.buffer_minutes,
        earliest=now + dt.timedelta(minutes=profile.min_notice_minutes),
        latest=now + dt.timedelta(days=profile.horizon_days),
        window_start=window_start,
        window_end=window_end,
    )
    length = dt.timedelta(minutes=duration)
    return {
        "tutor_id": profile.id,
        "duration": duration,
        "tz": tz_name,
        "tutor_timezone": profile.timezone,
        "slots": [
            {
                "start_utc": s,
                "end_utc": s + length,
                "start_local": s.astimezone(zone).isoformat(),
                "end_local": (s + length).astimezone(zone).isoformat(),
            }
            for s in starts
        ],
    }


# --- bookings ---------------------------------------------------------------------------------------


def booking_queryset() -> QuerySet[Booking]:
    return Booking.objects.select_related("tutor_user", "student", "subject")


def booking_dict(b: Booking) -> dict[str, Any]:
    return {
        "id": b.id,
        "status": b.status,
        "tutor_id": b.tutor_id,
        "tutor": {"id": b.tutor_user_id, "name": b.tutor_user.full_name},
        "student": {"id": b.student_id, "name": b.student.full_name},
        "subject": {"id": b.subject_id, "name": b.subject.name, "category": b.subject.category},
        "starts_at": b.starts_at,
        "ends_at": b.ends_at,
        "duration_minutes": b.duration_minutes,
        "mode": b.mode,
        "price_minor": b.price_minor,
        "currency": b.currency,
        "package_purchase_id": b.package_purchase_id,
        "proposed_starts_at": b.proposed_starts_at,
        "proposed_by_id": b.proposed_by_id,
        "payment_state": b.payment_state,
        "created_at": b.created_at,
    }


def booking_history(booking_id: uuid.UUID) -> list[BookingEvent]:
    """A booking's events in order, read with a plain cursor: it follows every transition's answer,
    and the queryset's machinery cost more CPU than the few rows it read."""
    sql = (
        f"SELECT {select_columns(BookingEvent, 'e')} FROM {BookingEvent._meta.db_table} e "
        "WHERE e.booking_id = %s ORDER BY e.created_at, e.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [db_uuid(booking_id)])
        return [from_db_row(BookingEvent, row) for row in cursor.fetchall()]


def booking_detail_dict(b: Booking, history: Iterable[BookingEvent] | None = None) -> dict[str, Any]:
    """``history`` in order when the caller has it (a booking just created); else read from ``b``."""
    data = booking_dict(b)
    data.update(
        notes=b.notes,
        meeting_url=b.meeting_url if b.status == BookingStatus.CONFIRMED else "",
        status_reason=b.status_reason,
        refund_eligible=b.refund_eligible,
        proposal_reason=b.proposal_reason,
        history=[
            {
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor_id": e.actor_id,
                "details": e.details,
                "created_at": e.created_at,
            }
            for e in (b.history.all() if history is None else history)
        ],
    )
    return data


def list_bookings(user: User, params: Any) -> dict[str, Any]:
    role = params.role or ("tutor" if user.role == "tutor" else "student")
    qs = booking_queryset().filter(**({"tutor_user": user} if role == "tutor" else {"student": user}))
    return _filtered_page(qs, params)


def list_all_bookings(params: Any) -> dict[str, Any]:
    qs = booking_queryset()
    if params.tutor_id:
        qs = qs.filter(tutor_id=params.tutor_id)
    if params.student_id:
        qs = qs.filter(student_id=params.student_id)
    return _filtered_page(qs, params)


def _filtered_page(qs: QuerySet[Booking], params: Any) -> dict[str, Any]:
    now = timezone.now()
    if params.when == "upcoming":
        qs = qs.filter(ends_at__gt=now).order_by("starts_at", "id")
    elif params.when == "past":
        qs = qs.filter(ends_at__lte=now).order_by("-starts_at", "id")
    else:
        qs = qs.order_by("-starts_at", "id")
    if params.status:
        statuses = [s.strip() for s in params.status.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in BookingStatus.values]
        if unknown:
            raise BadRequest(f"Unknown status {', '.join(unknown)}", code="invalid_status")
        qs = qs.filter(status__in=statuses)
    rows, meta = paginate(qs, PageQuery(page=params.page, page_size=params.page_size))
    return {"items": [booking_dict(b) for b in rows], **meta}


# --- suggestions for other modules (the AI coach) -----------------------------------------------


def suggest_tutors(*, subject_name: str, busy: list[tuple[dt.datetime, dt.datetime]], limit: int = 5) -> list[dict[str, Any]]:
    """Approved tutors teaching a subject whose name matches, each with its next free slots outside ``busy``."""
    limit = max(1, min(limit, 20))
    # The few matching subjects first: matching names inside the per-tutor EXISTS made PostgreSQL
    # test every approved tutor (100 ms on 10,000 tutors); with ids it walks the rating index.
    # Asked on every coach message (the weakest course's name, then its code): cached with the public
    # reads, which every subject change invalidates.
    key = versioned_key(NS_PUBLIC, "subject-ids", hashlib.sha1(subject_name.strip().lower().encode()).hexdigest())
    subject_ids = cache.get(key)
    if subject_ids is None:
        subject_ids = list(Subject.objects.filter(name__icontains=subject_name.strip()).values_list("id", flat=True)[:50])
        cache.set(key, subject_ids, 300)
    if not subject_ids:
        return []
    tutors = list(
        with_related(
            public_tutors().filter(
                Exists(TutorProfile.subjects.through.objects.filter(tutorprofile_id=OuterRef("pk"), subject_id__in=subject_ids))
            ),
            join_user=False,
        ).order_by("-average_rating", "-review_count", "id")[:limit]
    )
    busy_index = BusyIndex((aware(a), aware(b)) for a, b in busy if a and b)  # naive times are UTC
    today = timezone.now().date()
    out = []
    for profile in tutors:
        duration = 60 if 60 in (profile.session_lengths or []) else (profile.session_lengths or [60])[0]
        slots = compute_slots(profile, start=today, end=today + dt.timedelta(days=13), duration=duration, tz_name="UTC")
        free = [s for s in slots["slots"] if not busy_index.overlaps(s["start_utc"], s["end_utc"])][:3]
        row = search_row(profile)
        row["next_slots"] = [{"starts_at": s["start_utc"], "ends_at": s["end_utc"]} for s in free]
        row["duration"] = duration
        out.append(row)
    return out
