"""/api/v1/marketplace/...: thin views that parse, authorise, call a service and shape the answer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from core.api.errors import error_responses
from core.api.pagination import Page, PageQuery, paginate
from core.api.public_cache import register_private_read, register_public_read
from core.audit import audit
from core.errors import NotFound
from core.files import store_file, validate_upload
from core.models import Role
from core.permissions import current_user, get_owned, require_admin, require_role
from modules.marketplace import selectors, services
from modules.marketplace.ics import render_calendar
from modules.marketplace.models import (
    AvailabilityException,
    AvailabilityRule,
    Booking,
    BookingEvent,
    BookingStatus,
    Favourite,
    Package,
    PackagePurchase,
    Review,
    Subject,
    TutorProfile,
    TutorStatus,
)
from modules.marketplace.schemas import (
    AdminTutorRow,
    AvailabilityOut,
    AvailabilitySettingsIn,
    BookingDetailOut,
    BookingIn,
    BookingListQuery,
    BookingOut,
    ExceptionIn,
    ExceptionOut,
    FeedOut,
    PackageIn,
    PackageOut,
    PackagePatch,
    ProfilePatch,
    PurchaseOut,
    ReasonIn,
    RejectIn,
    RescheduleIn,
    ReviewHideIn,
    ReviewIn,
    ReviewOut,
    ReviewResponseIn,
    RuleIn,
    RuleOut,
    RulesReplaceIn,
    SearchQuery,
    SlotsOut,
    SlotsQuery,
    SubjectIn,
    SubjectOut,
    SubjectPatch,
    SubjectWithCount,
    TutorOwnOut,
    TutorPublicOut,
    TutorSearchRow,
)

router = Router(tags=["marketplace"])
PUBLIC_TTL = 120  # seconds; every write that changes a public answer bumps its namespace first
SLOTS_TTL = 60  # slots also move with the clock (minimum notice); booking re-checks them anyway
_UUID = r"[0-9a-fA-F-]{36}"


def register_public_reads() -> None:
    """The public GETs answered from the cache as rendered bytes (core.api.public_cache)."""
    prefix = r"^/api/v1/marketplace"
    public = lambda groups: [services.NS_PUBLIC]  # noqa: E731
    register_public_read(prefix + r"/subjects$", public, PUBLIC_TTL)
    register_public_read(prefix + r"/tutors$", public, PUBLIC_TTL)
    register_public_read(prefix + rf"/tutors/{_UUID}$", public, PUBLIC_TTL)
    register_public_read(prefix + rf"/tutors/{_UUID}/reviews$", public, PUBLIC_TTL)
    # The caller's own bookings; 30 s bounds what moves with the clock (upcoming, refund cut-off).
    register_private_read(prefix + r"/bookings$", lambda user_id, groups: [services.bookings_namespace(user_id)], 30)
    register_public_read(
        prefix + rf"/tutors/(?P<tutor_id>{_UUID})/slots$",
        lambda groups: [services.NS_PUBLIC, services.slots_namespace(uuid.UUID(groups["tutor_id"]))],
        SLOTS_TTL,
    )


def _own_profile(request: HttpRequest) -> TutorProfile:
    user = require_role(request, Role.TUTOR)
    return services.get_or_create_profile(user=user)


def _own_profile_out(profile: TutorProfile) -> dict[str, Any]:
    profile = selectors.with_related(TutorProfile.objects.filter(pk=profile.pk)).get()
    return selectors.profile_dict(profile, own=True)


# --- subjects ---------------------------------------------------------------------------------------


@router.get("/subjects", response=list[SubjectWithCount], auth=None)
def list_subjects(request: HttpRequest) -> Any:
    """Public list of subjects (not archived) with the number of approved tutors teaching each."""
    return selectors.subjects_with_counts()


@router.get("/admin/subjects", response={200: list[SubjectWithCount], **error_responses(401, 403)})
def admin_list_subjects(request: HttpRequest) -> Any:
    require_admin(request)
    return selectors.subjects_with_counts(include_archived=True)


@router.post("/subjects", response={201: SubjectOut, **error_responses(401, 403, 409, 422)})
def create_subject(request: HttpRequest, data: SubjectIn) -> Any:
    admin = require_admin(request)
    subject = services.do_create_subject(**data.model_dump())
    audit("marketplace.subject_created", actor=admin, target=subject, request=request, details={"name": subject.name})
    return Status(201, subject)


@router.patch("/subjects/{subject_id}", response={200: SubjectOut, **error_responses(401, 403, 404, 409, 422)})
def update_subject(request: HttpRequest, subject_id: uuid.UUID, data: SubjectPatch) -> Any:
    admin = require_admin(request)
    subject = Subject.objects.filter(pk=subject_id).first()
    if subject is None:
        raise NotFound("No subject with that id")
    subject = services.do_update_subject(subject=subject, changes=data.model_dump(exclude_unset=True))
    audit(
        "marketplace.subject_updated", actor=admin, target=subject, request=request, details=data.model_dump(exclude_unset=True)
    )
    return subject


@router.delete("/subjects/{subject_id}", response={204: None, **error_responses(401, 403, 404, 409)})
def delete_subject(request: HttpRequest, subject_id: uuid.UUID) -> Any:
    admin = require_admin(request)
    subject = Subject.objects.filter(pk=subject_id).first()
    if subject is None:
        raise NotFound("No subject with that id")
    services.do_delete_subject(subject=subject)
    audit(
        "marketplace.subject_deleted", actor=admin, target_type="marketplace.subject", target_id=str(subject_id), request=request
    )
    return Status(204, None)


# --- the tutor's own profile ------------------------------------------------------------------------


@router.get("/tutors/me", response={200: TutorOwnOut, **error_responses(401, 403)})
def get_my_profile(request: HttpRequest) -> Any:
    """The caller's tutor profile (created as a draft on first access)."""
    return _own_profile_out(_own_profile(request))


