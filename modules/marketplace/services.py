"""The marketplace's domain operations: check_* validate and raise, do_* change one thing atomically.

No HTTP here. Every booking transition locks the booking row, checks the state it is allowed from,
records a BookingEvent and publishes a domain event (durable for bookings and money).

Double booking: on PostgreSQL two exclusion constraints (tutor x [start, blocked_until) and
student x [start, end), for pending and confirmed bookings) make the database refuse overlaps; the
losers' 23P01/40P01/40001 become 409. On SQLite every write transaction starts with BEGIN IMMEDIATE
(settings), so the overlap check and the insert inside one transaction.atomic() are serialised.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.api.auth import remember_users
from core.cache import bump_now_and_on_commit
from core.db import (
    batched_writes,
    db_uuid,
    from_db_row,
    from_db_rows,
    from_db_value,
    insert_row,
    select_columns,
    update_row,
)
from core.errors import BadRequest, Conflict, NotFound, PermissionDenied, ValidationFailed
from core.events import publish
from core.models import Role, User
from modules.marketplace import events as ev
from modules.marketplace.availability import DayException, Rule, availability_utc, within_availability
from modules.marketplace.models import (
    ACTIVE_STATUSES,
    AvailabilityException,
    AvailabilityRule,
    Booking,
    BookingEvent,
    BookingMode,
    BookingStatus,
    CalendarFeed,
    ExceptionKind,
    Favourite,
    Package,
    PackagePurchase,
    PurchaseStatus,
    Review,
    Subject,
    TutorLanguage,
    TutorProfile,
    TutorStatus,
    new_feed_token,
)
from modules.marketplace.ports import meetings

NS_PUBLIC = "mkt:public"  # search, public profiles, subjects, reviews
ALLOWED_LENGTHS = (30, 45, 60, 90)
CONFLICT_SQLSTATES = {"23P01", "40P01", "40001", "55P03"}


def refund_cutoff_hours() -> int:
    return int(getattr(settings, "BOOKING_REFUND_CUTOFF_HOURS", 24))


def pending_expiry_hours() -> int:
    return int(getattr(settings, "BOOKING_PENDING_EXPIRY_HOURS", 24))


def slots_namespace(tutor_id: uuid.UUID) -> str:
    return f"mkt:slots:{tutor_id}"


def invalidate_public() -> None:
    bump_now_and_on_commit(NS_PUBLIC)


def invalidate_slots(tutor_id: uuid.UUID) -> None:
    bump_now_and_on_commit(slots_namespace(tutor_id))


def bookings_namespace(user_id: Any) -> str:
    """A user's own booking lists (student or tutor side), cached per caller."""
    return f"mkt:bookings:{user_id}"


def invalidate_bookings_of(*user_ids: Any) -> None:
    bump_now_and_on_commit(*(bookings_namespace(u) for u in {u for u in user_ids if u}))


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


class TransientConflict(Exception):
    """A deadlock or serialisation failure: nothing was written, so the caller may retry once."""


RETRYABLE_SQLSTATES = {"40P01", "40001"}


# The PostgreSQL exclusion constraints on bookings, and what their refusal tells the student.
_OVERLAP_CONFLICTS = {
    "mkt_booking_tutor_no_overlap": ("That time has just been taken; choose another", "slot_taken"),
    "mkt_booking_student_no_overlap": ("You already have a booking at that time", "student_busy"),
}


@contextmanager
def conflicts_as_409(
    message: str, code: str, *, retryable: bool = False, constraints: Mapping[str, tuple[str, str]] | None = None
) -> Iterator[None]:
    """Constraint or lock races the database settled (23505, 23P01, 40P01, 40001) become a 409.

    With ``retryable``, a deadlock or serialisation failure raises TransientConflict instead, so a
    caller whose whole transaction rolled back can try once more before answering 409. A refusal by
    a constraint named in ``constraints`` answers that constraint's (message, code) instead.
    """
    try:
        yield
    except IntegrityError as exc:
        name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        message, code = (constraints or {}).get(name or "", (message, code))
        raise Conflict(message, code=code) from exc
    except (OperationalError, DatabaseError) as exc:
        state = _sqlstate(exc)
        if retryable and state in RETRYABLE_SQLSTATES:
            raise TransientConflict(state) from exc
        if state in CONFLICT_SQLSTATES or "locked" in str(exc).lower():
            raise Conflict(message, code=code) from exc
        raise


def aware(value: dt.datetime) -> dt.datetime:
    """Naive times from clients are UTC."""
    if timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


# --- subjects --------------------------------------------------------------------------------------


def do_create_subject(*, name: str, category: str = "", description: str = "") -> Subject:
    name = name.strip()
    if Subject.objects.filter(name__iexact=name).exists():
        raise Conflict(f"A subject named {name!r} exists already", code="subject_exists")
    with conflicts_as_409("A subject with that name exists already", "subject_exists"), transaction.atomic():
        subject = Subject.objects.create(name=name, category=category.strip(), description=description)
    invalidate_public()
    return subject


def do_update_subject(*, subject: Subject, changes: dict[str, Any]) -> Subject:
    if "name" in changes and changes["name"] is not None:
        name = changes["name"].strip()
        if Subject.objects.filter(name__iexact=name).exclude(pk=subject.pk).exists():
            raise Conflict(f"A subject named {name!r} exists already", code="subject_exists")
        changes["name"] = name
    for key, value in changes.items():
        if value is not None:
            setattr(subject, key, value)
    with conflicts_as_409("A subject with that name exists already", "subject_exists"), transaction.atomic():
        subject.save()
    invalidate_public()
    return subject


def do_delete_subject(*, subject: Subject) -> None:
    if subject.tutors.exists() or subject.bookings.exists():
        raise Conflict("Tutors teach this subject (or bookings use it); archive it instead", code="subject_in_use")
    subject.delete()
    invalidate_public()


# --- tutor profiles --------------------------------------------------------------------------------


def get_or_create_profile(*, user: User) -> TutorProfile:
    if user.role != Role.TUTOR:
        raise PermissionDenied("Only tutors have a tutor profile", code="role_required")
    profile = TutorProfile.objects.filter(user=user).first()
    if profile is None:
        with transaction.atomic():
            profile, _ = TutorProfile.objects.get_or_create(
                user=user, defaults={"timezone": user.timezone or "UTC", "currency": user.currency or "USD"}
            )
            profile.refresh_search_document()
            profile.save(update_fields=["search_document"])
    return profile


