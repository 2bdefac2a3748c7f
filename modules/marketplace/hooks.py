"""The marketplace's contributions to core's cross-cutting hooks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core.db import db_uuid, sql_exists
from core.models import User
from core.registry import HOOKS, UserExport, hooks
from modules.marketplace.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    Favourite,
    PackagePurchase,
    Review,
    Subject,
    TutorLanguage,
    TutorProfile,
    TutorStatus,
)

LABEL = "marketplace"
#: A shared booking in any of these states lets the two parties message each other. Declined and
#: expired requests never became a relationship, so they do not open a conversation.
CONTACT_STATUSES = (
    BookingStatus.PENDING,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.CANCELLED,
    BookingStatus.NO_SHOW_STUDENT,
    BookingStatus.NO_SHOW_TUTOR,
)
ERASED = "[removed at the user's request]"


def contact_policy(sender: User, recipient: User) -> str | None:
    """A student and a tutor who share a booking (any state but declined or expired) may write.
    Hand-written: it runs on every message sent."""
    a, b = db_uuid(sender.pk), db_uuid(recipient.pk)
    statuses = ", ".join(["%s"] * len(CONTACT_STATUSES))
    shared = sql_exists(
        f"""SELECT 1 FROM {Booking._meta.db_table}
            WHERE ((student_id = %s AND tutor_user_id = %s) OR (student_id = %s AND tutor_user_id = %s))
              AND status IN ({statuses}) LIMIT 1""",
        [a, b, b, a, *CONTACT_STATUSES],
    )
    return "shared booking" if shared else None


def export_user(user: User) -> UserExport:
    def booking_row(b: Booking) -> dict[str, Any]:
        return {
            "id": str(b.id),
            "role": "student" if b.student_id == user.id else "tutor",
            "status": b.status,
            "starts_at": b.starts_at.isoformat(),
            "ends_at": b.ends_at.isoformat(),
            "subject": b.subject.name,
            "price_minor": b.price_minor,
            "currency": b.currency,
            "notes": b.notes if b.student_id == user.id else "",
        }

    profile = TutorProfile.objects.filter(user=user).prefetch_related("subjects", "languages").first()
    out: dict[str, Any] = {
        "bookings": [
            booking_row(b) for b in Booking.objects.filter(Q(student=user) | Q(tutor_user=user)).select_related("subject")
        ],
        "reviews_written": [
            {"booking_id": str(r.booking_id), "rating": r.rating, "comment": r.comment, "created_at": r.created_at.isoformat()}
            for r in Review.objects.filter(student=user)
        ],
        "favourite_tutor_ids": [str(t) for t in Favourite.objects.filter(student=user).values_list("tutor_id", flat=True)],
        "package_purchases": [
            {
                "id": str(p.id),
                "status": p.status,
                "credits_remaining": p.credits_remaining,
                "price_minor": p.price_minor,
                "currency": p.currency,
            }
            for p in PackagePurchase.objects.filter(student=user)
        ],
    }
    if profile is not None:
        out["tutor_profile"] = {
            "title": profile.title,
            "headline": profile.headline,
            "bio": profile.bio,
            "teaching_philosophy": profile.teaching_philosophy,
            "hourly_rate_minor": profile.hourly_rate_minor,
            "currency": profile.currency,
            "experience_years": profile.experience_years,
            "education": profile.education,
            "certifications": profile.certifications,
            "timezone": profile.timezone,
            "status": profile.status,
            "subjects": [s.name for s in profile.subjects.all()],
            "languages": [{"code": lang.code, "proficiency": lang.proficiency} for lang in profile.languages.all()],
            "reviews_received": [
                {"rating": r.rating, "comment": r.comment, "response": r.response} for r in Review.objects.filter(tutor=profile)
            ],
        }
    files: list[tuple[str, Any]] = []
    if profile is not None and profile.photo:
        files.append((f"tutor-photo{profile.photo[profile.photo.rfind('.') :]}", profile.photo))
    return UserExport(data=out, files=files)


def erase_user(user: User) -> None:
    """Anonymise free text the user wrote; keep bookings for the other party's history and accounting."""
    with transaction.atomic():
        from modules.marketplace.services import invalidate_bookings_of

        invalidate_bookings_of(
            *Booking.objects.filter(Q(student=user) | Q(tutor_user=user) | Q(proposed_by=user))
            .values_list("tutor_user_id", flat=True)
            .distinct(),
            *Booking.objects.filter(tutor_user=user).values_list("student_id", flat=True).distinct(),
        )
        Booking.objects.filter(student=user).exclude(notes="").update(notes=ERASED)
        Booking.objects.filter(Q(student=user) | Q(tutor_user=user), cancelled_by=user).exclude(status_reason="").update(
            status_reason=ERASED
        )
        Booking.objects.filter(proposed_by=user).exclude(proposal_reason="").update(proposal_reason=ERASED)
        Review.objects.filter(student=user).exclude(comment="").update(comment=ERASED)
        BookingEvent.objects.filter(actor=user).update(details={})
        Favourite.objects.filter(student=user).delete()
        profile = TutorProfile.objects.filter(user=user).first()
        if profile is not None:
            Review.objects.filter(tutor=profile).exclude(response="").update(response=ERASED)
            TutorLanguage.objects.filter(profile=profile).delete()
            profile.title = profile.headline = profile.bio = profile.teaching_philosophy = ""
            profile.education, profile.certifications = [], []
            if profile.photo:  # the file goes too, once the erasure has committed
                photo = profile.photo
                transaction.on_commit(lambda: default_storage.delete(photo))
            profile.intro_video_url = profile.photo = ""
            profile.search_document = ""
            if profile.status in (TutorStatus.APPROVED, TutorStatus.PENDING):
                profile.status = TutorStatus.DRAFT
            profile.save()
        # Pending and future bookings cannot happen any more: cancel them through the service, so the
        # other party is told and payments see the refund (events).
        from modules.marketplace.services import do_cancel_booking

        future_ids = Booking.objects.filter(
            Q(student=user) | Q(tutor_user=user), status__in=ACTIVE_STATUSES, starts_at__gt=timezone.now()
        ).values_list("id", flat=True)
        for booking_id in list(future_ids):
            do_cancel_booking(booking_id=booking_id, actor=user, reason="account closed")
    from core.cache import bump_version
    from modules.marketplace.services import NS_PUBLIC

    transaction.on_commit(lambda: bump_version(NS_PUBLIC))