@router.patch("/tutors/me", response={200: TutorOwnOut, **error_responses(401, 403, 422)})
def update_my_profile(request: HttpRequest, data: ProfilePatch) -> Any:
    """Patch any section: basics, rate, languages, education, certifications, subjects, video, time zone."""
    profile = _own_profile(request)
    changes = data.model_dump(exclude_unset=True)
    if "intro_video_url" in changes and changes["intro_video_url"] is not None:
        changes["intro_video_url"] = str(changes["intro_video_url"])
    profile = services.do_update_profile(profile=profile, changes=changes)
    return _own_profile_out(profile)


@router.post("/tutors/me/photo", response={200: TutorOwnOut, **error_responses(401, 403, 413, 415)})
def upload_my_photo(request: HttpRequest, file: File[UploadedFile]) -> Any:
    profile = _own_profile(request)
    checked = validate_upload(file, allowed=("image",), max_bytes=5 * 1024 * 1024)
    profile.photo = store_file(checked, folder="tutor-photos")
    profile.save(update_fields=["photo", "updated_at"])
    services.invalidate_public()
    return _own_profile_out(profile)


@router.post("/tutors/me/submit", response={200: TutorOwnOut, **error_responses(401, 403, 409, 422)})
def submit_my_profile(request: HttpRequest) -> Any:
    """Send the profile for approval; required fields are checked (422 names the missing ones)."""
    profile = services.do_submit_profile(profile=_own_profile(request))
    return _own_profile_out(profile)


@router.get("/tutors/me/availability", response={200: AvailabilityOut, **error_responses(401, 403)})
def get_my_availability(request: HttpRequest) -> Any:
    profile = _own_profile(request)
    return _availability_out(profile)


def _availability_out(profile: TutorProfile) -> dict[str, Any]:
    return {
        "timezone": profile.timezone,
        "min_notice_minutes": profile.min_notice_minutes,
        "horizon_days": profile.horizon_days,
        "buffer_minutes": profile.buffer_minutes,
        "session_lengths": profile.session_lengths,
        "rules": list(AvailabilityRule.objects.filter(profile=profile)),
        "exceptions": list(AvailabilityException.objects.filter(profile=profile, date__gte=timezone.now().date())),
    }


