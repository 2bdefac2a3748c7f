"""Courses, ordered lessons (video, document, text, quiz), enrolments and progress."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Course(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tutor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="courses_taught")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=10_000)
    subject = models.CharField(max_length=80, db_index=True)
    price_minor = models.BigIntegerField(default=0)  # 0 = free
    currency = models.CharField(max_length=3, default="USD")
    cover = models.CharField(max_length=255, blank=True)  # storage name (random; re-encoded image)
    published = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["published", "subject"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_free(self) -> bool:
        return self.price_minor == 0


class ContentType(models.TextChoices):
    VIDEO = "video", "Video URL"
    DOCUMENT = "document", "Document upload"
    TEXT = "text", "Rich text"
    QUIZ = "quiz", "Quiz"


class Lesson(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    content_type = models.CharField(max_length=16, choices=ContentType.choices)
    video_url = models.URLField(blank=True, max_length=500)
    body = models.TextField(blank=True, max_length=100_000)  # Markdown text for "text" lessons
    document = models.CharField(max_length=255, blank=True)  # storage name
    document_name = models.CharField(max_length=200, blank=True)
    document_mime = models.CharField(max_length=120, blank=True)
    #: [{"id": "q1", "text": "...", "options": ["a", "b"], "correct": [0]}]: "correct" never leaves the
    #: server for students.
    quiz = models.JSONField(default=list, blank=True)
    duration_minutes = models.PositiveIntegerField(default=0)
    is_preview = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "created_at"]


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked (refunded)"


class Enrolment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_enrolments")
    status = models.CharField(max_length=16, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    payment_id = models.UUIDField(null=True, blank=True)  # the payments module's payment, by id only
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["course", "student"], name="courses_one_enrolment_per_student")]


class LessonCompletion(models.Model):
    id = models.BigAutoField(primary_key=True)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="completions")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrolment", "lesson"], name="courses_complete_once")]


class QuizAttempt(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="quiz_attempts")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="quiz_attempts")
    answers = models.JSONField(default=dict)
    score = models.PositiveIntegerField()
    max_score = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
