from __future__ import annotations

from django.contrib import admin

from modules.courses.models import Course, Enrolment, Lesson


class LessonInline(admin.TabularInline):
    model = Lesson
    extra = 0
    fields = ("position", "title", "content_type", "duration_minutes", "is_preview")


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "tutor", "subject", "price_minor", "currency", "published", "created_at")
    list_filter = ("published", "subject", "currency")
    search_fields = ("title", "description")
    inlines = [LessonInline]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ("course", "student", "status", "created_at")
    list_filter = ("status",)
