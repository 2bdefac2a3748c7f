from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from ninja import Field, Schema

from core.api.pagination import CursorQuery
from core.api.schemas import WriteSchema

CategoryName = Literal["bookings", "messages", "payments", "reviews", "study_reminders", "reports", "system"]


class NotificationOut(Schema):
    id: uuid.UUID
    type: str
    category: str
    title: str
    body: str
    data: dict[str, Any]
    is_read: bool
    read_at: dt.datetime | None
    created_at: dt.datetime


class NotificationQuery(CursorQuery):
    unread: bool | None = Field(None, description="true: only unread; false: only read")
    category: CategoryName | None = None


class NotificationsUnreadOut(Schema):
    unread_count: int


UnreadOut = NotificationsUnreadOut  # the name modules' api.py uses; the schema name is unique API-wide


class NotificationsMarkedOut(Schema):
    marked_read: int


MarkedOut = NotificationsMarkedOut  # the name modules' api.py uses; the schema name is unique API-wide


class CategoryPreference(Schema):
    category: CategoryName
    in_app: bool
    email: bool
    push: bool


class CategoryPreferenceIn(WriteSchema):
    category: CategoryName
    in_app: bool | None = None
    email: bool | None = None
    push: bool | None = None


class QuietHoursSchema(WriteSchema):
    start: dt.time = Field(..., description="Local time in your time zone, e.g. 22:00")
    end: dt.time = Field(..., description="Local time in your time zone, e.g. 07:00 (may be the next day)")


class NotificationPreferencesOut(Schema):
    timezone: str
    quiet_hours: QuietHoursSchema | None
    push_available: bool
    categories: list[CategoryPreference]


PreferencesOut = NotificationPreferencesOut  # the name modules' api.py uses; the schema name is unique API-wide


class PreferencesIn(WriteSchema):
    categories: list[CategoryPreferenceIn] | None = Field(None, max_length=20)
    quiet_hours: QuietHoursSchema | None = Field(None, description="Send null to turn quiet hours off")


class EmailLogOut(Schema):
    id: int
    type: str
    recipient: str
    subject: str
    status: str
    attempts: int
    error: str
    sent_at: dt.datetime | None
    created_at: dt.datetime
