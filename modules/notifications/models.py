"""Notification centre, preferences, deliveries (at most once per channel) and the e-mail log."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_tz

from core.notify import CATEGORIES

CATEGORY_CHOICES = [(c, c.replace("_", " ").title()) for c in CATEGORIES]


class Channel(models.TextChoices):
    IN_APP = "in_app", "In-app"
    EMAIL = "email", "E-mail"
    PUSH = "push", "Push"


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the composite indexes below, which all start with it.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    type = models.CharField(max_length=100)  # the template name, e.g. "notifications.booking_confirmed"
    category = models.CharField(max_length=32, choices=CATEGORY_CHOICES)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # False when the user turned in-app off for the category: the row exists only to carry deliveries.
    in_app = models.BooleanField(default=True)
    key = models.CharField(max_length=200, null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_tz.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=Q(key__isnull=False), name="notifications_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["user", "in_app", "-created_at", "-id"], name="notif_centre"),
            models.Index(fields=["user", "read_at"], name="notif_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.user_id}"


class Preference(models.Model):
    """Per user and category: which channels are on. No row means the defaults (all on)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=32, choices=CATEGORY_CHOICES)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    push = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="notifications_pref_once")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.category}"


class QuietHours(models.Model):
    """A daily window, in the user's own time zone (user.timezone), when e-mail waits and push stays silent."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    start = models.TimeField()
    end = models.TimeField()

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DEFERRED = "deferred", "Deferred (quiet hours)"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed (quiet hours)"


class Delivery(models.Model):
    """One notification on one outside channel. Unique per (notification, channel): at most once."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by notifications_delivery_once, which starts with it.
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    send_after = models.DateTimeField(null=True, blank=True)
    # What the channel sends, rendered when the notification was made.
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_tz.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notification", "channel"], name="notifications_delivery_once")]
        indexes = [models.Index(fields=["status", "send_after"], name="notif_delivery_due")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.status}"


class EmailLog(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    type = models.CharField(max_length=100)
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16)  # sent | failed
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_tz.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} to {self.recipient}: {self.status}"


class PendingMessageNotice(models.Model):
    """A message someone received (messaging.message_sent.v1). If still unread after the delay, the
    recipient gets a "new message" notification; reading or deleting it first cancels the notice."""

    message_id = models.UUIDField(primary_key=True)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    thread_id = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["notified_at", "cancelled_at", "sent_at"], name="notif_msg_due")]

    def __str__(self) -> str:
        return f"notice {self.message_id}"


class SessionReminder(models.Model):
    """An upcoming session learned from booking events, for the 24 h and 1 h reminders."""

    booking_id = models.UUIDField(primary_key=True)
    student = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    tutor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(db_index=True)
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    reminded_1h_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"reminder {self.booking_id}"
