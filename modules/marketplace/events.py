"""The events this module publishes: its public contract (ids and primitives only).

Later modules subscribe by these type strings: notifications, payments, messaging, real time.
Booking and money events are published durable (outbox).
"""

from __future__ import annotations

import datetime as dt
import uuid

from core.events import event


@event("marketplace.booking_requested.v1")
class BookingRequested:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_id: uuid.UUID
    tutor_user_id: uuid.UUID
    subject_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    amount_minor: int
    currency: str
    package_purchase_id: uuid.UUID | None = None


@event("marketplace.booking_confirmed.v1")
class BookingConfirmed:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    amount_minor: int
    currency: str
    package_purchase_id: uuid.UUID | None = None
    meeting_url: str = ""


@event("marketplace.booking_declined.v1")
class BookingDeclined:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    starts_at: dt.datetime
    reason: str = ""


@event("marketplace.booking_expired.v1")
class BookingExpired:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    starts_at: dt.datetime


@event("marketplace.booking_cancelled.v1")
class BookingCancelled:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    cancelled_by_id: uuid.UUID | None
    starts_at: dt.datetime
    amount_minor: int
    currency: str
    refund_eligible: bool
    was_confirmed: bool
    package_purchase_id: uuid.UUID | None = None
    reason: str = ""


@event("marketplace.booking_completed.v1")
class BookingCompleted:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    amount_minor: int
    currency: str
    package_purchase_id: uuid.UUID | None = None


@event("marketplace.booking_no_show.v1")
class BookingNoShow:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    who: str  # "student" | "tutor"
    starts_at: dt.datetime
    amount_minor: int
    currency: str


@event("marketplace.booking_reschedule_proposed.v1")
class BookingRescheduleProposed:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    proposed_by_id: uuid.UUID
    starts_at: dt.datetime
    proposed_starts_at: dt.datetime
    reason: str = ""


@event("marketplace.booking_rescheduled.v1")
class BookingRescheduled:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    previous_starts_at: dt.datetime
    starts_at: dt.datetime
    ends_at: dt.datetime


@event("marketplace.booking_reschedule_declined.v1")
class BookingRescheduleDeclined:
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    proposed_starts_at: dt.datetime


@event("marketplace.tutor_submitted.v1")
class TutorSubmitted:
    tutor_id: uuid.UUID
    tutor_user_id: uuid.UUID


@event("marketplace.tutor_approved.v1")
class TutorApproved:
    tutor_id: uuid.UUID
    tutor_user_id: uuid.UUID
    admin_id: uuid.UUID


@event("marketplace.tutor_rejected.v1")
class TutorRejected:
    tutor_id: uuid.UUID
    tutor_user_id: uuid.UUID
    admin_id: uuid.UUID
    reason: str


@event("marketplace.review_created.v1")
class ReviewCreated:
    review_id: uuid.UUID
    booking_id: uuid.UUID
    tutor_id: uuid.UUID
    tutor_user_id: uuid.UUID
    student_id: uuid.UUID
    rating: int


@event("marketplace.review_responded.v1")
class ReviewResponded:
    review_id: uuid.UUID
    tutor_user_id: uuid.UUID
    student_id: uuid.UUID


@event("marketplace.review_hidden.v1")
class ReviewHidden:
    review_id: uuid.UUID
    tutor_id: uuid.UUID
    hidden: bool


@event("marketplace.package_purchased.v1")
class PackagePurchased:
    purchase_id: uuid.UUID
    package_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    amount_minor: int
    currency: str
    sessions: int


@event("marketplace.package_activated.v1")
class PackageActivated:
    purchase_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    expires_at: dt.datetime


@event("marketplace.package_credit_consumed.v1")
class PackageCreditConsumed:
    purchase_id: uuid.UUID
    booking_id: uuid.UUID
    credits_remaining: int


@event("marketplace.package_credit_returned.v1")
class PackageCreditReturned:
    purchase_id: uuid.UUID
    booking_id: uuid.UUID
    credits_remaining: int