@router.patch("/tutors/me/availability", response={200: AvailabilityOut, **error_responses(401, 403, 422)})
def update_my_availability_settings(request: HttpRequest, data: AvailabilitySettingsIn) -> Any:
    """Minimum notice, booking horizon, buffer between sessions, allowed session lengths."""
    profile = services.do_update_availability_settings(profile=_own_profile(request), changes=data.model_dump(exclude_unset=True))
    return _availability_out(profile)


@router.put("/tutors/me/availability/rules", response={200: list[RuleOut], **error_responses(401, 403, 422)})
def replace_my_rules(request: HttpRequest, data: RulesReplaceIn) -> Any:
    """Replace the whole weekly schedule (times in the tutor's own time zone)."""
    return services.do_replace_rules(profile=_own_profile(request), rules=[r.model_dump() for r in data.rules])


@router.post("/tutors/me/availability/rules", response={201: RuleOut, **error_responses(401, 403, 422)})
def add_my_rule(request: HttpRequest, data: RuleIn) -> Any:
    return Status(201, services.do_add_rule(profile=_own_profile(request), **data.model_dump()))


@router.delete("/tutors/me/availability/rules/{rule_id}", response={204: None, **error_responses(401, 403, 404)})
def delete_my_rule(request: HttpRequest, rule_id: uuid.UUID) -> Any:
    services.do_delete_rule(profile=_own_profile(request), rule_id=rule_id)
    return Status(204, None)


@router.post("/tutors/me/availability/exceptions", response={201: ExceptionOut, **error_responses(401, 403, 422)})
def add_my_exception(request: HttpRequest, data: ExceptionIn) -> Any:
    """A day off (no times), time off (with times) or extra hours on one date, in the tutor's zone."""
    return Status(201, services.do_add_exception(profile=_own_profile(request), **data.model_dump()))


@router.delete("/tutors/me/availability/exceptions/{exception_id}", response={204: None, **error_responses(401, 403, 404)})
def delete_my_exception(request: HttpRequest, exception_id: uuid.UUID) -> Any:
    services.do_delete_exception(profile=_own_profile(request), exception_id=exception_id)
    return Status(204, None)


@router.get("/tutors/me/packages", response={200: list[PackageOut], **error_responses(401, 403)})
def list_my_packages(request: HttpRequest) -> Any:
    return list(Package.objects.filter(tutor=_own_profile(request)))


# --- admin queues -----------------------------------------------------------------------------------


def _admin_rows(status: str, params: PageQuery) -> dict[str, Any]:
    qs = TutorProfile.objects.filter(status=status).select_related("user").order_by("submitted_at", "id")
    rows, meta = paginate(qs, params)
    return {
        "items": [
            {
                "id": p.id,
                "user_id": p.user_id,
                "email": p.user.email,
                "name": p.user.full_name,
                "title": p.title,
                "status": p.status,
                "submitted_at": p.submitted_at,
                "reviewed_at": p.reviewed_at,
                "rejection_reason": p.rejection_reason,
            }
            for p in rows
        ],
        **meta,
    }


@router.get("/admin/tutors/pending", response={200: Page[AdminTutorRow], **error_responses(401, 403)})
def admin_pending_tutors(request: HttpRequest, params: Query[PageQuery]) -> Any:
    require_admin(request)
    return _admin_rows(TutorStatus.PENDING, params)


@router.get("/admin/tutors/approved", response={200: Page[AdminTutorRow], **error_responses(401, 403)})
def admin_approved_tutors(request: HttpRequest, params: Query[PageQuery]) -> Any:
    require_admin(request)
    return _admin_rows(TutorStatus.APPROVED, params)


@router.get("/admin/tutors/{tutor_id}", response={200: TutorOwnOut, **error_responses(401, 403, 404)})
def admin_get_tutor(request: HttpRequest, tutor_id: uuid.UUID) -> Any:
    require_admin(request)
    profile = selectors.with_related(TutorProfile.objects.filter(pk=tutor_id)).first()
    if profile is None:
        raise NotFound("No tutor profile with that id")
    return selectors.profile_dict(profile, own=True)


