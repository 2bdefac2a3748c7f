"""Messaging tables: threads between two users, their messages, attachments and blocks."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone as dj_tz

MAX_BODY = 5000


class Thread(models.Model):
    """A one-to-one conversation. The pair is stored ordered (user_low < user_high by id): one per pair."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_low = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    user_high = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=dj_tz.now)
    last_message_at = models.DateTimeField(default=dj_tz.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_low", "user_high"], name="messaging_thread_one_per_pair"),
            models.CheckConstraint(condition=~Q(user_low=F("user_high")), name="messaging_thread_two_people"),
        ]
        indexes = [
            models.Index(fields=["user_low", "-last_message_at"], name="messaging_thread_low_recent"),
            models.Index(fields=["user_high", "-last_message_at"], name="messaging_thread_high_recent"),
        ]

    def __str__(self) -> str:
        return f"thread {self.pk}"

    def other(self, user_id: uuid.UUID) -> uuid.UUID:
        return self.user_high_id if self.user_low_id == user_id else self.user_low_id

    def has(self, user_id: uuid.UUID) -> bool:
        return user_id in (self.user_low_id, self.user_high_id)


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=MAX_BODY, blank=True)
    # Another module's object, by id only (no FK across modules).
    booking_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_tz.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["thread", "-created_at", "-id"], name="messaging_msg_history"),
            models.Index(fields=["recipient", "read_at"], name="messaging_msg_unread"),
            models.Index(fields=["sender", "-created_at"], name="messaging_msg_sent"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="attachment")
    file = models.CharField(max_length=255)  # storage name (random)
    original_name = models.CharField(max_length=200)
    mime = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=dj_tz.now)

    def __str__(self) -> str:
        return self.original_name


class Block(models.Model):
    """``blocker`` does not want to hear from ``blocked``; neither may start or continue a thread."""

    id = models.BigAutoField(primary_key=True)
    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=dj_tz.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blocker", "blocked"], name="messaging_block_once")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"