PROFILE_FIELDS = (
    "title",
    "headline",
    "bio",
    "teaching_philosophy",
    "hourly_rate_minor",
    "currency",
    "experience_years",
    "education",
    "certifications",
    "intro_video_url",
    "timezone",
)


def do_update_profile(*, profile: TutorProfile, changes: dict[str, Any]) -> TutorProfile:
    with transaction.atomic():
        profile = TutorProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
        for key in PROFILE_FIELDS:
            if key in changes and changes[key] is not None:
                setattr(profile, key, changes[key])
        if changes.get("subject_ids") is not None:
            ids = list(dict.fromkeys(changes["subject_ids"]))
            subjects = list(Subject.objects.filter(id__in=ids, is_archived=False))
            if len(subjects) != len(ids):
                raise ValidationFailed(
                    "Unknown or archived subject",
                    errors=[
                        {
                            "field": "subject_ids",
                            "loc": ["subject_ids"],
                            "message": "unknown or archived subject",
                            "type": "invalid",
                        }
                    ],
                )
            profile.subjects.set(subjects)
        if changes.get("languages") is not None:
            TutorLanguage.objects.filter(profile=profile).delete()
            seen: set[str] = set()
            rows = []
            for lang in changes["languages"]:
                code = lang["code"].lower()
                if code in seen:
                    continue
                seen.add(code)
                rows.append(TutorLanguage(profile=profile, code=code, proficiency=lang["proficiency"]))
            TutorLanguage.objects.bulk_create(rows)
        profile.refresh_search_document()
        profile.save()
    invalidate_public()
    invalidate_slots(profile.id)
    return profile


def check_profile_complete(profile: TutorProfile) -> None:
    missing = []
    if not profile.title.strip():
        missing.append("title")
    if not profile.headline.strip():
        missing.append("headline")
    if len(profile.bio.strip()) < 20:
        missing.append("bio")
    if profile.hourly_rate_minor <= 0:
        missing.append("hourly_rate_minor")
    if not profile.subjects.exists():
        missing.append("subject_ids")
    if not profile.languages.exists():
        missing.append("languages")
    if missing:
        raise ValidationFailed(
            "The profile is not complete: " + ", ".join(missing),
            code="profile_incomplete",
            errors=[{"field": f, "loc": [f], "message": "required before submitting", "type": "missing"} for f in missing],
        )


def do_submit_profile(*, profile: TutorProfile) -> TutorProfile:
    with transaction.atomic():
        profile = TutorProfile.objects.select_for_update().get(pk=profile.pk)
        if profile.status not in (TutorStatus.DRAFT, TutorStatus.REJECTED):
            raise Conflict(f"A profile that is {profile.status} cannot be submitted", code="invalid_state")
        check_profile_complete(profile)
        profile.status = TutorStatus.PENDING
        profile.submitted_at = timezone.now()
        profile.rejection_reason = ""
        profile.save(update_fields=["status", "submitted_at", "rejection_reason", "updated_at"])
        publish(ev.TutorSubmitted(tutor_id=profile.id, tutor_user_id=profile.user_id))
    return profile


def do_review_profile(*, profile_id: uuid.UUID, admin: User, approve: bool, reason: str = "") -> TutorProfile:
    with transaction.atomic():
        profile = TutorProfile.objects.select_for_update().filter(pk=profile_id).first()
        if profile is None:
            raise NotFound("No tutor profile with that id")
        if profile.status != TutorStatus.PENDING:
            raise Conflict(f"Only a profile pending approval can be reviewed; this one is {profile.status}", code="invalid_state")
        profile.status = TutorStatus.APPROVED if approve else TutorStatus.REJECTED
        profile.rejection_reason = "" if approve else reason
        profile.reviewed_at = timezone.now()
        profile.save(update_fields=["status", "rejection_reason", "reviewed_at", "updated_at"])
        if approve:
            publish(ev.TutorApproved(tutor_id=profile.id, tutor_user_id=profile.user_id, admin_id=admin.id))
        else:
            publish(ev.TutorRejected(tutor_id=profile.id, tutor_user_id=profile.user_id, admin_id=admin.id, reason=reason))
    invalidate_public()
    return profile


def refresh_stale_search_documents(*, batch: int = 500) -> int:
    """Names live on core's User: re-index profiles whose user changed after the profile (a task)."""
    stale = list(
        TutorProfile.objects.filter(user__updated_at__gt=F("updated_at")).select_related("user").order_by("updated_at")[:batch]
    )
    for profile in stale:
        profile.refresh_search_document()
        profile.save(update_fields=["search_document", "updated_at"])
    if stale:
        invalidate_public()
    return len(stale)


# --- availability ----------------------------------------------------------------------------------


def _check_rule(weekday: int, start: dt.time, end: dt.time) -> None:
    if not 0 <= weekday <= 6:
        raise ValidationFailed("weekday must be 0 (Monday) to 6 (Sunday)")
    if start >= end:
        raise ValidationFailed("A rule must end after it starts", code="invalid_rule")


def do_replace_rules(*, profile: TutorProfile, rules: list[dict[str, Any]]) -> list[AvailabilityRule]:
    for r in rules:
        _check_rule(r["weekday"], r["start_time"], r["end_time"])
    with transaction.atomic():
        AvailabilityRule.objects.filter(profile=profile).delete()
        created = AvailabilityRule.objects.bulk_create(
            [
                AvailabilityRule(profile=profile, weekday=r["weekday"], start_time=r["start_time"], end_time=r["end_time"])
                for r in rules
            ]
        )
    invalidate_slots(profile.id)
    invalidate_public()
    return created


def do_add_rule(*, profile: TutorProfile, weekday: int, start_time: dt.time, end_time: dt.time) -> AvailabilityRule:
    _check_rule(weekday, start_time, end_time)
    rule = AvailabilityRule.objects.create(profile=profile, weekday=weekday, start_time=start_time, end_time=end_time)
    invalidate_slots(profile.id)
    invalidate_public()
    return rule


def do_delete_rule(*, profile: TutorProfile, rule_id: uuid.UUID) -> None:
    deleted, _ = AvailabilityRule.objects.filter(profile=profile, id=rule_id).delete()
    if not deleted:
        raise NotFound("No availability rule with that id")
    invalidate_slots(profile.id)
    invalidate_public()


