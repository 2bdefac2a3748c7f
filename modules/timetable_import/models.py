from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    NEEDS_REVIEW = "needs_review", "Needs review"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed"


class ClassKind(models.TextChoices):
    LECTURE = "lecture", "Lecture"
    LAB = "lab", "Lab"
    TUTORIAL = "tutorial", "Tutorial"
    SEMINAR = "seminar", "Seminar"
    OTHER = "other", "Other"


class TimetableImport(models.Model):
    """One uploaded file and what became of it. The tracker timetable is referenced by id (no FK)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="timetable_imports")
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    engine = models.CharField(max_length=50, blank=True)
    layout = models.CharField(max_length=100, blank=True)
    pages = models.PositiveSmallIntegerField(default=0)
    timetable_id = models.UUIDField(null=True, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_kind = models.CharField(max_length=10)
    file_size = models.PositiveIntegerField(default=0)
    original_name = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_class_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="ttimport_user_created"),
            models.Index(fields=["status", "started_at"], name="ttimport_status_started"),
        ]

    def __str__(self) -> str:
        return f"import {self.id} ({self.status})"


class Proposal(models.Model):
    """A class the OCR proposes (or the student added), edited during review. day_of_week: 0 = Monday."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(TimetableImport, on_delete=models.CASCADE, related_name="proposals")
    position = models.PositiveIntegerField(default=0)
    day_of_week = models.PositiveSmallIntegerField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    course_name = models.CharField(max_length=255)
    course_code = models.CharField(max_length=50, blank=True)
    location = models.CharField(max_length=255, blank=True)
    class_type = models.CharField(max_length=20, choices=ClassKind.choices, default=ClassKind.OTHER)
    instructor = models.CharField(max_length=255, blank=True)
    confidence = models.FloatField(default=1.0)
    flagged = models.BooleanField(default=False)
    matched_course_id = models.UUIDField(null=True, blank=True)
    match_score = models.FloatField(null=True, blank=True)
    include = models.BooleanField(default=True)
    manual = models.BooleanField(default=False)
    raw_text = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("day_of_week", "start_time", "position", "id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")), name="ttimport_proposal_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(day_of_week__lte=6), name="ttimport_proposal_day_range"),
        ]

    def __str__(self) -> str:
        return f"{self.course_name} {self.day_of_week} {self.start_time}"
