from django.contrib import admin

from modules.coach.models import CoachSession


@admin.register(CoachSession)
class CoachSessionAdmin(admin.ModelAdmin):
    """Operators see that sessions exist, never what a student wrote (prompts belong to the student)."""

    list_display = ("id", "user", "created_at", "last_activity_at")
    readonly_fields = ("id", "user", "created_at", "last_activity_at")
    exclude = ("title",)