def admin_figures(months: int = 6) -> dict[str, Any]:
    by_status = dict(Booking.objects.values_list("status").annotate(n=Count("id")).order_by())
    total = sum(by_status.values())
    held = (
        by_status.get(BookingStatus.COMPLETED, 0)
        + by_status.get(BookingStatus.NO_SHOW_STUDENT, 0)
        + by_status.get(BookingStatus.NO_SHOW_TUTOR, 0)
    )
    no_shows = by_status.get(BookingStatus.NO_SHOW_STUDENT, 0) + by_status.get(BookingStatus.NO_SHOW_TUTOR, 0)
    subjects = (
        Subject.objects.annotate(
            bookings_n=Count("bookings", distinct=True),
            tutors_n=Count("tutors", filter=Q(tutors__status=TutorStatus.APPROVED), distinct=True),
        )
        .order_by("-bookings_n", "name")
        .values("name", "bookings_n", "tutors_n")[:20]
    )
    upcoming = Booking.objects.filter(
        status=BookingStatus.CONFIRMED, starts_at__gte=timezone.now(), starts_at__lt=timezone.now() + dt.timedelta(days=7)
    ).count()
    return {
        "tutors_pending_approval": TutorProfile.objects.filter(status=TutorStatus.PENDING).count(),
        "tutors_approved": TutorProfile.objects.filter(status=TutorStatus.APPROVED).count(),
        "bookings_by_status": {s: by_status.get(s, 0) for s in BookingStatus.values},
        "subject_distribution": [{"subject": s["name"], "bookings": s["bookings_n"], "tutors": s["tutors_n"]} for s in subjects],
        "session_metrics": {
            "total_sessions": total,
            "completed_sessions": by_status.get(BookingStatus.COMPLETED, 0),
            "cancelled_sessions": by_status.get(BookingStatus.CANCELLED, 0),
            "no_show_rate": round(no_shows / held, 4) if held else 0.0,
            "confirmed_next_7_days": upcoming,
        },
        "bookings_by_month": [
            {"month": row["month"].date().isoformat()[:7], "bookings": row["n"]}
            for row in Booking.objects.filter(created_at__gte=timezone.now() - dt.timedelta(days=31 * max(1, min(months, 36))))
            .annotate(month=TruncMonth("created_at"))
            .values("month")
            .annotate(n=Count("id"))
            .order_by("month")
        ],
        "completed_revenue_minor_by_currency": dict(
            Booking.objects.filter(status=BookingStatus.COMPLETED)
            .values_list("currency")
            .annotate(s=Sum("price_minor"))
            .order_by()
        ),
    }


def integrity_checks(repair: bool = False) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    # 1. Rating aggregates vs visible reviews
    actual = {
        row["tutor_id"]: (row["s"] or 0, row["n"])
        for row in Review.objects.filter(is_hidden=False).values("tutor_id").annotate(s=Sum("rating"), n=Count("id")).order_by()
    }
    for profile in TutorProfile.objects.filter(Q(review_count__gt=0) | Q(id__in=list(actual))).only(
        "id", "rating_sum", "review_count", "average_rating"
    ):
        s, n = actual.get(profile.id, (0, 0))
        avg = round(s / n, 2) if n else 0
        if profile.rating_sum != s or profile.review_count != n or float(profile.average_rating) != float(avg):
            issues.append(
                {
                    "check": "marketplace.rating_aggregate",
                    "object": str(profile.id),
                    "detail": f"stored {profile.rating_sum}/{profile.review_count}, reviews say {s}/{n}",
                    "repaired": repair,
                }
            )
            if repair:
                TutorProfile.objects.filter(pk=profile.pk).update(rating_sum=s, review_count=n, average_rating=avg)
    # 2. Package credits vs bookings that consumed one
    consumed = dict(
        Booking.objects.filter(credit_consumed=True, package_purchase__isnull=False)
        .values_list("package_purchase_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for purchase in PackagePurchase.objects.exclude(status="pending").only("id", "sessions_total", "credits_remaining"):
        expected = max(0, purchase.sessions_total - consumed.get(purchase.id, 0))
        if purchase.credits_remaining != expected:
            issues.append(
                {
                    "check": "marketplace.package_credits",
                    "object": str(purchase.id),
                    "detail": f"credits_remaining {purchase.credits_remaining}, bookings say {expected}",
                    "repaired": repair,
                }
            )
            if repair:
                PackagePurchase.objects.filter(pk=purchase.pk).update(credits_remaining=expected)
    return issues


def register_hooks() -> None:
    from modules.marketplace.demo import seed_demo

    hooks.register(HOOKS.CONTACT_POLICY, LABEL, contact_policy)
    hooks.register(HOOKS.USER_EXPORT, LABEL, export_user)
    hooks.register(HOOKS.USER_ERASE, LABEL, erase_user)
    hooks.register(HOOKS.ADMIN_FIGURES, LABEL, admin_figures)
    hooks.register(HOOKS.INTEGRITY_CHECKS, LABEL, integrity_checks)
    hooks.register(HOOKS.DEMO_DATA, LABEL, seed_demo)
