"""Messaging endpoints under /api/v1/messaging/. Thin: parse, authorise, call a service, shape."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from core.api.errors import error_responses
from core.api.pagination import CursorPage, CursorQuery, keyset_paginate
from core.errors import NotFound
from core.files import validate_upload
from core.models import User
from core.permissions import current_user
from core.ratelimit import limited
from modules.messaging import selectors, services
from modules.messaging.models import Attachment, Message, Thread
from modules.messaging.schemas import (
    BlockIn,
    BlockOut,
    EditIn,
    MarkedOut,
    MessageOut,
    OpenThreadIn,
    SearchQueryIn,
    SendIn,
    ThreadOut,
    UnreadOut,
)

router = Router(tags=["messaging"])


def _brief(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "name": user.full_name,
        "role": user.role,
        "avatar_url": user.avatar.url if user.avatar else None,
    }


def _thread_out(thread: Thread, me: User) -> dict[str, Any]:
    other = thread.user_high if thread.user_low_id == me.pk else thread.user_low
    last_id = getattr(thread, "last_id", None)
    last = None
    if last_id is not None:
        deleted = thread.last_deleted_at is not None
        last = {
            "id": last_id,
            "sender_id": thread.last_sender_id,
            "body": "" if deleted else thread.last_body,
            "is_deleted": deleted,
            "created_at": thread.last_created_at,
        }
    return {
        "id": thread.pk,
        "other_user": _brief(other),
        "last_message": last,
        "last_activity_at": thread.last_message_at,
        "unread_count": getattr(thread, "unread_count", 0),
    }


# --- threads ----------------------------------------------------------------------------------------


@router.get("/threads", response={200: CursorPage[ThreadOut], **error_responses(400, 401)})
def list_threads(request: HttpRequest, params: Query[CursorQuery]) -> dict[str, Any]:
    """Your conversations, most recent activity first, with the other party, last message and unread count."""
    me = current_user(request)
    rows, cursor = keyset_paginate(selectors.threads_for(me), params, order=("-last_message_at", "-id"))
    return {"items": [_thread_out(t, me) for t in rows], "next_cursor": cursor}


@router.post("/threads", response={200: ThreadOut, 201: ThreadOut, **error_responses(401, 403, 404, 422)})
def open_thread(request: HttpRequest, data: OpenThreadIn) -> Status:
    """Open (or find) the conversation with a user. 403 contact_not_allowed when no policy allows it."""
    me = current_user(request)
    thread, created = services.do_open_thread(user=me, other_id=data.user_id)
    thread = selectors.threads_for(me).get(pk=thread.pk)
    return Status(201 if created else 200, _thread_out(thread, me))


@router.get("/threads/{user_id}/messages", response={200: CursorPage[MessageOut], **error_responses(400, 401, 404, 422)})
def thread_history(request: HttpRequest, user_id: uuid.UUID, params: Query[CursorQuery]) -> dict[str, Any]:
    """The conversation with ``user_id``, newest first; page with next_cursor (stable under new messages)."""
    me = current_user(request)
    thread = services.get_thread_with(user=me, other_id=user_id)
    rows, cursor = keyset_paginate(selectors.history(thread), params, order=("-created_at", "-id"))
    return {"items": [services.message_payload(m) for m in rows], "next_cursor": cursor}


@router.post("/threads/{user_id}/read", response={200: MarkedOut, **error_responses(401, 404, 422)})
def mark_thread_read(request: HttpRequest, user_id: uuid.UUID) -> dict[str, int]:
    """Mark every message you received in the conversation read."""
    return {"marked_read": services.do_mark_thread_read(user=current_user(request), other_id=user_id)}


# --- messages ---------------------------------------------------------------------------------------


@router.post("/messages", response={201: MessageOut, **error_responses(401, 403, 404, 422, 429)}, throttle=limited("messages"))
def send_message(request: HttpRequest, data: SendIn) -> Status:
    """Send a message (up to 5,000 characters). 403 contact_not_allowed or blocked when you may not."""
    msg = services.do_send_message(
        sender=current_user(request), recipient_id=data.recipient_id, body=data.body, booking_id=data.booking_id
    )
    return Status(201, services.message_payload(msg))


@router.post(
    "/messages/with-attachment",
    response={201: MessageOut, **error_responses(401, 403, 404, 413, 415, 422, 429)},
    throttle=limited("messages", "uploads"),
)
def send_message_with_attachment(
    request: HttpRequest,
    file: File[UploadedFile],
    recipient_id: Form[uuid.UUID],
    body: Form[str] = "",
    booking_id: Form[uuid.UUID | None] = None,
) -> Status:
    """Send a message with one file (images, PDF, Office documents, plain text; 10 MB)."""
    me = current_user(request)
    # Authorise before reading the file, so a refused sender never makes us store anything.
    services.check_may_contact(sender=me, recipient=services.get_counterpart(user_id=recipient_id))
    checked = validate_upload(file, allowed=services.ATTACHMENT_KINDS, max_bytes=services.ATTACHMENT_MAX_BYTES)
    msg = services.do_send_message(sender=me, recipient_id=recipient_id, body=body, booking_id=booking_id, upload=checked)
    return Status(201, services.message_payload(msg))


@router.patch("/messages/{message_id}", response={200: MessageOut, **error_responses(401, 403, 404, 422)})
def edit_message(request: HttpRequest, message_id: uuid.UUID, data: EditIn) -> dict[str, Any]:
    """Edit your own message; both parties' sockets get message_updated."""
    msg = services.do_edit_message(user=current_user(request), message_id=message_id, body=data.body)
    return services.message_payload(msg)


