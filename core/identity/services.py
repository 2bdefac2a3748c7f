"""Identity operations: profile changes, avatars, roles, session revocation."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest

from core.audit import audit
from core.errors import Conflict, ValidationFailed
from core.files import store_validated_image, validate_upload
from core.models import Role, User

PROFILE_FIELDS = ("first_name", "last_name", "timezone", "locale", "currency")


def update_profile(*, user: User, changes: dict[str, Any], request: HttpRequest | None = None) -> User:
    changes = dict(changes)
    terms = changes.pop("terms_version", None)
    if terms is not None:
        accept_terms(user=user, version=terms, request=request)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(f"These fields cannot be changed here: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean(exclude={"password", "avatar"}, validate_unique=False)
    user.save(update_fields=[*changes, "updated_at"])
    if changes:
        audit("user.profile_updated", actor=user, target=user, request=request, details={"fields": sorted(changes)})
    return user


def accept_terms(*, user: User, version: str, request: HttpRequest | None = None) -> User:
    """Record that the user accepts a terms version now (consent is kept with its time and audited)."""
    from django.utils import timezone

    old = user.terms_version
    user.terms_version = version
    user.terms_accepted_at = timezone.now()
    user.save(update_fields=["terms_version", "terms_accepted_at", "updated_at"])
    audit("user.terms_accepted", actor=user, target=user, request=request, details={"old": old, "new": version})
    return user


def set_avatar(*, user: User, upload: UploadedFile, request: HttpRequest | None = None) -> User:
    from django.conf import settings

    checked = validate_upload(upload, allowed=("image",), max_bytes=settings.AVATAR_MAX_BYTES)
    old_name = user.avatar.name if user.avatar else ""
    name = store_validated_image(checked, folder=f"avatars/{user.pk.hex}", max_side=512)
    user.avatar.name = name
    user.save(update_fields=["avatar", "updated_at"])
    if old_name:
        user.avatar.storage.delete(old_name)
    audit("user.avatar_changed", actor=user, target=user, request=request)
    return user


def delete_avatar(*, user: User, request: HttpRequest | None = None) -> User:
    if user.avatar:
        user.avatar.storage.delete(user.avatar.name)
        user.avatar = ""
        user.save(update_fields=["avatar", "updated_at"])
        audit("user.avatar_deleted", actor=user, target=user, request=request)
    return user


def revoke_other_sessions(user: User, *, keep_session_key: str | None) -> int:
    """End every allauth session (and so every JWT bound to it) except the one named."""
    from allauth.usersessions.models import UserSession

    ended = 0
    for session in UserSession.objects.filter(user=user):
        if keep_session_key and session.session_key == keep_session_key:
            continue
        session.end()
        ended += 1
    return ended


def revoke_all_access(user: User) -> None:
    """Log the user out everywhere and close their sockets (deactivation, deletion, role change)."""
    from core.realtime.push import close_user_sockets

    revoke_other_sessions(user, keep_session_key=None)
    transaction.on_commit(lambda: close_user_sockets(user.pk))


def change_role(*, actor: User, user: User, role: str, request: HttpRequest | None = None) -> User:
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.role == Role.ADMIN and role != Role.ADMIN:
            admins = User.objects.select_for_update().filter(role=Role.ADMIN, is_active=True, deleted_at__isnull=True)
            if admins.count() <= 1:
                raise Conflict("The last admin cannot be demoted", code="last_admin")
        old = locked.role
        locked.role = role
        locked.is_staff = role == Role.ADMIN
        locked.save(update_fields=["role", "is_staff", "updated_at"])
        audit("user.role_changed", actor=actor, target=locked, request=request, details={"old": old, "new": role})
        revoke_all_access(locked)
    return locked


def set_active(*, actor: User, user: User, active: bool, request: HttpRequest | None = None) -> User:
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        old = locked.is_active
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        audit("user.active_changed", actor=actor, target=locked, request=request, details={"old": old, "new": active})
        if not active:
            revoke_all_access(locked)
    return locked