@router.post("/admin/tutors/{tutor_id}/approve", response={200: TutorOwnOut, **error_responses(401, 403, 404, 409)})
def approve_tutor(request: HttpRequest, tutor_id: uuid.UUID) -> Any:
    admin = require_admin(request)
    profile = services.do_review_profile(profile_id=tutor_id, admin=admin, approve=True)
    audit("marketplace.tutor_approved", actor=admin, target=profile, request=request)
    return _own_profile_out(profile)


@router.post("/admin/tutors/{tutor_id}/reject", response={200: TutorOwnOut, **error_responses(401, 403, 404, 409, 422)})
def reject_tutor(request: HttpRequest, tutor_id: uuid.UUID, data: RejectIn) -> Any:
    admin = require_admin(request)
    profile = services.do_review_profile(profile_id=tutor_id, admin=admin, approve=False, reason=data.reason)
    audit("marketplace.tutor_rejected", actor=admin, target=profile, request=request, details={"reason": data.reason})
    return _own_profile_out(profile)


@router.post(
    "/admin/package-purchases/{purchase_id}/activate", response={200: PurchaseOut, **error_responses(401, 403, 404, 409)}
)
def admin_activate_purchase(request: HttpRequest, purchase_id: uuid.UUID) -> Any:
    """Until the payments module exists, an admin activates a pending package purchase."""
    admin = require_admin(request)
    purchase = services.do_activate_purchase(purchase_id=purchase_id)
    audit("marketplace.package_activated", actor=admin, target=purchase, request=request)
    return purchase


@router.post("/admin/reviews/{review_id}/hide", response={200: ReviewOut, **error_responses(401, 403, 404, 422)})
def admin_hide_review(request: HttpRequest, review_id: uuid.UUID, data: ReviewHideIn) -> Any:
    admin = require_admin(request)
    review = services.do_hide_review(review_id=review_id, hidden=data.hidden)
    audit("marketplace.review_hidden" if data.hidden else "marketplace.review_shown", actor=admin, target=review, request=request)
    return selectors.review_dict(Review.objects.select_related("student").get(pk=review.pk))


# --- public tutors ----------------------------------------------------------------------------------


@router.get("/tutors", response={200: Page[TutorSearchRow], **error_responses(400, 422)}, auth=None)
def search_tutors(request: HttpRequest, params: Query[SearchQuery]) -> Any:
    """Search approved tutors: filters, free text (full-text with a rank on PostgreSQL), sort, pages."""
    return selectors.search_tutors(params)


@router.get("/tutors/{tutor_id}", response={200: TutorPublicOut, **error_responses(404)}, auth=None)
def get_tutor(request: HttpRequest, tutor_id: uuid.UUID) -> Any:
    """The public profile of an approved tutor."""
    return selectors.get_public_profile(tutor_id)


@router.get("/tutors/{tutor_id}/slots", response={200: SlotsOut, **error_responses(400, 404, 422)}, auth=None)
def get_tutor_slots(request: HttpRequest, tutor_id: uuid.UUID, params: Query[SlotsQuery]) -> Any:
    """Free start times between two days (inclusive, in ``tz``), in UTC and in ``tz``. At most 62 days."""
    profile = selectors.public_tutors().filter(pk=tutor_id).first()
    if profile is None:
        raise NotFound("No tutor with that id")
    return selectors.compute_slots(profile, start=params.start, end=params.end, duration=params.duration, tz_name=params.tz)


@router.get("/tutors/{tutor_id}/reviews", response={200: Page[ReviewOut], **error_responses(404)}, auth=None)
def list_tutor_reviews(request: HttpRequest, tutor_id: uuid.UUID, params: Query[PageQuery]) -> Any:
    return selectors.tutor_reviews(tutor_id, params)


