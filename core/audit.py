"""Writing the append-only audit log."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.models import AuditLog, User
from core.observability import request_id_var


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Behind our proxy the first X-Forwarded-For hop is the client; REMOTE_ADDR otherwise.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR", "")
    return ip or None


def audit(
    action: str,
    *,
    actor: User | None = None,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Record one action. ``target`` may be a model instance (its label and pk are used)."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditLog.objects.create(
        actor=actor,
        actor_email=actor.email if actor else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request else ""),
        request_id=request_id_var.get() if request_id_var.get() != "-" else "",
        details=details or {},
    )
