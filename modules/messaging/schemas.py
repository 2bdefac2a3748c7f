from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema

from core.api.pagination import CursorQuery
from core.api.schemas import WriteSchema
from modules.messaging.models import MAX_BODY


class UserBrief(Schema):
    id: uuid.UUID
    name: str
    role: str
    avatar_url: str | None = None


class AttachmentOut(Schema):
    id: uuid.UUID
    name: str
    mime: str
    size: int
    download_url: str


class MessageOut(Schema):
    id: uuid.UUID
    thread_id: uuid.UUID
    sender_id: uuid.UUID
    recipient_id: uuid.UUID
    body: str = Field(description='Empty when the message was deleted (is_deleted: show "deleted")')
    is_deleted: bool
    is_read: bool
    read_at: dt.datetime | None
    edited_at: dt.datetime | None
    booking_id: uuid.UUID | None
    created_at: dt.datetime
    attachment: AttachmentOut | None


class LastMessageOut(Schema):
    id: uuid.UUID
    sender_id: uuid.UUID
    body: str
    is_deleted: bool
    created_at: dt.datetime


class ThreadOut(Schema):
    id: uuid.UUID
    other_user: UserBrief
    last_message: LastMessageOut | None
    last_activity_at: dt.datetime
    unread_count: int


class SendIn(WriteSchema):
    recipient_id: uuid.UUID
    body: str = Field(..., min_length=1, max_length=MAX_BODY)
    booking_id: uuid.UUID | None = None


class EditIn(WriteSchema):
    body: str = Field(..., min_length=1, max_length=MAX_BODY)


class OpenThreadIn(WriteSchema):
    user_id: uuid.UUID


class BlockIn(WriteSchema):
    user_id: uuid.UUID


class BlockOut(Schema):
    user: UserBrief
    created_at: dt.datetime


class UnreadOut(Schema):
    unread_count: int


class MarkedOut(Schema):
    marked_read: int


class SearchQueryIn(CursorQuery):
    q: str = Field(..., min_length=1, max_length=200)
    user_id: uuid.UUID | None = None