def do_add_exception(
    *, profile: TutorProfile, date: dt.date, kind: str, start_time: dt.time | None, end_time: dt.time | None
) -> AvailabilityException:
    if (start_time is None) != (end_time is None):
        raise ValidationFailed("Give both start_time and end_time, or neither (a whole day off)")
    if start_time is not None and end_time is not None and start_time >= end_time:
        raise ValidationFailed("An exception must end after it starts")
    if kind == ExceptionKind.EXTRA and start_time is None:
        raise ValidationFailed("Extra hours need a start_time and an end_time")
    exc = AvailabilityException.objects.create(profile=profile, date=date, kind=kind, start_time=start_time, end_time=end_time)
    invalidate_slots(profile.id)
    return exc


def do_delete_exception(*, profile: TutorProfile, exception_id: uuid.UUID) -> None:
    deleted, _ = AvailabilityException.objects.filter(profile=profile, id=exception_id).delete()
    if not deleted:
        raise NotFound("No availability exception with that id")
    invalidate_slots(profile.id)


def do_update_availability_settings(*, profile: TutorProfile, changes: dict[str, Any]) -> TutorProfile:
    for key in ("min_notice_minutes", "horizon_days", "buffer_minutes", "session_lengths"):
        if changes.get(key) is not None:
            setattr(profile, key, changes[key])
    if changes.get("session_lengths") is not None:
        lengths = sorted(set(changes["session_lengths"]))
        if not lengths or any(n not in ALLOWED_LENGTHS for n in lengths):
            raise ValidationFailed(f"Session lengths must be among {ALLOWED_LENGTHS}", code="invalid_lengths")
        profile.session_lengths = lengths
    profile.save()
    invalidate_slots(profile.id)
    return profile


def load_availability(profile: TutorProfile, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The weekly rules and the exceptions in range in one statement; expansion in Python. (As two
    ORM queries they cost more CPU to build and read than the database spent answering them, on
    every booking request and every cold slots page.)"""
    first = start.date() - dt.timedelta(days=1)
    last = end.date() + dt.timedelta(days=1)
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT weekday, NULL, NULL, start_time, end_time FROM {AvailabilityRule._meta.db_table}
                WHERE profile_id = %s
                UNION ALL
                SELECT NULL, date, kind, start_time, end_time FROM {AvailabilityException._meta.db_table}
                WHERE profile_id = %s AND date >= %s AND date <= %s""",
            [db_uuid(profile.id), db_uuid(profile.id), ops.adapt_datefield_value(first), ops.adapt_datefield_value(last)],
        )
        rows = cursor.fetchall()
    time_field, date_field = AvailabilityRule._meta.get_field("start_time"), AvailabilityException._meta.get_field("date")

    def as_time(value: Any) -> dt.time | None:
        return from_db_value(time_field, value)

    rules = [Rule(weekday, as_time(a), as_time(b)) for weekday, _, _, a, b in rows if weekday is not None]
    exceptions = [
        DayException(from_db_value(date_field, day), kind, as_time(a), as_time(b))
        for weekday, day, kind, a, b in rows
        if weekday is None
    ]
    return availability_utc(tz_name=profile.timezone, rules=rules, exceptions=exceptions, start=start, end=end)


# --- bookings: checks ------------------------------------------------------------------------------


def check_bookable_time(
    *,
    profile: TutorProfile,
    student: User,
    starts_at: dt.datetime,
    duration: int,
    exclude_booking: uuid.UUID | None = None,
    check_clashes: bool = True,
) -> tuple[dt.datetime, dt.datetime]:
    """Raise 400/409 with a reason a client can show; returns (ends_at, blocked_until). Without
    ``check_clashes`` other bookings are not looked at: the caller's write meets the constraints."""
    now = timezone.now()
    if duration not in (profile.session_lengths or ALLOWED_LENGTHS):
        raise BadRequest(
            f"This tutor offers sessions of {', '.join(str(n) for n in profile.session_lengths)} minutes", code="invalid_duration"
        )
    ends_at = starts_at + dt.timedelta(minutes=duration)
    if starts_at <= now:
        raise BadRequest("That time is in the past", code="in_the_past")
    if starts_at < now + dt.timedelta(minutes=profile.min_notice_minutes):
        hours = profile.min_notice_minutes / 60
        raise BadRequest(f"This tutor needs at least {hours:g} hours' notice", code="inside_notice")
    if starts_at > now + dt.timedelta(days=profile.horizon_days):
        raise BadRequest(f"This tutor takes bookings up to {profile.horizon_days} days ahead", code="beyond_horizon")
    window = load_availability(profile, starts_at - dt.timedelta(days=1), ends_at + dt.timedelta(days=1))
    if not within_availability(window, starts_at, ends_at):
        raise Conflict("The tutor is not available at that time", code="outside_availability")
    blocked_until = ends_at + dt.timedelta(minutes=profile.buffer_minutes)
    if not check_clashes:
        return ends_at, blocked_until
    clashes = _clashes(profile.id, student.id, starts_at, ends_at, blocked_until, exclude_booking)
    if any(tutor_clash for (tutor_clash,) in clashes):
        raise Conflict("That time has just been taken; choose another", code="slot_taken")
    if clashes:
        raise Conflict("You already have a booking at that time", code="student_busy")
    return ends_at, blocked_until


