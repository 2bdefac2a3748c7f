"""The marketplace's tables: subjects, tutor profiles, availability, bookings, packages, reviews."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_tz


class Subject(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    category = models.CharField(max_length=60, blank=True, db_index=True)
    description = models.TextField(blank=True, max_length=2000)
    is_archived = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(default=dj_tz.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TutorStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


DEFAULT_SESSION_LENGTHS = [30, 45, 60, 90]


def _default_lengths() -> list[int]:
    return list(DEFAULT_SESSION_LENGTHS)


class TutorProfile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_profile")
    title = models.CharField(max_length=120, blank=True)
    headline = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True, max_length=5000)
    teaching_philosophy = models.TextField(blank=True, max_length=3000)
    hourly_rate_minor = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    experience_years = models.PositiveSmallIntegerField(default=0)
    education = models.JSONField(default=list, blank=True)
    certifications = models.JSONField(default=list, blank=True)
    subjects = models.ManyToManyField(Subject, related_name="tutors", blank=True)
    intro_video_url = models.URLField(blank=True, max_length=500)
    photo = models.CharField(max_length=255, blank=True)  # storage name from core.files.store_file
    timezone = models.CharField(max_length=64, default="UTC")
    status = models.CharField(max_length=20, choices=TutorStatus.choices, default=TutorStatus.DRAFT, db_index=True)
    rejection_reason = models.TextField(blank=True, max_length=1000)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Availability settings
    min_notice_minutes = models.PositiveIntegerField(default=12 * 60)
    horizon_days = models.PositiveIntegerField(default=60)
    buffer_minutes = models.PositiveIntegerField(default=0)
    session_lengths = models.JSONField(default=_default_lengths)
    # Aggregates kept by review services (never computed per row)
    rating_sum = models.PositiveIntegerField(default=0)
    review_count = models.PositiveIntegerField(default=0)
    average_rating = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    # Denormalised text for search: name, headline, bio
    search_document = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=dj_tz.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "-average_rating"], name="mkt_tutor_status_rating"),
            models.Index(fields=["status", "hourly_rate_minor"], name="mkt_tutor_status_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.user.email} ({self.status})"

    def refresh_search_document(self) -> None:
        user = self.user
        self.search_document = " ".join(p for p in (user.first_name, user.last_name, self.title, self.headline, self.bio) if p)


class TutorLanguage(models.Model):
    profile = models.ForeignKey(TutorProfile, on_delete=models.CASCADE, related_name="languages")
    code = models.CharField(max_length=16, db_index=True)  # ISO 639-1 or BCP 47 tag, lower case
    proficiency = models.CharField(max_length=20, default="fluent")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "code"], name="mkt_language_once")]
        ordering = ["id"]


class AvailabilityRule(models.Model):
    """Weekly recurring hours in the tutor's own zone. weekday: 0 = Monday ... 6 = Sunday."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey(TutorProfile, on_delete=models.CASCADE, related_name="rules")
    weekday = models.PositiveSmallIntegerField()
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="mkt_rule_weekday"),
            models.CheckConstraint(condition=Q(start_time__lt=models.F("end_time")), name="mkt_rule_order"),
        ]


class ExceptionKind(models.TextChoices):
    OFF = "off", "Time off"
    EXTRA = "extra", "Extra hours"