@router.delete("/messages/{message_id}", response={204: None, **error_responses(401, 403, 404, 422)})
def delete_message(request: HttpRequest, message_id: uuid.UUID) -> Status:
    """Delete your own message: it stays in place as "deleted" for both parties."""
    services.do_delete_message(user=current_user(request), message_id=message_id)
    return Status(204, None)


@router.post("/messages/{message_id}/read", response={200: MessageOut, **error_responses(401, 403, 404, 422)})
def mark_message_read(request: HttpRequest, message_id: uuid.UUID) -> dict[str, Any]:
    """Mark one message you received read; both parties' sockets get message_read."""
    msg = services.do_mark_read(user=current_user(request), message_id=message_id)
    return services.message_payload(msg)


@router.get("/unread-count", response={200: UnreadOut, **error_responses(401)})
def unread_count(request: HttpRequest) -> dict[str, int]:
    me = current_user(request)
    return {"unread_count": Message.objects.filter(recipient=me, read_at__isnull=True, deleted_at__isnull=True).count()}


@router.get("/search", response={200: CursorPage[MessageOut], **error_responses(400, 401, 422)})
def search_messages(request: HttpRequest, params: Query[SearchQueryIn]) -> dict[str, Any]:
    """Search your own messages (PostgreSQL full-text; a plain contains match on SQLite)."""
    me = current_user(request)
    qs = selectors.search(me, params.q, other_id=params.user_id)
    rows, cursor = keyset_paginate(qs, params, order=("-created_at", "-id"))
    return {"items": [services.message_payload(m) for m in rows], "next_cursor": cursor}


@router.get(
    "/attachments/{attachment_id}/download",
    response={**error_responses(401, 404, 422)},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file, as an attachment",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_attachment(request: HttpRequest, attachment_id: uuid.UUID) -> HttpResponse:
    """The file, to the two parties of the conversation only (404 for anyone else)."""
    me = current_user(request)
    att = (
        Attachment.objects.filter(pk=attachment_id, message__deleted_at__isnull=True)
        .filter(Q(message__sender=me) | Q(message__recipient=me))
        .first()
    )
    if att is None or not default_storage.exists(att.file):
        raise NotFound("No attachment with that id, or you may not see it")
    response = FileResponse(default_storage.open(att.file, "rb"), as_attachment=True, filename=att.original_name)
    response["Content-Type"] = att.mime
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- blocks -----------------------------------------------------------------------------------------


@router.get("/blocks", response={200: list[BlockOut], **error_responses(401)})
def list_blocks(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"user": _brief(b.blocked), "created_at": b.created_at} for b in selectors.blocked_by(current_user(request))[:500]]


@router.post("/blocks", response={201: BlockOut, **error_responses(401, 404, 422)})
def block_user(request: HttpRequest, data: BlockIn) -> Status:
    """Block a user: neither of you can start or continue a conversation until you unblock."""
    block = services.do_block(user=current_user(request), other_id=data.user_id)
    return Status(201, {"user": _brief(block.blocked), "created_at": block.created_at})


@router.delete("/blocks/{user_id}", response={204: None, **error_responses(401, 404, 422)})
def unblock_user(request: HttpRequest, user_id: uuid.UUID) -> Status:
    services.do_unblock(user=current_user(request), other_id=user_id)
    return Status(204, None)
