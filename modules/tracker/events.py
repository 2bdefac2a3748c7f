"""Facts the tracker publishes (its public contract): ids and primitives only."""

from __future__ import annotations

import datetime as dt
import uuid

from core.events import event


@event("tracker.result_recorded.v1")
class ResultRecorded:
    user_id: uuid.UUID
    result_id: uuid.UUID
    course_id: uuid.UUID
    percentage: str


@event("tracker.results_imported.v1")
class ResultsImported:
    user_id: uuid.UUID
    imported: int
    refused: int


@event("tracker.plan_completed.v1")
class PlanCompleted:
    user_id: uuid.UUID
    plan_id: uuid.UUID
    course_id: uuid.UUID
    actual_minutes: int


@event("tracker.plan_missed.v1")
class PlanMissed:
    user_id: uuid.UUID
    plan_id: uuid.UUID
    course_id: uuid.UUID
    date: dt.date


@event("tracker.assignment_overdue.v1")
class AssignmentOverdue:
    user_id: uuid.UUID
    assignment_id: uuid.UUID
    course_id: uuid.UUID
    due_at: dt.datetime


@event("tracker.assignment_completed.v1")
class AssignmentCompleted:
    user_id: uuid.UUID
    assignment_id: uuid.UUID


@event("tracker.weekly_report_generated.v1")
class WeeklyReportGenerated:
    user_id: uuid.UUID
    report_id: uuid.UUID
    week_start: dt.date