@router.get("/tutors/{tutor_id}/packages", response={200: list[PackageOut], **error_responses(404)}, auth=None)
def list_tutor_packages(request: HttpRequest, tutor_id: uuid.UUID) -> Any:
    if not selectors.public_tutors().filter(pk=tutor_id).exists():
        raise NotFound("No tutor with that id")
    return list(Package.objects.filter(tutor_id=tutor_id, is_active=True))


# --- bookings ---------------------------------------------------------------------------------------


def _visible_booking(request: HttpRequest, booking_id: uuid.UUID) -> Booking:
    user = current_user(request)
    return get_owned(Booking.objects.all(), user=user, owner_fields=("student", "tutor_user"), admin_override=True, id=booking_id)


def _detail(booking_id: uuid.UUID) -> dict[str, Any]:
    booking = (
        selectors.booking_queryset()
        .prefetch_related(Prefetch("history", queryset=BookingEvent.objects.order_by("created_at", "id")))
        .get(pk=booking_id)
    )
    return selectors.booking_detail_dict(booking)


@router.post("/bookings", response={201: BookingDetailOut, **error_responses(400, 401, 403, 404, 409, 422)})
def create_booking(request: HttpRequest, data: BookingIn) -> Any:
    """Request a session: checked against availability, notice, horizon and other bookings (409/400 with a code)."""
    student = current_user(request)
    booking = services.do_request_booking(student=student, **data.model_dump())
    return Status(201, selectors.booking_detail_dict(booking, history=booking.recorded_events))


@router.get("/bookings", response={200: Page[BookingOut], **error_responses(400, 401, 422)})
def list_bookings(request: HttpRequest, params: Query[BookingListQuery]) -> Any:
    """The caller's bookings as student or tutor: upcoming, past or all, optionally by status."""
    return selectors.list_bookings(current_user(request), params)


@router.get("/bookings/{booking_id}", response={200: BookingDetailOut, **error_responses(401, 404)})
def get_booking(request: HttpRequest, booking_id: uuid.UUID) -> Any:
    """Detail for the student, the tutor and admins; 404 for anyone else."""
    return _detail(_visible_booking(request, booking_id).id)


def _act(request: HttpRequest, booking_id: uuid.UUID, fn: Any, *, reread: bool = True, **kwargs: Any) -> dict[str, Any]:
    """Run a transition (it answers 404 to anyone but the parties and admins) and show the booking.
    ``reread=False`` shows the row the transition locked and changed, reading only the history: for
    transitions after which no handler changes the row (a refund does: cancel, decline, no-show)."""
    booking = fn(booking_id=booking_id, actor=current_user(request), **kwargs)
    if reread:
        return _detail(booking.id)
    return selectors.booking_detail_dict(booking, history=selectors.booking_history(booking.id))


ACTION_ERRORS = error_responses(401, 403, 404, 409)


class AdminBookingQuery(BookingListQuery):
    tutor_id: uuid.UUID | None = None
    student_id: uuid.UUID | None = None


@router.get("/admin/bookings", response={200: Page[BookingOut], **error_responses(400, 401, 403, 422)})
def admin_list_bookings(request: HttpRequest, params: Query[AdminBookingQuery]) -> Any:
    """Every booking, newest first, filtered by status, time, tutor or student (admins only)."""
    require_admin(request)
    return selectors.list_all_bookings(params)


@router.post("/bookings/{booking_id}/confirm", response={200: BookingDetailOut, **ACTION_ERRORS})
def confirm_booking(request: HttpRequest, booking_id: uuid.UUID) -> Any:
    return _act(request, booking_id, services.do_confirm_booking, reread=False)


@router.post("/bookings/{booking_id}/decline", response={200: BookingDetailOut, **ACTION_ERRORS, **error_responses(422)})
def decline_booking(request: HttpRequest, booking_id: uuid.UUID, data: ReasonIn) -> Any:
    return _act(request, booking_id, services.do_decline_booking, reason=data.reason)


