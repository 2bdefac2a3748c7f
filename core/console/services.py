"""Operator and data-protection operations: soft delete, restore, erasure, exports, audit retention."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import shutil
import tempfile
import zipfile
from typing import IO, Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils import timezone

from core.audit import audit
from core.errors import Conflict, NotFound
from core.identity.services import revoke_all_access
from core.models import AuditLog, DataExport, Role, User
from core.registry import HOOKS, UserExport, hooks

logger = logging.getLogger(__name__)
GRACE_DAYS = 30
EXPORT_SPOOL_BYTES = 16 * 1024 * 1024  # an export ZIP stays in memory up to this size, then spills to disk


def grace_period() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "ACCOUNT_DELETION_GRACE_DAYS", GRACE_DAYS))


@transaction.atomic
def soft_delete_user(*, actor: User, user: User, request: HttpRequest | None = None, reason: str = "") -> User:
    """Disable an account at once (sessions, tokens and sockets revoked); erased after the grace period."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.deleted_at is not None:
        raise Conflict("The account is already scheduled for deletion", code="already_deleted")
    if locked.role == Role.ADMIN and not User.alive.filter(role=Role.ADMIN, is_active=True).exclude(pk=locked.pk).exists():
        raise Conflict("The last admin cannot be deleted", code="last_admin")
    locked.deleted_at = timezone.now()
    locked.save(update_fields=["deleted_at", "updated_at"])
    audit("user.soft_deleted", actor=actor, target=locked, request=request, details={"reason": reason[:200]})
    revoke_all_access(locked)
    return locked


@transaction.atomic
def restore_user(*, actor: User, user: User, request: HttpRequest | None = None) -> User:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.deleted_at is None:
        raise Conflict("The account is not deleted", code="not_deleted")
    if locked.deleted_at < timezone.now() - grace_period() and not locked.is_active:
        raise Conflict("The account was already erased", code="already_erased")
    locked.deleted_at = None
    locked.save(update_fields=["deleted_at", "updated_at"])
    audit("user.restored", actor=actor, target=locked, request=request)
    return locked


def erase_user(user: User) -> None:
    """Erase a user's personal data everywhere; keep an anonymous row where records must remain."""
    email = user.email
    with transaction.atomic():
        for owner, _fn in hooks.entries(HOOKS.USER_ERASE):
            logger.info("erasing %s data of user %s", owner, user.pk)
        hooks.call(HOOKS.USER_ERASE, user=user)
        for export in DataExport.objects.filter(user=user):
            if export.file:
                default_storage.delete(export.file)
        DataExport.objects.filter(user=user).delete()
        if user.avatar:
            user.avatar.storage.delete(user.avatar.name)
        from allauth.account.models import EmailAddress
        from allauth.mfa.models import Authenticator
        from allauth.socialaccount.models import SocialAccount
        from allauth.usersessions.models import UserSession

        EmailAddress.objects.filter(user=user).delete()
        SocialAccount.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        UserSession.objects.filter(user=user).delete()
        redact_audit(user.pk, email)
        user.email = f"erased-{user.pk.hex}@erased.invalid"
        user.first_name = user.last_name = ""
        user.avatar = ""
        user.is_active = False
        user.set_unusable_password()
        user.terms_version = ""
        user.save()
        audit("user.erased", target_type="core.user", target_id=str(user.pk))


def purge_deleted_users(*, now: dt.datetime | None = None) -> int:
    """Erase accounts deleted more than the grace period ago (daily schedule and admin action)."""
    cutoff = (now or timezone.now()) - grace_period()
    users = list(User.objects.filter(deleted_at__lt=cutoff).exclude(email__endswith="@erased.invalid"))
    for user in users:
        erase_user(user)
    return len(users)


def redact_audit(user_id: Any, email: str) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT core_audit_redact(%s, %s)", [str(user_id), email])
            return int(cursor.fetchone()[0])
    from django.db.models import Q

    return AuditLog.objects.filter(Q(actor_id=user_id) | Q(target_id=str(user_id)) | Q(details__email=email)).update(
        actor_email="", ip=None, user_agent="", details={}
    )


def purge_audit(*, days: int | None = None) -> int:
    keep = days if days is not None else getattr(settings, "AUDIT_RETENTION_DAYS", 365)
    cutoff = timezone.now() - dt.timedelta(days=keep)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT core_audit_purge(%s)", [cutoff])
            return int(cursor.fetchone()[0])
    deleted, _ = AuditLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- exports ----------------------------------------------------------------------------------------


def request_export(*, user: User, request: HttpRequest | None = None) -> DataExport:
    from django_q.tasks import async_task

    export = DataExport.objects.create(user=user)
    audit("user.export_requested", actor=user, target=export, request=request)
    transaction.on_commit(lambda: async_task("core.console.services.build_export", str(export.id)))
    return export


def _core_export(user: User) -> dict[str, Any]:
    return {
        "id": str(user.pk),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "timezone": user.timezone,
        "locale": user.locale,
        "currency": user.currency,
        "created_at": user.created_at.isoformat(),
        "terms_version": user.terms_version,
        "audit": [
            {"action": a.action, "at": a.created_at.isoformat(), "ip": a.ip}
            for a in AuditLog.objects.filter(actor=user).order_by("created_at")[:5000]
        ],
    }


