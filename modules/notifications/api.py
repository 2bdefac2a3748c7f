"""Notification centre and preferences under /api/v1/notifications/."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from core.api.errors import error_responses
from core.api.pagination import CursorPage, Page, PageQuery, keyset_paginate, paginate
from core.permissions import current_user, require_admin
from core.registry import ports
from modules.notifications import services
from modules.notifications.models import EmailLog, Notification, QuietHours
from modules.notifications.schemas import (
    EmailLogOut,
    MarkedOut,
    NotificationOut,
    NotificationQuery,
    PreferencesIn,
    PreferencesOut,
    UnreadOut,
)

router = Router(tags=["notifications"])


@router.get("", response={200: CursorPage[NotificationOut], **error_responses(400, 401, 422)})
def list_notifications(request: HttpRequest, params: Query[NotificationQuery]) -> dict[str, Any]:
    """Your notifications, newest first (cursor paging); ``unread=true`` for unread only."""
    me = current_user(request)
    qs = Notification.objects.filter(user=me, in_app=True)
    if params.unread is not None:
        qs = qs.filter(read_at__isnull=params.unread)
    if params.category:
        qs = qs.filter(category=params.category)
    rows, cursor = keyset_paginate(qs, params, order=("-created_at", "-id"))
    return {"items": [services.notification_payload(n) for n in rows], "next_cursor": cursor}


@router.get("/unread-count", response={200: UnreadOut, **error_responses(401)})
def unread_count(request: HttpRequest) -> dict[str, int]:
    return {"unread_count": services.unread_count(current_user(request))}


@router.post("/read-all", response={200: MarkedOut, **error_responses(401)})
def mark_all_read(request: HttpRequest) -> dict[str, int]:
    return {"marked_read": services.do_mark_all_read(user=current_user(request))}


@router.get("/preferences", response={200: PreferencesOut, **error_responses(401)})
def get_preferences(request: HttpRequest) -> dict[str, Any]:
    """Channels per category, and quiet hours in your own time zone: during them push is silent and
    e-mail waits until they end. In-app notifications always arrive (unless in-app is off)."""
    return _preferences(current_user(request))


@router.put("/preferences", response={200: PreferencesOut, **error_responses(401, 422)})
def update_preferences(request: HttpRequest, data: PreferencesIn) -> dict[str, Any]:
    """Change some categories (fields left out keep their value) and/or quiet hours (null: off)."""
    me = current_user(request)
    services.do_update_preferences(
        user=me,
        categories=[c.model_dump() for c in data.categories] if data.categories else None,
        quiet_hours=data.quiet_hours.model_dump() if data.quiet_hours else None,
        set_quiet="quiet_hours" in data.model_fields_set,
    )
    return _preferences(me)


def _preferences(user: Any) -> dict[str, Any]:
    quiet = QuietHours.objects.filter(user=user).first()
    return {
        "timezone": user.timezone,
        "quiet_hours": {"start": quiet.start, "end": quiet.end} if quiet else None,
        "push_available": ports.has(services.PUSH_PORT),
        "categories": services.all_preferences(user),
    }


@router.get("/email-log", response={200: Page[EmailLogOut], **error_responses(401, 403, 422)})
def email_log(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    """Administrators: the e-mails sent and failed, newest first."""
    require_admin(request)
    rows, meta = paginate(EmailLog.objects.order_by("-created_at", "-id"), params)
    return {"items": rows, **meta}


@router.post("/{notification_id}/read", response={200: NotificationOut, **error_responses(401, 404, 422)})
def mark_notification_read(request: HttpRequest, notification_id: uuid.UUID) -> dict[str, Any]:
    return services.notification_payload(services.do_mark_read(user=current_user(request), notification_id=notification_id))


@router.delete("/{notification_id}", response={204: None, **error_responses(401, 404, 422)})
def delete_notification(request: HttpRequest, notification_id: uuid.UUID) -> Status:
    services.do_delete(user=current_user(request), notification_id=notification_id)
    return Status(204, None)