def _clashes(
    tutor_id: uuid.UUID,
    student_id: uuid.UUID,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    blocked_until: dt.datetime,
    exclude_booking: uuid.UUID | None,
) -> list[tuple[Any]]:
    """Active bookings in the way, each flagged when it is the tutor's (else it is the student's).

    The same rule as the PostgreSQL exclusion constraints: the tutor's guarded ranges [start,
    blocked_until) never overlap, nor do the student's sessions [start, end). Both sides in one
    statement (two index scans, OR-ed), written by hand because it runs on every booking request."""
    tutor_sql, tutor_params = _overlap_sql("blocked_until", starts_at, blocked_until)
    student_sql, student_params = _overlap_sql("ends_at", starts_at, ends_at)
    tutor = db_uuid(tutor_id)
    statuses = [str(status.value) for status in ACTIVE_STATUSES]
    params: list[Any] = [tutor, *tutor_params, *statuses, tutor, *tutor_params, db_uuid(student_id), *student_params]
    exclude = ""
    if exclude_booking is not None:
        exclude, params = "AND id <> %s", [*params, db_uuid(exclude_booking)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT CASE WHEN tutor_id = %s AND {tutor_sql} THEN 1 ELSE 0 END FROM {Booking._meta.db_table}
                WHERE status IN ({", ".join(["%s"] * len(statuses))})
                  AND ((tutor_id = %s AND {tutor_sql}) OR (student_id = %s AND {student_sql})) {exclude}
                LIMIT 3""",
            params,
        )
        return cursor.fetchall()


def _overlap_sql(end_column: str, start: dt.datetime, end: dt.datetime, *, table: str = "") -> tuple[str, list[Any]]:
    """``overlapping`` as SQL text (its terms and its reason), columns qualified by ``table`` if given."""
    first, last = (f'"{table}"."starts_at"', f'"{table}"."{end_column}"') if table else ("starts_at", end_column)
    if connection.vendor == "postgresql":
        return f"tstzrange({first}, {last}, '[)') && tstzrange(%s, %s, '[)')", [start, end]
    adapt = connection.ops.adapt_datetimefield_value
    return f"{first} < %s AND {last} > %s", [adapt(end), adapt(start)]


def overlapping(end_column: str, start: dt.datetime, end: dt.datetime) -> Q:
    """Bookings whose [starts_at, <end_column>) overlaps [start, end).

    On PostgreSQL in the exclusion constraints' own terms (tstzrange ... &&), so their GiST indexes
    answer with index conditions on the party and the range whatever the statistics say. With plain
    comparisons the planner, told by statistics taken before the active bookings existed that few
    rows are active, walked the whole partial index: 8.4 ms of database CPU per check on 1M bookings,
    0.4 ms with the range (and after an ANALYZE)."""
    if connection.vendor == "postgresql":
        sql, params = _overlap_sql(end_column, start, end, table=Booking._meta.db_table)
        return Q(RawSQL(sql, params, output_field=BooleanField()))
    return Q(starts_at__lt=end, **{f"{end_column}__gt": start})


def price_for(profile: TutorProfile, duration: int) -> int:
    return (profile.hourly_rate_minor * duration + 30) // 60


def _record(
    booking: Booking, *, actor: User | None, action: str, from_status: str, details: dict[str, Any] | None = None
) -> BookingEvent:
    event = BookingEvent(
        booking=booking, actor=actor, action=action, from_status=from_status, to_status=booking.status, details=details or {}
    )
    insert_row(event)
    return event


# --- bookings: operations --------------------------------------------------------------------------


def do_request_booking(
    *,
    student: User,
    tutor_id: uuid.UUID,
    subject_id: uuid.UUID,
    starts_at: dt.datetime,
    duration_minutes: int,
    mode: str = BookingMode.ONLINE,
    notes: str = "",
    package_purchase_id: uuid.UUID | None = None,
) -> Booking:
    if student.role != Role.STUDENT:
        raise PermissionDenied("Only students book sessions", code="role_required")
    profile, subject = _bookable_profile(tutor_id, subject_id)
    if profile is None:
        raise NotFound("No bookable tutor with that id")
    if profile.user_id == student.id:
        raise BadRequest("You cannot book yourself", code="self_booking")
    if subject is None:
        raise BadRequest("This tutor does not teach that subject", code="subject_not_taught")
    remember_users(profile.user)  # the handlers telling the tutor read it from here
    starts_at = aware(starts_at)
    for attempt in (1, 2):  # one retry after a deadlock or serialisation failure; never after a real overlap
        try:
            with (
                conflicts_as_409(
                    "That time has just been taken; choose another",
                    "slot_taken",
                    retryable=attempt == 1,
                    constraints=_OVERLAP_CONFLICTS,
                ),
                transaction.atomic(),
            ):
                booking = _insert_booking(
                    student=student,
                    profile=profile,
                    subject_id=subject_id,
                    starts_at=starts_at,
                    duration_minutes=duration_minutes,
                    mode=mode,
                    notes=notes,
                    package_purchase_id=package_purchase_id,
                )
            break
        except TransientConflict:
            continue
    invalidate_slots(profile.id)
    # What the answer shows, from what is already loaded (no re-read).
    booking.tutor_user, booking.student = profile.user, student
    booking.subject = subject
    return booking


# What booking needs of a profile (the rest stays deferred): read with the user row in one statement.
_BOOKING_PROFILE_FIELDS = (
    "id",
    "user_id",
    "status",
    "timezone",
    "hourly_rate_minor",
    "currency",
    "min_notice_minutes",
    "horizon_days",
    "buffer_minutes",
    "session_lengths",
)


def _bookable_profile(tutor_id: uuid.UUID, subject_id: uuid.UUID) -> tuple[TutorProfile | None, Subject | None]:
    """The approved profile (the columns booking reads) with its user row and, if the tutor teaches it,
    the subject, in one statement on a plain cursor: as ORM queries they cost more CPU to build and
    read than the database spent on them, and ``p.*`` sent the profile's bio and search text too."""
    through = TutorProfile.subjects.through._meta.db_table
    # In the model's field order: from_db() fills the deferred rest by walking its fields in order.
    profile_fields = [f for f in TutorProfile._meta.concrete_fields if f.attname in _BOOKING_PROFILE_FIELDS]
    user_fields = User._meta.concrete_fields
    columns = ", ".join(
        [f'p."{f.column}"' for f in profile_fields] + [f'u."{f.column}"' for f in user_fields] + ["s.id", "s.name", "s.category"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {columns}
                FROM {TutorProfile._meta.db_table} p
                JOIN {User._meta.db_table} u ON u.id = p.user_id
                LEFT JOIN {through} ts ON ts.tutorprofile_id = p.id AND ts.subject_id = %s
                LEFT JOIN {Subject._meta.db_table} s ON s.id = ts.subject_id
                WHERE p.id = %s AND p.status = %s""",
            [db_uuid(subject_id), db_uuid(tutor_id), TutorStatus.APPROVED],
        )
        row = cursor.fetchone()
    if row is None:
        return None, None
    n, m = len(profile_fields), len(user_fields)
    profile = TutorProfile.from_db(
        connection.alias,
        [f.attname for f in profile_fields],
        [from_db_value(f, v) for f, v in zip(profile_fields, row[:n], strict=True)],
    )
    profile.user = from_db_row(User, row[n : n + m])
    taught_id, taught_name, taught_category = row[n + m :]
    if taught_id is None:
        return profile, None
    subject = Subject.from_db(
        connection.alias,
        ["id", "name", "category"],
        [from_db_value(Subject._meta.pk, taught_id), taught_name, taught_category],
    )
    return profile, subject


def _insert_booking(
    *,
    student: User,
    profile: TutorProfile,
    subject_id: uuid.UUID,
    starts_at: dt.datetime,
    duration_minutes: int,
    mode: str,
    notes: str,
    package_purchase_id: uuid.UUID | None,
) -> Booking:
    # On PostgreSQL the exclusion constraints decide (the caller answers their refusal with the same
    # 409s, _OVERLAP_CONFLICTS), so the overlap pre-check, a statement and its round trip, is skipped.
    ends_at, blocked_until = check_bookable_time(
        profile=profile,
        student=student,
        starts_at=starts_at,
        duration=duration_minutes,
        check_clashes=connection.vendor != "postgresql",
    )
    purchase = None
    if package_purchase_id is not None:
        purchase = _reserve_credit(student=student, profile=profile, purchase_id=package_purchase_id, duration=duration_minutes)
    with batched_writes():  # the booking, its history row and the outbox row: one statement
        booking = Booking(
            tutor=profile,
            tutor_user=profile.user,
            student=student,
            subject_id=subject_id,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_until=blocked_until,
            duration_minutes=duration_minutes,
            mode=mode,
            notes=notes,
            price_minor=price_for(profile, duration_minutes),
            currency=profile.currency,
            package_purchase=purchase,
        )
        insert_row(booking)  # no post_save: the bookings lists' bump is made here
        invalidate_bookings_of(student.id, profile.user_id)
        booking.recorded_events = [
            _record(booking, actor=student, action="requested", from_status="", details={"starts_at": starts_at.isoformat()})
        ]
        publish(
            ev.BookingRequested(
                booking_id=booking.id,
                student_id=student.id,
                tutor_id=profile.id,
                tutor_user_id=profile.user_id,
                subject_id=subject_id,
                starts_at=starts_at,
                ends_at=ends_at,
                amount_minor=booking.price_minor,
                currency=booking.currency,
                package_purchase_id=purchase.id if purchase else None,
            ),
            durable=True,
        )
    return booking


def _reserve_credit(*, student: User, profile: TutorProfile, purchase_id: uuid.UUID, duration: int) -> PackagePurchase:
    """Lock the purchase; a credit is free when credits_remaining exceeds the pending bookings holding one."""
    purchase = PackagePurchase.objects.select_for_update().filter(pk=purchase_id, student=student).first()
    if purchase is None:
        raise NotFound("No package purchase of yours with that id")
    if purchase.tutor_id != profile.id:
        raise BadRequest("That package is for another tutor", code="package_other_tutor")
    if not purchase.is_usable():
        code = "package_expired" if purchase.status == PurchaseStatus.ACTIVE else "package_not_active"
        raise Conflict("That package cannot be used (not active or expired)", code=code)
    if purchase.duration_minutes != duration:
        raise BadRequest(f"That package is for {purchase.duration_minutes}-minute sessions", code="package_duration")
    held = Booking.objects.filter(package_purchase=purchase, status__in=ACTIVE_STATUSES, credit_consumed=False).count()
    if purchase.credits_remaining - held <= 0:
        raise Conflict("No credits left on that package", code="no_credits")
    return purchase


def _lock_booking(booking_id: uuid.UUID, viewer: User | None) -> Booking:
    """Lock the booking row (with the names an answer shows, read in the same statement); 404 when
    ``viewer`` (None for scheduled tasks) is neither a party nor an admin, as if it did not exist.

    Hand-written: every transition starts here, and building this four-table query through the ORM
    cost a third of a confirmation's CPU in the running stack."""
    b, u = Booking._meta.db_table, User._meta.db_table
    sql = (
        f"SELECT {select_columns(Booking, 'b')}, {select_columns(User, 'su')}, {select_columns(User, 'tu')}, "
        f"{select_columns(Subject, 's')} FROM {b} b JOIN {u} su ON su.id = b.student_id "
        f"JOIN {u} tu ON tu.id = b.tutor_user_id JOIN {Subject._meta.db_table} s ON s.id = b.subject_id WHERE b.id = %s"
    )
    params: list[Any] = [db_uuid(booking_id)]
    if viewer is not None and viewer.role != Role.ADMIN:
        sql += " AND (b.student_id = %s OR b.tutor_user_id = %s)"
        params += [db_uuid(viewer.pk), db_uuid(viewer.pk)]
    if connection.features.has_select_for_update:  # SQLite: its IMMEDIATE transactions serialise writers
        sql += " FOR UPDATE OF b"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No booking with that id, or you may not see it")
    booking, student, tutor_user, subject = from_db_rows(row, Booking, User, User, Subject)
    booking.student, booking.tutor_user, booking.subject = student, tutor_user, subject
    remember_users(booking.student, booking.tutor_user)  # the handlers telling them read them from here
    return booking


def _save_booking(booking: Booking, fields: list[str] | None = None) -> None:
    """Write a locked booking's changes in one statement (core.db.update_row; every column when
    ``fields`` is None) and drop both parties' cached booking lists, which the post_save listener
    does for saves made elsewhere (the admin, fixtures)."""
    update_row(booking, fields)
    invalidate_bookings_of(booking.student_id, booking.tutor_user_id)


def _require_state(booking: Booking, *allowed: str) -> None:
    if booking.status not in allowed:
        raise Conflict(
            f"A booking that is {booking.status} cannot do that (allowed from: {', '.join(allowed)})",
            code="invalid_transition",
            status_now=booking.status,
        )


def _require_party(booking: Booking, actor: User, *who: str) -> None:
    ok = (
        ("tutor" in who and booking.tutor_user_id == actor.id)
        or ("student" in who and booking.student_id == actor.id)
        or ("admin" in who and actor.role == Role.ADMIN)
    )
    if not ok:
        raise PermissionDenied(f"Only the {' or '.join(who)} may do this", code="not_allowed_for_party")


def do_confirm_booking(*, booking_id: uuid.UUID, actor: User) -> Booking:
    with conflicts_as_409("A concurrent change won; reload and retry", "conflict"), transaction.atomic(), batched_writes():
        booking = _lock_booking(booking_id, actor)
        _require_party(booking, actor, "tutor")
        _require_state(booking, BookingStatus.PENDING)
        if booking.starts_at <= timezone.now():
            raise Conflict("The session has already started; it can no longer be confirmed", code="booking_started")
        if booking.package_purchase_id:
            purchase = PackagePurchase.objects.select_for_update().get(pk=booking.package_purchase_id)
            if not purchase.is_usable():
                raise Conflict("The package paying for this booking has expired", code="package_expired")
            if purchase.credits_remaining <= 0:
                raise Conflict("No credits left on the package paying for this booking", code="no_credits")
            PackagePurchase.objects.filter(pk=purchase.pk).update(credits_remaining=F("credits_remaining") - 1)
            booking.credit_consumed = True
            publish(
                ev.PackageCreditConsumed(
                    purchase_id=purchase.pk, booking_id=booking.id, credits_remaining=purchase.credits_remaining - 1
                ),
                durable=True,
            )
        if booking.mode == BookingMode.ONLINE and not booking.meeting_url:
            booking.meeting_url = meetings().create_room(
                booking_id=booking.id, starts_at=booking.starts_at, ends_at=booking.ends_at, title="Tutoring session"
            )
        booking.status = BookingStatus.CONFIRMED
        booking.confirmed_at = timezone.now()
        _save_booking(booking, ["status", "confirmed_at", "meeting_url", "credit_consumed", "updated_at"])
        _record(booking, actor=actor, action="confirmed", from_status=BookingStatus.PENDING)
        publish(
            ev.BookingConfirmed(
                booking_id=booking.id,
                student_id=booking.student_id,
                tutor_user_id=booking.tutor_user_id,
                starts_at=booking.starts_at,
                ends_at=booking.ends_at,
                amount_minor=booking.price_minor,
                currency=booking.currency,
                package_purchase_id=booking.package_purchase_id,
                meeting_url=booking.meeting_url,
            ),
            durable=True,
        )
    return booking


def _clear_proposal(booking: Booking) -> None:
    booking.proposed_starts_at = None
    booking.proposed_by = None
    booking.proposal_reason = ""


def do_decline_booking(*, booking_id: uuid.UUID, actor: User, reason: str = "") -> Booking:
    with transaction.atomic(), batched_writes():
        booking = _lock_booking(booking_id, actor)
        _require_party(booking, actor, "tutor")
        _require_state(booking, BookingStatus.PENDING)
        booking.status = BookingStatus.DECLINED
        booking.status_reason = reason
        _clear_proposal(booking)
        _save_booking(booking)
        _record(booking, actor=actor, action="declined", from_status=BookingStatus.PENDING, details={"reason": reason})
        publish(
            ev.BookingDeclined(
                booking_id=booking.id,
                student_id=booking.student_id,
                tutor_user_id=booking.tutor_user_id,
                starts_at=booking.starts_at,
                reason=reason,
            ),
            durable=True,
        )
    invalidate_slots(booking.tutor_id)
    return booking


def do_cancel_booking(*, booking_id: uuid.UUID, actor: User, reason: str = "") -> Booking:
    with transaction.atomic(), batched_writes():
        booking = _lock_booking(booking_id, actor)
        _require_party(booking, actor, "student", "tutor", "admin")
        _require_state(booking, BookingStatus.PENDING, BookingStatus.CONFIRMED)
        now = timezone.now()
        if booking.starts_at <= now:
            raise Conflict("The session has already started; it can no longer be cancelled", code="booking_started")
        previous = booking.status
        by_student = actor.id == booking.student_id
        # The student is refunded when the tutor (or an admin) cancels, or when they cancel before the cutoff.
        refund = (
            (not by_student)
            or previous == BookingStatus.PENDING
            or (booking.starts_at - now >= dt.timedelta(hours=refund_cutoff_hours()))
        )
        booking.status = BookingStatus.CANCELLED
        booking.status_reason = reason
        booking.cancelled_by = actor
        booking.refund_eligible = refund
        _clear_proposal(booking)
        if booking.credit_consumed and refund and booking.package_purchase_id:
            PackagePurchase.objects.select_for_update().filter(pk=booking.package_purchase_id).update(
                credits_remaining=F("credits_remaining") + 1
            )
            booking.credit_consumed = False
            remaining = PackagePurchase.objects.values_list("credits_remaining", flat=True).get(pk=booking.package_purchase_id)
            publish(
                ev.PackageCreditReturned(
                    purchase_id=booking.package_purchase_id, booking_id=booking.id, credits_remaining=remaining
                ),
                durable=True,
            )
        _save_booking(booking)
        _record(
            booking, actor=actor, action="cancelled", from_status=previous, details={"reason": reason, "refund_eligible": refund}
        )
        publish(
            ev.BookingCancelled(
                booking_id=booking.id,
                student_id=booking.student_id,
                tutor_user_id=booking.tutor_user_id,
                cancelled_by_id=actor.id,
                starts_at=booking.starts_at,
                amount_minor=booking.price_minor,
                currency=booking.currency,
                refund_eligible=refund,
                was_confirmed=previous == BookingStatus.CONFIRMED,
                package_purchase_id=booking.package_purchase_id,
                reason=reason,
            ),
            durable=True,
        )
    invalidate_slots(booking.tutor_id)
    return booking


def do_complete_booking(*, booking_id: uuid.UUID, actor: User | None) -> Booking:
    """The tutor (or the scheduled task, actor None) marks a confirmed session completed after its end."""
    with transaction.atomic(), batched_writes():
        booking = _lock_booking(booking_id, actor)
        if actor is not None:
            _require_party(booking, actor, "tutor", "admin")
        _require_state(booking, BookingStatus.CONFIRMED)
        if booking.ends_at > timezone.now():
            raise Conflict("The session has not ended yet", code="not_ended")
        booking.status = BookingStatus.COMPLETED
        _clear_proposal(booking)
        _save_booking(booking)
        _record(booking, actor=actor, action="completed", from_status=BookingStatus.CONFIRMED, details={"auto": actor is None})
        publish(
            ev.BookingCompleted(
                booking_id=booking.id,
                student_id=booking.student_id,
                tutor_user_id=booking.tutor_user_id,
                starts_at=booking.starts_at,
                ends_at=booking.ends_at,
                amount_minor=booking.price_minor,
                currency=booking.currency,
                package_purchase_id=booking.package_purchase_id,
            ),
            durable=True,
        )
    return booking


def do_mark_no_show(*, booking_id: uuid.UUID, actor: User, who: str) -> Booking:
    with transaction.atomic(), batched_writes():
        booking = _lock_booking(booking_id, actor)
        _require_party(booking, actor, "tutor" if who == "student" else "admin")
        _require_state(booking, BookingStatus.CONFIRMED)
        if booking.starts_at > timezone.now():
            raise Conflict("The session has not started yet", code="not_started")
        booking.status = BookingStatus.NO_SHOW_STUDENT if who == "student" else BookingStatus.NO_SHOW_TUTOR
        if who == "tutor":
            booking.refund_eligible = True
            if booking.credit_consumed and booking.package_purchase_id:
                PackagePurchase.objects.filter(pk=booking.package_purchase_id).update(
                    credits_remaining=F("credits_remaining") + 1
                )
                booking.credit_consumed = False
        _clear_proposal(booking)
        _save_booking(booking)
        _record(booking, actor=actor, action=f"no_show_{who}", from_status=BookingStatus.CONFIRMED)
        publish(
            ev.BookingNoShow(
                booking_id=booking.id,
                student_id=booking.student_id,
                tutor_user_id=booking.tutor_user_id,
                who=who,
                starts_at=booking.starts_at,
                amount_minor=booking.price_minor,
                currency=booking.currency,
            ),
            durable=True,
        )
    return booking


def do_propose_reschedule(*, booking_id: uuid.UUID, actor: User, starts_at: dt.datetime, reason: str = "") -> Booking:
    starts_at = aware(starts_at)
    with transaction.atomic(), batched_writes():
        booking = _lock_booking(booking_id, actor)
        _require_party(booking, actor, "student", "tutor")
        _require_state(booking, BookingStatus.PENDING, BookingStatus.CONFIRMED)
        if booking.proposed_starts_at is not None:
            raise Conflict("A new time is already proposed; accept or decline it first", code="reschedule_pending")
        if booking.starts_at <= timezone.now():
            raise Conflict("The session has already started", code="booking_started")
        if starts_at == booking.starts_at:
            raise BadRequest("That is the current time of the booking", code="same_time")
        profile = TutorProfile.objects.get(pk=booking.tutor_id)
        check_bookable_time(
            profile=profile,
            student=booking.student,
            starts_at=starts_at,
            duration=booking.duration_minutes,
            exclude_booking=booking.id,
        )
        booking.proposed_starts_at = starts_at
        booking.proposed_by = actor
        booking.proposal_reason = reason
        _save_booking(booking)
        _record(
            booking,
            actor=actor,
            action="reschedule_proposed",
            from_status=booking.status,
            details={"proposed_starts_at": starts_at.isoformat(), "reason": reason},
        )
        publish(
            ev.BookingRescheduleProposed(
                booking_id=booking.id,
                student_id=booking.student_id,
                tutor_user_id=booking.tutor_user_id,
                proposed_by_id=actor.id,
                starts_at=booking.starts_at,
                proposed_starts_at=starts_at,
                reason=reason,
            ),
            durable=True,
        )
    return booking


def do_answer_reschedule(*, booking_id: uuid.UUID, actor: User, accept: bool) -> Booking:
    with conflicts_as_409("That time has just been taken; choose another", "slot_taken"), transaction.atomic(), batched_writes():
        booking = _lock_booking(booking_id, actor)
        _require_party(booking, actor, "student", "tutor")
        _require_state(booking, BookingStatus.PENDING, BookingStatus.CONFIRMED)
        if booking.proposed_starts_at is None:
            raise Conflict("No new time is proposed for this booking", code="no_reschedule_pending")
        if booking.proposed_by_id == actor.id:
            raise PermissionDenied("The other party answers a proposal, not the one who made it", code="own_proposal")
        proposed = booking.proposed_starts_at
        if not accept:
            _clear_proposal(booking)
            _save_booking(booking)
            _record(
                booking,
                actor=actor,
                action="reschedule_declined",
                from_status=booking.status,
                details={"proposed_starts_at": proposed.isoformat()},
            )
            publish(
                ev.BookingRescheduleDeclined(
                    booking_id=booking.id,
                    student_id=booking.student_id,
                    tutor_user_id=booking.tutor_user_id,
                    proposed_starts_at=proposed,
                ),
                durable=True,
            )
            return booking
        profile = TutorProfile.objects.get(pk=booking.tutor_id)
        ends_at, blocked_until = check_bookable_time(
            profile=profile,
            student=booking.student,
            starts_at=proposed,
            duration=booking.duration_minutes,
            exclude_booking=booking.id,
        )
        previous = booking.starts_at
        booking.starts_at, booking.ends_at, booking.blocked_until = proposed, ends_at, blocked_until
        _clear_proposal(booking)
        _save_booking(booking)
        _record(
            booking,
            actor=actor,
            action="rescheduled",
            from_status=booking.status,
            details={"previous_starts_at": previous.isoformat(), "starts_at": proposed.isoformat()},
        )
        publish(
            ev.BookingRescheduled(
                booking_id=booking.id,
                student_id=booking.student_id,
                tutor_user_id=booking.tutor_user_id,
                previous_starts_at=previous,
                starts_at=proposed,
                ends_at=ends_at,
            ),
            durable=True,
        )
    invalidate_slots(booking.tutor_id)
    return booking


def expire_pending_bookings(*, now: dt.datetime | None = None) -> int:
    """Pending bookings not confirmed before their start, or within BOOKING_PENDING_EXPIRY_HOURS."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=pending_expiry_hours())
    ids = list(
        Booking.objects.filter(Q(starts_at__lte=now) | Q(created_at__lte=cutoff), status=BookingStatus.PENDING).values_list(
            "id", flat=True
        )[:500]
    )
    done = 0
    for booking_id in ids:
        with transaction.atomic(), batched_writes():
            booking = Booking.objects.select_for_update().filter(pk=booking_id, status=BookingStatus.PENDING).first()
            if booking is None:  # confirmed or expired meanwhile: idempotent
                continue
            booking.status = BookingStatus.EXPIRED
            _clear_proposal(booking)
            _save_booking(booking)
            _record(booking, actor=None, action="expired", from_status=BookingStatus.PENDING)
            publish(
                ev.BookingExpired(
                    booking_id=booking.id,
                    student_id=booking.student_id,
                    tutor_user_id=booking.tutor_user_id,
                    starts_at=booking.starts_at,
                ),
                durable=True,
            )
            invalidate_slots(booking.tutor_id)
            done += 1
    return done


def complete_finished_bookings(*, now: dt.datetime | None = None) -> int:
    """Confirmed sessions that ended more than BOOKING_AUTOCOMPLETE_AFTER_HOURS ago become completed."""
    now = now or timezone.now()
    grace = dt.timedelta(hours=int(getattr(settings, "BOOKING_AUTOCOMPLETE_AFTER_HOURS", 2)))
    ids = list(
        Booking.objects.filter(status=BookingStatus.CONFIRMED, ends_at__lte=now - grace).values_list("id", flat=True)[:500]
    )
    done = 0
    for booking_id in ids:
        try:
            do_complete_booking(booking_id=booking_id, actor=None)
            done += 1
        except Conflict:
            continue
    return done


# --- packages --------------------------------------------------------------------------------------


def do_create_package(*, profile: TutorProfile, data: dict[str, Any]) -> Package:
    if data["duration_minutes"] not in ALLOWED_LENGTHS:
        raise ValidationFailed(f"duration_minutes must be one of {ALLOWED_LENGTHS}", code="invalid_duration")
    return Package.objects.create(tutor=profile, currency=profile.currency, **data)


def do_update_package(*, package: Package, changes: dict[str, Any]) -> Package:
    for key, value in changes.items():
        if value is not None:
            setattr(package, key, value)
    package.save()
    return package


def do_purchase_package(*, student: User, package_id: uuid.UUID) -> PackagePurchase:
    if student.role != Role.STUDENT:
        raise PermissionDenied("Only students buy packages", code="role_required")
    package = (
        Package.objects.select_related("tutor").filter(pk=package_id, is_active=True, tutor__status=TutorStatus.APPROVED).first()
    )
    if package is None:
        raise NotFound("No package on sale with that id")
    with transaction.atomic():
        purchase = PackagePurchase.objects.create(
            package=package,
            student=student,
            tutor=package.tutor,
            sessions_total=package.session_count,
            credits_remaining=package.session_count,
            duration_minutes=package.duration_minutes,
            price_minor=package.price_minor,
            currency=package.currency,
            validity_days=package.validity_days,
        )
        publish(
            ev.PackagePurchased(
                purchase_id=purchase.id,
                package_id=package.id,
                student_id=student.id,
                tutor_user_id=package.tutor.user_id,
                amount_minor=package.price_minor,
                currency=package.currency,
                sessions=package.session_count,
            ),
            durable=True,
        )
    return purchase


def do_activate_purchase(*, purchase_id: uuid.UUID, now: dt.datetime | None = None) -> PackagePurchase:
    """Admin (until the payments module exists) or a payment handler activates a pending purchase."""
    now = now or timezone.now()
    with transaction.atomic():
        purchase = PackagePurchase.objects.select_for_update().select_related("tutor").filter(pk=purchase_id).first()
        if purchase is None:
            raise NotFound("No package purchase with that id")
        if purchase.status != PurchaseStatus.PENDING:
            raise Conflict(f"A purchase that is {purchase.status} cannot be activated", code="invalid_state")
        purchase.status = PurchaseStatus.ACTIVE
        purchase.activated_at = now
        purchase.expires_at = now + dt.timedelta(days=purchase.validity_days)
        purchase.save()
        publish(
            ev.PackageActivated(
                purchase_id=purchase.id,
                student_id=purchase.student_id,
                tutor_user_id=purchase.tutor.user_id,
                expires_at=purchase.expires_at,
            ),
            durable=True,
        )
    return purchase


# --- reviews and favourites ------------------------------------------------------------------------


def _apply_rating(profile_id: uuid.UUID, delta_sum: int, delta_count: int) -> None:
    profile = TutorProfile.objects.select_for_update().get(pk=profile_id)
    profile.rating_sum = max(0, profile.rating_sum + delta_sum)
    profile.review_count = max(0, profile.review_count + delta_count)
    profile.average_rating = round(profile.rating_sum / profile.review_count, 2) if profile.review_count else 0
    profile.save(update_fields=["rating_sum", "review_count", "average_rating"])


def do_create_review(*, student: User, booking_id: uuid.UUID, rating: int, comment: str = "") -> Review:
    with conflicts_as_409("This booking is already reviewed", "already_reviewed"), transaction.atomic():
        booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None or (booking.student_id != student.id and booking.tutor_user_id != student.id):
            raise NotFound("No booking with that id")
        if booking.student_id != student.id:
            raise PermissionDenied("Only the student of a booking reviews it", code="not_allowed_for_party")
        if booking.status != BookingStatus.COMPLETED:
            raise Conflict("Only a completed session can be reviewed", code="not_completed")
        if Review.objects.filter(booking=booking).exists():
            raise Conflict("This booking is already reviewed", code="already_reviewed")
        review = Review.objects.create(
            booking=booking, tutor_id=booking.tutor_id, student=student, rating=rating, comment=comment
        )
        _apply_rating(booking.tutor_id, rating, 1)
        publish(
            ev.ReviewCreated(
                review_id=review.id,
                booking_id=booking.id,
                tutor_id=booking.tutor_id,
                tutor_user_id=booking.tutor_user_id,
                student_id=student.id,
                rating=rating,
            )
        )
    invalidate_public()
    return review


def do_respond_review(*, tutor_user: User, review_id: uuid.UUID, response: str) -> Review:
    with transaction.atomic():
        review = Review.objects.select_for_update().select_related("tutor").filter(pk=review_id).first()
        if review is None or review.tutor.user_id != tutor_user.id:
            raise NotFound("No review of yours with that id")
        if review.responded_at is not None:
            raise Conflict("You have already responded to this review", code="already_responded")
        review.response = response
        review.responded_at = timezone.now()
        review.save(update_fields=["response", "responded_at"])
        publish(ev.ReviewResponded(review_id=review.id, tutor_user_id=tutor_user.id, student_id=review.student_id))
    invalidate_public()
    return review


def do_hide_review(*, review_id: uuid.UUID, hidden: bool) -> Review:
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(pk=review_id).first()
        if review is None:
            raise NotFound("No review with that id")
        if review.is_hidden != hidden:
            review.is_hidden = hidden
            review.save(update_fields=["is_hidden"])
            sign = -1 if hidden else 1
            _apply_rating(review.tutor_id, sign * review.rating, sign)
            publish(ev.ReviewHidden(review_id=review.id, tutor_id=review.tutor_id, hidden=hidden))
    invalidate_public()
    return review


def do_add_favourite(*, student: User, tutor_id: uuid.UUID) -> bool:
    if student.role != Role.STUDENT:
        raise PermissionDenied("Only students keep favourite tutors", code="role_required")
    if not TutorProfile.objects.filter(pk=tutor_id, status=TutorStatus.APPROVED).exists():
        raise NotFound("No tutor with that id")
    with transaction.atomic():
        _, created = Favourite.objects.get_or_create(student=student, tutor_id=tutor_id)
    return created


def do_remove_favourite(*, student: User, tutor_id: uuid.UUID) -> None:
    Favourite.objects.filter(student=student, tutor_id=tutor_id).delete()


# --- calendar feed ---------------------------------------------------------------------------------


def get_or_create_feed(*, user: User) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


def do_rotate_feed(*, user: User) -> CalendarFeed:
    feed, created = CalendarFeed.objects.get_or_create(user=user)
    if not created:
        feed.token = new_feed_token()
        feed.created_at = timezone.now()
        feed.save(update_fields=["token", "created_at"])
    return feed


def do_revoke_feed(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()
