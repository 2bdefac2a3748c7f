"""Coach conversations: a student's sessions and the messages in them (theirs: exported and erased)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class CoachSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_sessions")
    title = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "-last_activity_at", "-id"], name="coach_session_activity")]

    def __str__(self) -> str:
        return self.title or str(self.id)


class MessageRole(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"


class CoachMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(CoachSession, on_delete=models.CASCADE, related_name="messages")
    # Denormalised owner: the daily quota and erasure read it without a join.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_messages")
    role = models.CharField(max_length=10, choices=MessageRole.choices)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    engine = models.CharField(max_length=50, blank=True, default="")
    context_sections = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["session", "created_at", "id"], name="coach_message_feed"),
            models.Index(fields=["user", "created_at"], name="coach_message_quota"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"
