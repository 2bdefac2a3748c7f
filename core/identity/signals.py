"""Security events into the audit log: logins, failed logins, password and role changes."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.http import HttpRequest

from core.audit import audit
from core.models import User


def _on_login(sender: Any, request: HttpRequest | None, user: User, **kw: Any) -> None:
    audit("auth.login_succeeded", actor=user, target=user, request=request)


def _on_logout(sender: Any, request: HttpRequest | None, user: User | None, **kw: Any) -> None:
    if user is not None:
        audit("auth.logout", actor=user, target=user, request=request)


def _on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any) -> None:
    email = str(credentials.get("email") or credentials.get("username") or "")[:254]
    target = User.objects.filter(email__iexact=email).only("id").first() if email else None
    audit(
        "auth.login_failed",
        target_type="core.user",
        target_id=str(target.pk) if target else "",
        request=request,
        details={"email": email},
    )


def _on_password_changed(sender: Any, request: HttpRequest | None, user: User, **kw: Any) -> None:
    audit("auth.password_changed", actor=user, target=user, request=request)
    from core.identity.services import revoke_other_sessions

    revoke_other_sessions(user, keep_session_key=getattr(getattr(request, "session", None), "session_key", None))


def _on_password_reset(sender: Any, request: HttpRequest | None, user: User, **kw: Any) -> None:
    audit("auth.password_reset", actor=user, target=user, request=request)
    from core.identity.services import revoke_other_sessions

    revoke_other_sessions(user, keep_session_key=None)


def _forget_cached_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    from core.api.auth import forget_cached_user

    # Now and after commit: a reader that cached the old row in between is cleared too.
    forget_cached_user(instance.pk)
    transaction.on_commit(lambda: forget_cached_user(instance.pk))


def _close_session_sockets(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A login session ended (logout, revocation, password change): its sockets close too."""
    from core.realtime.push import close_session_sockets

    key = instance.session_key
    transaction.on_commit(lambda: close_session_sockets(key))


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_forget_cached_user, sender=User, dispatch_uid="core.auth.user_cache.save")
    from django.contrib.sessions.models import Session

    post_delete.connect(_close_session_sockets, sender=Session, dispatch_uid="core.realtime.session_ended")
    post_delete.connect(_forget_cached_user, sender=User, dispatch_uid="core.auth.user_cache.delete")
    user_logged_in.connect(_on_login, dispatch_uid="core.audit.login")
    user_logged_out.connect(_on_logout, dispatch_uid="core.audit.logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="core.audit.login_failed")
    password_changed.connect(_on_password_changed, dispatch_uid="core.audit.password_changed")
    password_set.connect(_on_password_changed, dispatch_uid="core.audit.password_set")
    password_reset.connect(_on_password_reset, dispatch_uid="core.audit.password_reset")