def _safe_zip_path(name: str) -> str:
    """A relative path without traversal or odd characters (the name comes from a module or a user)."""
    parts = [p for p in re.split(r"[\\/]+", name) if p not in ("", ".", "..")]
    cleaned = [re.sub(r"[^\w.\- ()]+", "_", p).strip(" .")[:120] for p in parts]
    return "/".join(p for p in cleaned if p) or "file"


def _unique(path: str, used: set[str]) -> str:
    candidate, n = path, 1
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        stem, dot, ext = path, "", ""
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    used.add(candidate)
    return candidate


def _open_source(source: Any) -> IO[bytes] | None:
    """A readable binary file for an export file source, or None when it no longer exists."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    if isinstance(source, str):
        if not source or not default_storage.exists(source):
            return None
        return default_storage.open(source, "rb")
    if isinstance(source, FieldFile):
        if not source or not source.storage.exists(source.name):
            return None
        return source.storage.open(source.name, "rb")
    if hasattr(source, "open"):
        return source.open("rb")
    raise TypeError(f"An export file source must be a storage name, a FieldFile or bytes, not {type(source).__name__}")


def _split_export(result: Any) -> tuple[Any, list[tuple[str, Any]]]:
    """A hook's result: a plain JSON-able dict (the original contract) or UserExport(data, files)."""
    if isinstance(result, UserExport):
        return dict(result), list(result.files)
    return result, []


def build_export(export_id: str) -> str:
    """Task: gather every enabled module's export into a ZIP; notify the user with a signed link.

    The ZIP holds ``<module>.json`` per module (``core.json`` first), the files each module returns in
    ``UserExport.files`` under ``files/<module>/``, and a README.txt listing all of it.
    """
    export = DataExport.objects.select_related("user").filter(id=export_id).first()
    if export is None or export.status == DataExport.Status.READY:
        return "skipped"
    user = export.user
    buf = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)  # noqa: SIM115 - closed below
    try:
        documents: dict[str, Any] = {"core": _core_export(user)}
        files: list[tuple[str, str, Any]] = []  # (module, name, source)
        if user.avatar:
            files.append(("core", f"avatar{user.avatar.name[user.avatar.name.rfind('.') :]}", user.avatar))
        for owner, result in hooks.call(HOOKS.USER_EXPORT, user=user).items():
            data, owned = _split_export(result)
            documents[owner] = data
            files += [(owner, name, source) for name, source in owned]
        stored: list[str] = []
        missing: list[str] = []
        used: set[str] = set()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for owner, data in documents.items():
                zf.writestr(_unique(f"{_safe_zip_path(owner)}.json", used), json.dumps(data, indent=2, default=str))
            for owner, name, source in files:
                path = f"files/{_safe_zip_path(owner)}/{_safe_zip_path(name)}"
                fh = _open_source(source)
                if fh is None:
                    missing.append(path)
                    continue
                path = _unique(path, used)
                with fh, zf.open(path, "w", force_zip64=True) as out:
                    shutil.copyfileobj(fh, out, 1024 * 1024)
                stored.append(path)
            zf.writestr("README.txt", _readme(list(documents), stored, missing))
        size = buf.tell()
        buf.seek(0)
        name = default_storage.save(f"exports/{user.pk.hex}/{export.id.hex}.zip", File(buf))
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        DataExport.objects.filter(id=export.id).update(
            status=DataExport.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        raise
    finally:
        buf.close()
    now = timezone.now()
    DataExport.objects.filter(id=export.id).update(
        status=DataExport.Status.READY,
        file=name,
        size_bytes=size,
        finished_at=now,
        expires_at=now + dt.timedelta(days=7),
    )
    from core.notify import notify

    notify(user, "system", "core.export_ready", {"url": signed_export_url(export.id)}, key=f"export:{export.id}")
    return name


def _readme(modules: list[str], stored: list[str], missing: list[str]) -> str:
    lines = ["Your data export", "", "Data (one JSON file per part of the platform):"]
    lines += [f"- {m}.json: data held by the {m} part of the platform" for m in modules]
    lines += ["", "Files (under files/<part>/: files you uploaded, or that were made for you):"]
    lines += [f"- {p}" for p in stored] or ["- none"]
    if missing:
        lines += ["", "Files listed in your data but no longer in storage (not included):"]
        lines += [f"- {p}" for p in missing]
    return "\n".join(lines) + "\n"


def signed_export_url(export_id: Any) -> str:
    from django.core import signing

    token = signing.TimestampSigner(salt="core.export").sign(str(export_id))
    return f"{getattr(settings, 'PUBLIC_BASE_URL', 'http://127.0.0.1:8000')}/api/v1/me/exports/download?token={token}"


def export_from_token(token: str) -> DataExport:
    from django.core import signing

    try:
        export_id = signing.TimestampSigner(salt="core.export").unsign(token, max_age=dt.timedelta(days=7))
    except signing.BadSignature as exc:
        raise NotFound("The link is not valid or has expired") from exc
    export = DataExport.objects.filter(id=export_id, status=DataExport.Status.READY).first()
    if export is None or not export.file:
        raise NotFound("The link is not valid or has expired")
    return export