@router.post("/bookings/{booking_id}/cancel", response={200: BookingDetailOut, **ACTION_ERRORS, **error_responses(422)})
def cancel_booking(request: HttpRequest, booking_id: uuid.UUID, data: ReasonIn) -> Any:
    """Either party cancels; the student is refunded when cancelling before the cutoff (or when the tutor cancels)."""
    return _act(request, booking_id, services.do_cancel_booking, reason=data.reason)


@router.post("/bookings/{booking_id}/complete", response={200: BookingDetailOut, **ACTION_ERRORS})
def complete_booking(request: HttpRequest, booking_id: uuid.UUID) -> Any:
    return _act(request, booking_id, services.do_complete_booking)


@router.post("/bookings/{booking_id}/no-show-student", response={200: BookingDetailOut, **ACTION_ERRORS})
def mark_student_no_show(request: HttpRequest, booking_id: uuid.UUID) -> Any:
    return _act(request, booking_id, services.do_mark_no_show, who="student")


@router.post("/bookings/{booking_id}/no-show-tutor", response={200: BookingDetailOut, **ACTION_ERRORS})
def mark_tutor_no_show(request: HttpRequest, booking_id: uuid.UUID) -> Any:
    """Admins only."""
    return _act(request, booking_id, services.do_mark_no_show, who="tutor")


@router.post("/bookings/{booking_id}/reschedule", response={200: BookingDetailOut, **ACTION_ERRORS, **error_responses(400, 422)})
def propose_reschedule(request: HttpRequest, booking_id: uuid.UUID, data: RescheduleIn) -> Any:
    """Propose a new time; the original time stays held until the other party answers."""
    return _act(request, booking_id, services.do_propose_reschedule, starts_at=data.starts_at, reason=data.reason)


@router.post(
    "/bookings/{booking_id}/reschedule/accept", response={200: BookingDetailOut, **ACTION_ERRORS, **error_responses(400)}
)
def accept_reschedule(request: HttpRequest, booking_id: uuid.UUID) -> Any:
    return _act(request, booking_id, services.do_answer_reschedule, accept=True)


@router.post("/bookings/{booking_id}/reschedule/decline", response={200: BookingDetailOut, **ACTION_ERRORS})
def decline_reschedule(request: HttpRequest, booking_id: uuid.UUID) -> Any:
    return _act(request, booking_id, services.do_answer_reschedule, accept=False)


# --- packages ---------------------------------------------------------------------------------------


@router.post("/packages", response={201: PackageOut, **error_responses(401, 403, 422)})
def create_package(request: HttpRequest, data: PackageIn) -> Any:
    return Status(201, services.do_create_package(profile=_own_profile(request), data=data.model_dump()))


@router.patch("/packages/{package_id}", response={200: PackageOut, **error_responses(401, 403, 404, 422)})
def update_package(request: HttpRequest, package_id: uuid.UUID, data: PackagePatch) -> Any:
    profile = _own_profile(request)
    package = Package.objects.filter(pk=package_id, tutor=profile).first()
    if package is None:
        raise NotFound("No package of yours with that id")
    return services.do_update_package(package=package, changes=data.model_dump(exclude_unset=True))


@router.post("/packages/{package_id}/purchase", response={201: PurchaseOut, **error_responses(401, 403, 404)})
def purchase_package(request: HttpRequest, package_id: uuid.UUID) -> Any:
    """Buy a package: created pending until payment (or an admin) activates it."""
    return Status(201, services.do_purchase_package(student=current_user(request), package_id=package_id))


@router.get("/package-purchases", response={200: list[PurchaseOut], **error_responses(401)})
def list_my_purchases(request: HttpRequest) -> Any:
    """A student's purchases; for a tutor, the purchases of their packages."""
    user = current_user(request)
    if user.role == Role.TUTOR:
        return list(PackagePurchase.objects.filter(tutor__user=user)[:200])
    return list(PackagePurchase.objects.filter(student=user)[:200])


# --- reviews and favourites -------------------------------------------------------------------------


