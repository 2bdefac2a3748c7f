from __future__ import annotations

from django.contrib import admin

from modules.tracker.models import (
    Assignment,
    Course,
    Preferences,
    Result,
    StudyPlan,
    StudySession,
    Timetable,
    TimetableClass,
    WeeklyReport,
)


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ("user", "time_zone", "morning_email_time", "email_enabled", "weekly_report_enabled", "onboarding_step")
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
    exclude = ("ics_token",)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "user", "semester", "credits", "is_active", "deleted_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "user__email")
    raw_id_fields = ("user",)


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin):
    list_display = ("course", "assessment_type", "score", "max_score", "percentage", "grade", "date")
    list_filter = ("assessment_type",)
    search_fields = ("course__code", "user__email")
    raw_id_fields = ("user", "course")
    readonly_fields = ("percentage", "grade")


@admin.register(StudyPlan)
class StudyPlanAdmin(admin.ModelAdmin):
    list_display = ("topic", "course", "date", "start_time", "planned_minutes", "status")
    list_filter = ("status", "study_type", "priority")
    raw_id_fields = ("user", "course")


class ClassInline(admin.TabularInline):
    model = TimetableClass
    raw_id_fields = ("course",)
    extra = 0


@admin.register(Timetable)
class TimetableAdmin(admin.ModelAdmin):
    list_display = ("user", "semester", "academic_year", "is_active")
    raw_id_fields = ("user",)
    inlines = [ClassInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "due_at", "status", "priority")
    list_filter = ("status", "priority")
    raw_id_fields = ("user", "course")


@admin.register(StudySession)
class StudySessionAdmin(admin.ModelAdmin):
    list_display = ("user", "course", "started_at", "ended_at", "duration_minutes")
    raw_id_fields = ("user", "course", "plan")


@admin.register(WeeklyReport)
class WeeklyReportAdmin(admin.ModelAdmin):
    list_display = ("user", "week_start", "total_study_hours", "completion_rate", "performance_trend", "email_sent_at")
    raw_id_fields = ("user", "most_studied_course", "least_studied_course")
