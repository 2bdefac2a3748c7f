"""The study tracker's tables. Everything belongs to one user (the owner); FKs only to core's User."""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class OnboardingStep(models.TextChoices):
    PROFILE = "profile", "Profile"
    COURSES = "courses", "Courses"
    TIMETABLE = "timetable", "Timetable"
    DONE = "done", "Done"


class Weekday(models.TextChoices):
    MONDAY = "monday", "Monday"
    TUESDAY = "tuesday", "Tuesday"
    WEDNESDAY = "wednesday", "Wednesday"
    THURSDAY = "thursday", "Thursday"
    FRIDAY = "friday", "Friday"
    SATURDAY = "saturday", "Saturday"
    SUNDAY = "sunday", "Sunday"


class Preferences(models.Model):
    """One row per tracker user; created on first use. Blank time_zone means the user's own zone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_preferences")
    morning_email_time = models.TimeField(default=time(7, 0))
    reminder_time = models.TimeField(default=time(21, 0))
    email_enabled = models.BooleanField(default=True)
    push_enabled = models.BooleanField(default=True)
    weekly_report_enabled = models.BooleanField(default=True)
    weekly_report_day = models.CharField(max_length=10, choices=Weekday.choices, default=Weekday.SUNDAY)
    weekly_report_time = models.TimeField(default=time(20, 0))
    time_zone = models.CharField(max_length=64, blank=True, default="")
    grading_scale = models.JSONField(null=True, blank=True)  # None: the default scale
    target_gpa = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    onboarding_step = models.CharField(max_length=16, choices=OnboardingStep.choices, default=OnboardingStep.PROFILE)
    onboarding_completed_at = models.DateTimeField(null=True, blank=True)
    ics_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"


class Course(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_courses")
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=50)
    credits = models.PositiveSmallIntegerField(default=3)
    instructor = models.CharField(max_length=255, blank=True)
    color = models.CharField(max_length=50, default="blue")
    semester = models.CharField(max_length=100)
    academic_year = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["semester", "code", "id"]
        indexes = [models.Index(fields=["user", "semester"]), models.Index(fields=["user", "code"])]
        constraints = [models.CheckConstraint(condition=Q(credits__gte=1, credits__lte=6), name="tracker_course_credits_1_6")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AssessmentType(models.TextChoices):
    QUIZ = "quiz", "Quiz"
    MIDTERM = "midterm", "Midterm"
    FINAL = "final", "Final"
    ASSIGNMENT = "assignment", "Assignment"
    PROJECT = "project", "Project"


class Result(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_results")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="results")
    assessment_type = models.CharField(max_length=20, choices=AssessmentType.choices)
    name = models.CharField(max_length=255, blank=True)
    score = models.DecimalField(max_digits=7, decimal_places=2)
    max_score = models.DecimalField(max_digits=7, decimal_places=2, default=100)
    percentage = models.DecimalField(max_digits=7, decimal_places=2)  # derived: score / max * 100
    grade = models.CharField(max_length=5, blank=True)  # derived from the user's grading scale
    weight = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)  # % of the course grade
    semester = models.CharField(max_length=100)
    date = models.DateField()
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-created_at", "id"]
        indexes = [models.Index(fields=["user", "date"]), models.Index(fields=["user", "semester"])]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0), name="tracker_result_score_nonneg"),
            models.CheckConstraint(condition=Q(max_score__gt=0), name="tracker_result_max_positive"),
            models.CheckConstraint(condition=Q(score__lte=F("max_score")), name="tracker_result_score_le_max"),
        ]


class Priority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class StudyType(models.TextChoices):
    REVIEW = "review", "Review"
    NEW_MATERIAL = "new-material", "New material"
    PRACTICE = "practice", "Practice"


class PlanStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"


class StudyPlan(models.Model):
    """A planned block of study; date and start_time are wall-clock in the owner's zone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_plans")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="plans")
    topic = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    date = models.DateField()
    start_time = models.TimeField()
    planned_minutes = models.PositiveIntegerField()
    actual_minutes = models.PositiveIntegerField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    study_type = models.CharField(max_length=20, choices=StudyType.choices, default=StudyType.REVIEW)
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.PENDING)
    completed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "start_time", "id"]
        indexes = [models.Index(fields=["user", "date"]), models.Index(fields=["status", "date"])]
        constraints = [models.CheckConstraint(condition=Q(planned_minutes__gt=0), name="tracker_plan_minutes_positive")]


class Timetable(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_timetables")
    semester = models.CharField(max_length=100)
    academic_year = models.CharField(max_length=20, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "semester", "academic_year"], name="tracker_timetable_one_per_semester")
        ]


class ClassType(models.TextChoices):
    LECTURE = "lecture", "Lecture"
    LAB = "lab", "Lab"
    TUTORIAL = "tutorial", "Tutorial"
    SEMINAR = "seminar", "Seminar"


class TimetableClass(models.Model):
    """A weekly class. day_of_week: 0=Sunday, 1=Monday ... 6=Saturday (as the client's PRD)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    timetable = models.ForeignKey(Timetable, on_delete=models.CASCADE, related_name="classes")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="classes")
    day_of_week = models.PositiveSmallIntegerField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    location = models.CharField(max_length=255, blank=True)
    class_type = models.CharField(max_length=20, choices=ClassType.choices, default=ClassType.LECTURE)
    instructor = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day_of_week", "start_time", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(day_of_week__gte=0, day_of_week__lte=6), name="tracker_class_day_valid"),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="tracker_class_end_after_start"),
        ]


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"
    OVERDUE = "overdue", "Overdue"


class Assignment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_assignments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    due_at = models.DateTimeField()
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING)
    completed_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["status", "due_at"])]


class StudySession(models.Model):
    """Time actually studied: a running timer (ended_at null) or a finished/logged session."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_sessions")
    plan = models.ForeignKey(StudyPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(default=0)  # derived from the two instants
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "id"]
        indexes = [models.Index(fields=["user", "started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")), name="tracker_session_end_after_start"
            ),
            models.UniqueConstraint(fields=["user"], condition=Q(ended_at__isnull=True), name="tracker_one_running_timer"),
        ]


class Trend(models.TextChoices):
    IMPROVING = "improving", "Improving"
    DECLINING = "declining", "Declining"
    STABLE = "stable", "Stable"


class WeeklyReport(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_reports")
    week_start = models.DateField()
    week_end = models.DateField()
    total_study_hours = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    planned_hours = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    completion_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    most_studied_course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    least_studied_course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    performance_trend = models.CharField(max_length=20, choices=Trend.choices, default=Trend.STABLE)
    insights = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    pdf_name = models.CharField(max_length=255, blank=True)
    generated_at = models.DateTimeField(default=timezone.now)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "week_start"], name="tracker_report_once_per_week")]
