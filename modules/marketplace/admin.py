from __future__ import annotations

from django.contrib import admin, messages

from modules.marketplace.models import Booking, BookingEvent, Package, PackagePurchase, Review, Subject, TutorProfile


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "is_archived")
    search_fields = ("name",)


@admin.register(TutorProfile)
class TutorProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "status", "hourly_rate_minor", "currency", "average_rating", "review_count")
    list_filter = ("status",)
    search_fields = ("user__email", "headline")
    raw_id_fields = ("user",)
    actions = ("approve_profiles", "reject_profiles")

    def _review(self, request, queryset, *, approve: bool) -> None:  # type: ignore[no-untyped-def]
        from core.audit import audit
        from core.errors import DomainError
        from modules.marketplace.services import do_review_profile

        done = 0
        for profile in queryset:
            try:
                reviewed = do_review_profile(
                    profile_id=profile.id,
                    admin=request.user,
                    approve=approve,
                    reason="" if approve else "Not approved after an operator's review; please contact support.",
                )
            except DomainError as exc:
                self.message_user(request, f"{profile.user}: {exc.detail}", level=messages.WARNING)
                continue
            audit(
                f"marketplace.tutor_{'approved' if approve else 'rejected'}", actor=request.user, target=reviewed, request=request
            )
            done += 1
        self.message_user(request, f"{done} profile(s) {'approved' if approve else 'rejected'}.")

    @admin.action(description="Approve the selected pending profiles")
    def approve_profiles(self, request, queryset):  # type: ignore[no-untyped-def]
        self._review(request, queryset, approve=True)

    @admin.action(description="Reject the selected pending profiles")
    def reject_profiles(self, request, queryset):  # type: ignore[no-untyped-def]
        self._review(request, queryset, approve=False)


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    readonly_fields = ("action", "from_status", "to_status", "actor", "details", "created_at")


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ("id", "tutor_user", "student", "starts_at", "status", "price_minor", "currency")
    list_filter = ("status",)
    raw_id_fields = ("tutor", "tutor_user", "student", "package_purchase", "cancelled_by", "proposed_by")
    inlines = [BookingEventInline]


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ("name", "tutor", "session_count", "price_minor", "currency", "is_active")


@admin.register(PackagePurchase)
class PackagePurchaseAdmin(admin.ModelAdmin):
    list_display = ("id", "student", "package", "status", "credits_remaining", "expires_at")
    raw_id_fields = ("student", "package", "tutor")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("tutor", "student", "rating", "is_hidden", "created_at")
    list_filter = ("is_hidden",)
