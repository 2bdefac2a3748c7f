"""Messaging's domain operations: check_* validate and raise core errors, do_* change and publish."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
import uuid
from typing import Any

from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.cache import bump_now_and_on_commit
from core.db import batched_writes, db_uuid, from_db_row, insert_row, update_row
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.events import publish
from core.files import CheckedUpload, store_file
from core.models import Role, User
from core.realtime.push import push_to_user_on_commit
from core.registry import HOOKS, UserExport, hooks
from modules.messaging.events import MessageDeleted, MessageSent, MessagesRead
from modules.messaging.models import MAX_BODY, Attachment, Block, Message, Thread

logger = logging.getLogger(__name__)
ATTACHMENT_KINDS = ("image", "pdf", "document", "text")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
DELETED_TEXT = "deleted"


# --- checks ----------------------------------------------------------------------------------------


def get_counterpart(*, user_id: uuid.UUID) -> User:
    """The other party: an existing, usable user, or 404."""
    other = User.alive.filter(pk=user_id, is_active=True).first()
    if other is None:
        raise NotFound("No user with that id", code="user_not_found")
    return other


def is_blocked(a: User, b: User) -> bool:
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


# A contact policy's yes, per process, for CONTACT_GRANT_SECONDS: each policy is a query in another
# module (a shared booking, an enrolment), asked on every message of a conversation for an answer that
# does not change between two messages. A no is never kept (a new booking opens contact at once); a
# withdrawn yes (an enrolment refunded) takes effect within the minute. Blocks, roles and accounts are
# read on every send.
CONTACT_GRANT_SECONDS = 60.0
_granted: dict[tuple[uuid.UUID, uuid.UUID], tuple[float, str]] = {}


def _policy_reason(sender: User, recipient: User) -> str | None:
    key, now = (sender.pk, recipient.pk), time.monotonic()
    known = _granted.get(key)
    if known is not None and known[0] > now:
        return known[1]
    for owner, fn in hooks.entries(HOOKS.CONTACT_POLICY):
        try:
            reason = fn(sender, recipient)
        except Exception:
            logger.exception("contact policy %s failed", owner)
            continue
        if reason:
            if len(_granted) >= 50_000:  # bounded; a full table simply starts again
                _granted.clear()
            _granted[key] = (now + CONTACT_GRANT_SECONDS, str(reason))
            return str(reason)
    return None


def contact_reason(sender: User, recipient: User) -> str | None:
    """Why ``sender`` may write to ``recipient`` (admins always; otherwise a contact-policy hook), or None."""
    if sender.role == Role.ADMIN:
        return "sender is an administrator"
    if recipient.role == Role.ADMIN:
        return "recipient is an administrator"
    return _policy_reason(sender, recipient)


def check_may_contact(*, sender: User, recipient: User, blocked: bool | None = None) -> str:
    """``blocked``: already known (``_send_context``), else read here."""
    if sender.pk == recipient.pk:
        raise ValidationFailed("You cannot send a message to yourself", code="self_message")
    if blocked if blocked is not None else is_blocked(sender, recipient):
        raise PermissionDenied("Messages between you and this user are blocked", code="blocked")
    reason = contact_reason(sender, recipient)
    if reason is None:
        raise PermissionDenied(
            "You may message this user only once you share a booking or a course with them (or either of you is an administrator)",
            code="contact_not_allowed",
        )
    return reason


def check_body(body: str, *, allow_empty: bool = False) -> str:
    body = (body or "").strip()
    if not body and not allow_empty:
        raise ValidationFailed(
            "The message is empty",
            code="empty_message",
            errors=[{"field": "body", "loc": ["body"], "message": "empty", "type": "empty"}],
        )
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"A message holds at most {MAX_BODY} characters", code="message_too_long")
    return body


# --- threads ----------------------------------------------------------------------------------------


def _pair(a: User, b: User) -> tuple[User, User]:
    return (a, b) if a.pk.hex < b.pk.hex else (b, a)


def find_thread(a: User, b: User) -> Thread | None:
    low, high = _pair(a, b)
    return Thread.objects.filter(user_low=low, user_high=high).first()


def get_or_create_thread(a: User, b: User) -> tuple[Thread, bool]:
    low, high = _pair(a, b)
    existing = Thread.objects.filter(user_low=low, user_high=high).first()  # the usual case: no savepoint
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Thread.objects.get_or_create(user_low=low, user_high=high)
    except IntegrityError:  # a concurrent first message created it
        return Thread.objects.get(user_low=low, user_high=high), False


def _send_context(sender: User, recipient_id: uuid.UUID) -> tuple[User, bool, Thread | None]:
    """The recipient (active, not erased; else 404), whether either party blocks the other, and
    their thread if it exists: one statement on every send, where the ORM made three queries and
    spent more CPU building them than the database spent answering (a raw queryset cost 14% of a
    send's CPU in its own machinery: a cursor and core.db.from_db_row)."""
    low, high = sorted((sender.pk, recipient_id), key=lambda u: u.hex)
    me = db_uuid(sender.pk)
    with connection.cursor() as cursor:
        cursor.execute(_send_context_sql(), [me, me, db_uuid(low), db_uuid(high), db_uuid(recipient_id)])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No user with that id", code="user_not_found")
    *user_columns, either_blocks, thread_id = row
    recipient = from_db_row(User, user_columns)
    thread = None
    if thread_id is not None:
        thread = Thread.from_db(connection.alias, ["id", "user_low_id", "user_high_id"], [uuid.UUID(str(thread_id)), low, high])
    return recipient, bool(either_blocks), thread


@functools.cache
def _send_context_sql() -> str:
    """_send_context's statement: the user's columns in field order, then the block flag and the thread."""
    columns = ", ".join(f'u."{f.column}"' for f in User._meta.concrete_fields)
    return f"""SELECT {columns},
        EXISTS (SELECT 1 FROM {Block._meta.db_table} b
                WHERE (b.blocker_id = %s AND b.blocked_id = u.id) OR (b.blocker_id = u.id AND b.blocked_id = %s)),
        (SELECT t.id FROM {Thread._meta.db_table} t WHERE t.user_low_id = %s AND t.user_high_id = %s)
    FROM {User._meta.db_table} u
    WHERE u.id = %s AND u.is_active AND u.deleted_at IS NULL"""


def do_open_thread(*, user: User, other_id: uuid.UUID) -> tuple[Thread, bool]:
    other = get_counterpart(user_id=other_id)
    check_may_contact(sender=user, recipient=other)
    return get_or_create_thread(user, other)


# --- messages ---------------------------------------------------------------------------------------


def message_payload(msg: Message) -> dict[str, Any]:
    """The JSON shape pushed over sockets and answered by the API (schemas.MessageOut)."""
    att = getattr(msg, "attachment", None) if _has_attachment_loaded(msg) else None
    deleted = msg.deleted_at is not None
    return {
        "id": str(msg.pk),
        "thread_id": str(msg.thread_id),
        "sender_id": str(msg.sender_id),
        "recipient_id": str(msg.recipient_id),
        "body": "" if deleted else msg.body,
        "is_deleted": deleted,
        "is_read": msg.read_at is not None,
        "read_at": msg.read_at.isoformat() if msg.read_at else None,
        "edited_at": msg.edited_at.isoformat() if msg.edited_at else None,
        "booking_id": str(msg.booking_id) if msg.booking_id else None,
        "created_at": msg.created_at.isoformat(),
        "attachment": None
        if att is None or deleted
        else {
            "id": str(att.pk),
            "name": att.original_name,
            "mime": att.mime,
            "size": att.size,
            "download_url": f"/api/v1/messaging/attachments/{att.pk}/download",
        },
    }


def _has_attachment_loaded(msg: Message) -> bool:
    try:
        msg.attachment  # noqa: B018 - loaded by select_related, or one query
    except Attachment.DoesNotExist:
        return False
    return True


def threads_namespace(user_id: Any) -> str:
    """A user's cached thread list and histories (core.api.public_cache)."""
    return f"msg:threads:{user_id}"


def invalidate_threads_of(*user_ids: Any) -> None:
    bump_now_and_on_commit(*(threads_namespace(u) for u in user_ids))


def _push_both(msg: Message, event_type: str, payload: dict[str, Any]) -> None:
    # Whatever both parties are told about also changes both parties' cached lists.
    invalidate_threads_of(msg.sender_id, msg.recipient_id)
    push_to_user_on_commit(msg.sender_id, event_type, payload)
    push_to_user_on_commit(msg.recipient_id, event_type, payload)


@transaction.atomic
def do_send_message(
    *,
    sender: User,
    recipient_id: uuid.UUID,
    body: str,
    booking_id: uuid.UUID | None = None,
    upload: CheckedUpload | None = None,
) -> Message:
    recipient, blocked, thread = _send_context(sender, recipient_id)
    body = check_body(body, allow_empty=upload is not None)
    check_may_contact(sender=sender, recipient=recipient, blocked=blocked)
    if thread is None:
        thread, _ = get_or_create_thread(sender, recipient)
    now = timezone.now()
    msg = Message(thread=thread, sender=sender, recipient=recipient, body=body, booking_id=booking_id, created_at=now)
    thread.last_message_at = now
    with batched_writes():  # one statement: the message and its thread's last activity (nothing listens to their saves)
        insert_row(msg)
        update_row(thread, ["last_message_at"])
    if upload is None:
        Message.attachment.related.set_cached_value(msg, None)  # known to have none: the answer reads no row
    else:
        name = store_file(upload, folder=f"messaging/{thread.pk.hex}")
        mime, size = upload.mime, len(upload.data)
        if upload.kind == "image":  # re-encoded by store_file: PNG or JPEG, metadata dropped
            mime = "image/png" if name.endswith(".png") else "image/jpeg"
            size = default_storage.size(name)
        msg.attachment = Attachment.objects.create(
            message=msg, file=name, original_name=upload.original_name, mime=mime, size=size
        )
    _push_both(msg, "new_message", message_payload(msg))
    publish(
        MessageSent(
            message_id=msg.pk,
            thread_id=thread.pk,
            sender_id=sender.pk,
            recipient_id=recipient.pk,
            created_at=now,
            has_attachment=upload is not None,
        )
    )
    return msg


def get_visible_message(*, user: User, message_id: uuid.UUID) -> Message:
    msg = Message.objects.select_related("attachment").filter(Q(sender=user) | Q(recipient=user), pk=message_id).first()
    if msg is None:
        raise NotFound("No message with that id, or you may not see it")
    return msg


def _own(*, user: User, message_id: uuid.UUID) -> Message:
    msg = get_visible_message(user=user, message_id=message_id)
    if msg.sender_id != user.pk:
        raise PermissionDenied("Only the sender may change a message", code="not_your_message")
    if msg.deleted_at is not None:
        raise NotFound("This message was deleted", code="message_deleted")
    return msg


@transaction.atomic
def do_edit_message(*, user: User, message_id: uuid.UUID, body: str) -> Message:
    msg = _own(user=user, message_id=message_id)
    msg.body = check_body(body, allow_empty=_has_attachment_loaded(msg))
    msg.edited_at = timezone.now()
    msg.save(update_fields=["body", "edited_at"])
    _push_both(msg, "message_updated", message_payload(msg))
    return msg


@transaction.atomic
def do_delete_message(*, user: User, message_id: uuid.UUID) -> Message:
    """Soft delete: the row stays so both sides see "deleted"; the text and the file are gone."""
    msg = _own(user=user, message_id=message_id)
    msg.deleted_at = timezone.now()
    msg.body = ""
    msg.save(update_fields=["deleted_at", "body"])
    if _has_attachment_loaded(msg):
        _remove_attachment(msg.attachment)
    _push_both(msg, "message_updated", message_payload(msg))
    publish(MessageDeleted(message_id=msg.pk, sender_id=msg.sender_id, recipient_id=msg.recipient_id))
    return msg


def _remove_attachment(att: Attachment) -> None:
    name = att.file
    att.delete()
    transaction.on_commit(lambda: default_storage.delete(name))


def _mark_read(*, user: User, thread: Thread, qs: Any) -> list[str]:
    now = timezone.now()
    ids = [str(pk) for pk in qs.filter(recipient=user, read_at__isnull=True).values_list("pk", flat=True)]
    if not ids:
        return []
    Message.objects.filter(pk__in=ids, read_at__isnull=True).update(read_at=now)
    payload = {"thread_id": str(thread.pk), "reader_id": str(user.pk), "message_ids": ids, "read_at": now.isoformat()}
    invalidate_threads_of(user.pk, thread.other(user.pk))
    push_to_user_on_commit(user.pk, "message_read", payload)
    push_to_user_on_commit(thread.other(user.pk), "message_read", payload)
    publish(MessagesRead(reader_id=user.pk, thread_id=thread.pk, message_ids=tuple(ids)))
    return ids


@transaction.atomic
def do_mark_read(*, user: User, message_id: uuid.UUID) -> Message:
    msg = get_visible_message(user=user, message_id=message_id)
    if msg.recipient_id != user.pk:
        raise PermissionDenied("Only the recipient may mark a message read", code="not_recipient")
    _mark_read(user=user, thread=msg.thread, qs=Message.objects.filter(pk=msg.pk))
    msg.refresh_from_db(fields=["read_at"])
    return msg


def get_thread_with(*, user: User, other_id: uuid.UUID) -> Thread:
    other = User.objects.filter(pk=other_id).first()
    thread = find_thread(user, other) if other is not None else None
    if thread is None:
        raise NotFound("You have no conversation with this user", code="thread_not_found")
    return thread


@transaction.atomic
def do_mark_thread_read(*, user: User, other_id: uuid.UUID) -> int:
    thread = get_thread_with(user=user, other_id=other_id)
    return len(_mark_read(user=user, thread=thread, qs=Message.objects.filter(thread=thread)))


# --- blocks -----------------------------------------------------------------------------------------


def do_block(*, user: User, other_id: uuid.UUID) -> Block:
    other = get_counterpart(user_id=other_id)
    if other.pk == user.pk:
        raise ValidationFailed("You cannot block yourself", code="self_block")
    block, _ = Block.objects.get_or_create(blocker=user, blocked=other)
    return block


def do_unblock(*, user: User, other_id: uuid.UUID) -> None:
    deleted, _ = Block.objects.filter(blocker=user, blocked_id=other_id).delete()
    if not deleted:
        raise NotFound("You have not blocked this user", code="not_blocked")


# --- hooks: GDPR export and erasure, admin figures --------------------------------------------------


def export_user(user: User) -> UserExport:
    """Every message the user sent or received (text of deleted ones excluded), their blocks, and the
    files they sent."""
    rows = (
        Message.objects.filter(Q(sender=user) | Q(recipient=user))
        .order_by("created_at", "id")
        .values("id", "thread_id", "sender_id", "recipient_id", "body", "created_at", "deleted_at", "read_at", "booking_id")
    )
    messages = []
    for r in rows:
        messages.append(
            {
                "id": str(r["id"]),
                "thread_id": str(r["thread_id"]),
                "direction": "sent" if r["sender_id"] == user.pk else "received",
                "other_user_id": str(r["recipient_id"] if r["sender_id"] == user.pk else r["sender_id"]),
                "body": "" if r["deleted_at"] else r["body"],
                "deleted": r["deleted_at"] is not None,
                "read_at": r["read_at"].isoformat() if r["read_at"] else None,
                "booking_id": str(r["booking_id"]) if r["booking_id"] else None,
                "created_at": r["created_at"].isoformat(),
            }
        )
    blocks = [str(pk) for pk in Block.objects.filter(blocker=user).values_list("blocked_id", flat=True)]
    # Files the user sent (what others sent them stays with the sender, as with erasure).
    files: list[tuple[str, Any]] = [
        (f"sent/{att.created_at:%Y-%m-%d %H%M%S} {att.original_name}", att.file)
        for att in Attachment.objects.filter(message__sender=user, message__deleted_at__isnull=True).order_by("created_at")
    ]
    return UserExport(data={"messages": messages, "blocked_user_ids": blocks}, files=files)


def erase_user(user: User) -> None:
    """Erasure: the user's own messages lose their text and files (soft-deleted, so the other party
    sees "deleted" in place); messages they received stay with the sender, who wrote them. Blocks go."""
    now = timezone.now()
    with transaction.atomic():
        for att in Attachment.objects.filter(message__sender=user):
            _remove_attachment(att)
        Message.objects.filter(sender=user, deleted_at__isnull=True).update(body="", deleted_at=now)
        Block.objects.filter(Q(blocker=user) | Q(blocked=user)).delete()


def admin_figures(**_: Any) -> dict[str, Any]:
    """Figures for the admin dashboard (core passes months=...; these are recent counts)."""
    now = timezone.now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "messages_sent_today": Message.objects.filter(created_at__gte=start).count(),
        "active_threads_7d": Thread.objects.filter(last_message_at__gte=now - dt.timedelta(days=7)).count(),
        "unread_messages": Message.objects.filter(read_at__isnull=True, deleted_at__isnull=True).count(),
        "attachments": Attachment.objects.count(),
    }
