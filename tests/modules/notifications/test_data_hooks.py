"""GDPR export and erasure, and admin figures, through core's hooks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.notify import notify
from core.registry import HOOKS, hooks
from modules.notifications.models import EmailLog, Notification

pytestmark = pytest.mark.django_db


def test_export_erase_and_figures(student, client_for, django_capture_on_commit_callbacks):
    later = timezone.now() + dt.timedelta(hours=3)  # quiet hours that do not hold the e-mail back now
    window = {"start": f"{later:%H}:00", "end": f"{(later + dt.timedelta(hours=1)):%H}:00"}
    client_for(student).put("/notifications/preferences", {"quiet_hours": window})
    with django_capture_on_commit_callbacks(execute=True):
        notify(student, "payments", "notifications.payment_received", {"amount": "1.00 USD"}, key="p1")
    exported = hooks.call(HOOKS.USER_EXPORT, user=student)["notifications"]
    assert [n["title"] for n in exported["notifications"]] == ["Payment received: 1.00 USD"]
    assert str(exported["quiet_hours"]["start"]) == window["start"] + ":00"
    assert EmailLog.objects.filter(recipient=student.email, status="sent").count() == 1
    figures = hooks.call(HOOKS.ADMIN_FIGURES, months=6)["notifications"]
    assert figures["notifications_24h"] == 1

    hooks.call(HOOKS.USER_ERASE, user=student)
    assert not Notification.objects.filter(user=student).exists()
    assert not EmailLog.objects.filter(recipient=student.email).exists()
    assert client_for(student).get("/notifications/preferences").json()["quiet_hours"] is None
