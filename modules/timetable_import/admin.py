from __future__ import annotations

from django.contrib import admin

from modules.timetable_import.models import Proposal, TimetableImport


class ProposalInline(admin.TabularInline):
    model = Proposal
    extra = 0
    fields = (
        "day_of_week",
        "start_time",
        "end_time",
        "course_name",
        "course_code",
        "location",
        "confidence",
        "flagged",
        "include",
    )


@admin.register(TimetableImport)
class TimetableImportAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "status", "engine", "pages", "created_at", "duration_ms")
    list_filter = ("status", "engine")
    search_fields = ("id", "user__email")
    readonly_fields = ("created_at", "started_at", "finished_at", "confirmed_at")
    inlines = [ProposalInline]