@router.post("/reviews", response={201: ReviewOut, **error_responses(401, 403, 404, 409, 422)})
def create_review(request: HttpRequest, data: ReviewIn) -> Any:
    """The student reviews a completed booking, once."""
    user = current_user(request)
    review = services.do_create_review(student=user, **data.model_dump())
    return Status(201, selectors.review_dict(Review.objects.select_related("student").get(pk=review.pk)))


@router.post("/reviews/{review_id}/response", response={200: ReviewOut, **error_responses(401, 403, 404, 409, 422)})
def respond_to_review(request: HttpRequest, review_id: uuid.UUID, data: ReviewResponseIn) -> Any:
    """The reviewed tutor responds, once."""
    user = require_role(request, Role.TUTOR)
    review = services.do_respond_review(tutor_user=user, review_id=review_id, response=data.response)
    return selectors.review_dict(Review.objects.select_related("student").get(pk=review.pk))


@router.get("/favourites", response={200: list[TutorSearchRow], **error_responses(401, 403)})
def list_favourites(request: HttpRequest) -> Any:
    user = require_role(request, Role.STUDENT)
    ids = Favourite.objects.filter(student=user).values("tutor_id")
    profiles = selectors.with_related(selectors.public_tutors().filter(pk__in=ids)).order_by("user__first_name", "id")
    return [selectors.search_row(p) for p in profiles]


@router.post("/favourites/{tutor_id}", response={201: None, 200: None, **error_responses(401, 403, 404)})
def add_favourite(request: HttpRequest, tutor_id: uuid.UUID) -> Any:
    created = services.do_add_favourite(student=current_user(request), tutor_id=tutor_id)
    return Status(201 if created else 200, None)


@router.delete("/favourites/{tutor_id}", response={204: None, **error_responses(401, 403)})
def remove_favourite(request: HttpRequest, tutor_id: uuid.UUID) -> Any:
    user = require_role(request, Role.STUDENT)
    services.do_remove_favourite(student=user, tutor_id=tutor_id)
    return Status(204, None)


# --- calendar feed ----------------------------------------------------------------------------------


def _feed_out(request: HttpRequest, feed: Any) -> dict[str, Any]:
    path = f"/api/v1/marketplace/calendar/{feed.token}.ics"
    return {"url": request.build_absolute_uri(path), "token": feed.token, "created_at": feed.created_at}


@router.get("/calendar/feed", response={200: FeedOut, **error_responses(401)})
def get_calendar_feed(request: HttpRequest) -> Any:
    """The caller's private iCalendar URL (created on first use). Keep it secret; rotate it to revoke."""
    return _feed_out(request, services.get_or_create_feed(user=current_user(request)))


@router.post("/calendar/feed/rotate", response={200: FeedOut, **error_responses(401)})
def rotate_calendar_feed(request: HttpRequest) -> Any:
    """A new secret URL; the old one stops working at once."""
    return _feed_out(request, services.do_rotate_feed(user=current_user(request)))


@router.delete("/calendar/feed", response={204: None, **error_responses(401)})
def revoke_calendar_feed(request: HttpRequest) -> Any:
    services.do_revoke_feed(user=current_user(request))
    return Status(204, None)


@router.get("/calendar/{token}.ics", auth=None, response={200: None, **error_responses(404)}, include_in_schema=True)
def calendar_ics(request: HttpRequest, token: str) -> Any:
    """The iCalendar feed of a user's bookings (RFC 5545); the token in the URL is the credential."""
    from modules.marketplace.models import CalendarFeed

    feed = CalendarFeed.objects.select_related("user").filter(token=token[:64]).first()
    if feed is None or not feed.user.is_usable:
        raise NotFound("No calendar with that address")
    from django.db.models import Q

    now = timezone.now()
    bookings = (
        selectors.booking_queryset()
        .filter(Q(student=feed.user) | Q(tutor_user=feed.user))
        .filter(
            status__in=[BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.CANCELLED],
            starts_at__gte=now - dt.timedelta(days=90),
        )
        .order_by("starts_at")[:1000]
    )
    body = render_calendar(bookings, for_user_id=feed.user_id, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tutoring.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
