"""The events messaging publishes: its public contract (ids and primitives only)."""

from __future__ import annotations

import datetime as dt
import uuid

from core.events import event


@event("messaging.message_sent.v1")
class MessageSent:
    message_id: uuid.UUID
    thread_id: uuid.UUID
    sender_id: uuid.UUID
    recipient_id: uuid.UUID
    created_at: dt.datetime
    has_attachment: bool = False


@event("messaging.messages_read.v1")
class MessagesRead:
    reader_id: uuid.UUID
    thread_id: uuid.UUID
    message_ids: tuple[str, ...] = ()


@event("messaging.message_deleted.v1")
class MessageDeleted:
    message_id: uuid.UUID
    sender_id: uuid.UUID
    recipient_id: uuid.UUID