class AvailabilityException(models.Model):
    """A date in the tutor's zone: a day off (no times = the whole day) or extra hours."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey(TutorProfile, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField()
    kind = models.CharField(max_length=8, choices=ExceptionKind.choices)
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "start_time"]
        indexes = [models.Index(fields=["profile", "date"], name="mkt_exception_day")]


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW_STUDENT = "no_show_student", "Student did not show"
    NO_SHOW_TUTOR = "no_show_tutor", "Tutor did not show"


ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class BookingMode(models.TextChoices):
    ONLINE = "online", "Online"
    IN_PERSON = "in_person", "In person"


class Package(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tutor = models.ForeignKey(TutorProfile, on_delete=models.CASCADE, related_name="packages")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    session_count = models.PositiveSmallIntegerField()
    duration_minutes = models.PositiveSmallIntegerField()
    price_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    validity_days = models.PositiveSmallIntegerField(default=90)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=dj_tz.now)

    class Meta:
        ordering = ["created_at"]


class PurchaseStatus(models.TextChoices):
    PENDING = "pending", "Pending payment"
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"


class PackagePurchase(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="purchases")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="package_purchases")
    tutor = models.ForeignKey(TutorProfile, on_delete=models.CASCADE, related_name="package_purchases")
    status = models.CharField(max_length=12, choices=PurchaseStatus.choices, default=PurchaseStatus.PENDING, db_index=True)
    sessions_total = models.PositiveSmallIntegerField()
    credits_remaining = models.IntegerField()
    duration_minutes = models.PositiveSmallIntegerField()
    price_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    validity_days = models.PositiveSmallIntegerField()
    activated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_tz.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(credits_remaining__gte=0), name="mkt_credits_not_negative")]

    def is_usable(self, at=None) -> bool:
        at = at or dj_tz.now()
        return self.status == PurchaseStatus.ACTIVE and self.expires_at is not None and self.expires_at > at


class Booking(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes where a composite index below starts with the column: every index is
    # maintained on every insert, and on every status change (an UPDATE of an indexed column is never
    # HOT). Each is one more write per booking for no read that needs it.
    tutor = models.ForeignKey(TutorProfile, on_delete=models.PROTECT, related_name="bookings", db_index=False)
    tutor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tutor_bookings", db_index=False
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="student_bookings", db_index=False
    )
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # ends_at plus the tutor's buffer at booking time: the range the exclusion constraint guards.
    blocked_until = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    mode = models.CharField(max_length=10, choices=BookingMode.choices, default=BookingMode.ONLINE)
    notes = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=20, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    price_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    package_purchase = models.ForeignKey(
        PackagePurchase, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    credit_consumed = models.BooleanField(default=False)
    meeting_url = models.URLField(blank=True, max_length=500)
    status_reason = models.TextField(blank=True, max_length=1000)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    refund_eligible = models.BooleanField(null=True, blank=True)
    proposed_starts_at = models.DateTimeField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    proposal_reason = models.TextField(blank=True, max_length=1000)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Filled from the payments module's events (by UUID; no foreign key across modules).
    payment_state = models.CharField(max_length=12, default="unpaid")  # unpaid | paid | refunded
    payment_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_tz.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not a column: the whole history when the instance was just created here (services set it), so the
    # answer needs no read-back; None means "read it".
    recorded_events: list[BookingEvent] | None = None

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["tutor", "starts_at"], name="mkt_booking_tutor_start"),
            models.Index(fields=["student", "starts_at"], name="mkt_booking_student_start"),
            models.Index(fields=["tutor_user", "starts_at"], name="mkt_booking_tutoruser_start"),
            models.Index(fields=["status", "starts_at"], name="mkt_booking_status_start"),
            # Nullable references, set on few rows: indexed only where set (deleting an account or a
            # purchase finds its rows; a new booking writes none of them).
            models.Index(fields=["package_purchase"], condition=Q(package_purchase__isnull=False), name="mkt_booking_purchase"),
            models.Index(fields=["cancelled_by"], condition=Q(cancelled_by__isnull=False), name="mkt_booking_cancelled_by"),
            models.Index(fields=["proposed_by"], condition=Q(proposed_by__isnull=False), name="mkt_booking_proposed_by"),
        ]
        constraints = [models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="mkt_booking_order")]


class BookingEvent(models.Model):
    """The history of a booking: who did what, when."""

    id = models.BigAutoField(primary_key=True)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=dj_tz.now)

    class Meta:
        ordering = ["created_at", "id"]


class Review(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="review")
    tutor = models.ForeignKey(TutorProfile, on_delete=models.CASCADE, related_name="reviews")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marketplace_reviews")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=3000)
    response = models.TextField(blank=True, max_length=3000)
    responded_at = models.DateTimeField(null=True, blank=True)
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=dj_tz.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tutor", "-created_at"], name="mkt_review_tutor_recent")]
        constraints = [models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="mkt_review_rating_range")]


class Favourite(models.Model):
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourite_tutors")
    tutor = models.ForeignKey(TutorProfile, on_delete=models.CASCADE, related_name="favourited_by")
    created_at = models.DateTimeField(default=dj_tz.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["student", "tutor"], name="mkt_favourite_once")]


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A private iCalendar subscription URL per user; rotating the token revokes the old URL."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marketplace_calendar")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=dj_tz.now)
