"""/api/v1/admin: the operator console (admin role only). Figures and checks come from module hooks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from core.api.errors import error_responses
from core.api.pagination import CursorPage, CursorQuery, Page, PageQuery, keyset_paginate, paginate
from core.api.schemas import QuerySchema, WriteSchema
from core.audit import audit
from core.console import services
from core.identity import services as identity
from core.models import AuditLog, Role, User
from core.permissions import require_admin
from core.registry import HOOKS, hooks

router = Router(tags=["admin"])
ADMIN_ERRORS = error_responses(401, 403, 404, 409, 422)


class AdminUserOut(Schema):
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    role: str
    is_active: bool
    deleted_at: dt.datetime | None
    created_at: dt.datetime
    last_login: dt.datetime | None


class UserFilters(QuerySchema):
    role: Role | None = None
    active: bool | None = None
    deleted: bool | None = None
    joined_from: dt.date | None = None
    joined_to: dt.date | None = None
    q: str | None = Field(None, max_length=100)


class AdminUserPatch(WriteSchema):
    role: Role | None = None
    is_active: bool | None = None


@router.get("/users", response={200: Page[AdminUserOut], **ADMIN_ERRORS})
def admin_list_users(request: HttpRequest, filters: Query[UserFilters], paging: Query[PageQuery]) -> dict[str, Any]:
    require_admin(request)
    qs = User.objects.order_by("-created_at", "-id")
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    if filters.deleted is not None:
        qs = qs.filter(deleted_at__isnull=not filters.deleted)
    if filters.joined_from:
        qs = qs.filter(created_at__date__gte=filters.joined_from)
    if filters.joined_to:
        qs = qs.filter(created_at__date__lte=filters.joined_to)
    if filters.q:
        qs = qs.filter(Q(email__icontains=filters.q) | Q(first_name__icontains=filters.q) | Q(last_name__icontains=filters.q))
    rows, meta = paginate(qs, paging)
    return {"items": rows, **meta}


class PurgeOut(Schema):
    erased: int


@router.post("/users/purge", response={200: PurgeOut, **ADMIN_ERRORS})
def admin_purge_users(request: HttpRequest) -> PurgeOut:
    actor = require_admin(request)
    erased = services.purge_deleted_users()
    audit("user.purge_run", actor=actor, request=request, details={"erased": erased})
    return PurgeOut(erased=erased)


@router.get("/users/{user_id}", response={200: AdminUserOut, **ADMIN_ERRORS})
def admin_get_user(request: HttpRequest, user_id: uuid.UUID) -> User:
    require_admin(request)
    return User.objects.get(pk=user_id)


@router.patch("/users/{user_id}", response={200: AdminUserOut, **ADMIN_ERRORS})
def admin_update_user(request: HttpRequest, user_id: uuid.UUID, data: AdminUserPatch) -> User:
    actor = require_admin(request)
    user = User.objects.get(pk=user_id)
    if data.role is not None and data.role != user.role:
        user = identity.change_role(actor=actor, user=user, role=data.role, request=request)
    if data.is_active is not None and data.is_active != user.is_active:
        if (
            not data.is_active
            and user.role == Role.ADMIN
            and not User.alive.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()
        ):
            from core.errors import Conflict

            raise Conflict("The last admin cannot be deactivated", code="last_admin")
        user = identity.set_active(actor=actor, user=user, active=data.is_active, request=request)
    return user


@router.delete("/users/{user_id}", response={200: AdminUserOut, **ADMIN_ERRORS})
def admin_delete_user(request: HttpRequest, user_id: uuid.UUID) -> User:
    actor = require_admin(request)
    return services.soft_delete_user(actor=actor, user=User.objects.get(pk=user_id), request=request, reason="admin")


@router.post("/users/{user_id}/restore", response={200: AdminUserOut, **ADMIN_ERRORS})
def admin_restore_user(request: HttpRequest, user_id: uuid.UUID) -> User:
    actor = require_admin(request)
    return services.restore_user(actor=actor, user=User.objects.get(pk=user_id), request=request)


# --- modules, dashboard, integrity ---------------------------------------------------------------


class ScheduleOut(Schema):
    name: str
    func: str
    cron: str
    last_run: dt.datetime | None = None
    next_run: dt.datetime | None = None
    last_error: str | None = None


class ModuleOut(Schema):
    label: str
    enabled: bool
    version: str | None
    requires: list[str]
    routes: list[str]
    schedules: list[ScheduleOut]


@router.get("/modules", response={200: list[ModuleOut], **ADMIN_ERRORS})
def admin_list_modules(request: HttpRequest) -> list[dict[str, Any]]:
    require_admin(request)
    from django_q.models import Failure, Schedule, Success

    from core.management.commands.modules import module_report
    from core.schedules import MANAGED_PREFIX

    rows = module_report()
    names = [MANAGED_PREFIX + s["name"] for r in rows for s in r["schedules"]]
    q_rows = {s.name: s for s in Schedule.objects.filter(name__in=names)}
    funcs = [s["func"] for r in rows for s in r["schedules"]]
    last_ok = (
        {t.func: t.stopped for t in Success.objects.filter(func__in=funcs).order_by("func", "-stopped").distinct()}
        if funcs
        else {}
    )
    last_fail = {
        t.func: (t.stopped, str(t.result)[:300]) for t in Failure.objects.filter(func__in=funcs).order_by("-stopped")[:200]
    }
    for row in rows:
        for sched in row["schedules"]:
            q = q_rows.get(MANAGED_PREFIX + sched["name"])
            sched["next_run"] = q.next_run if q else None
            fail = last_fail.get(sched["func"])
            ok = last_ok.get(sched["func"])
            sched["last_run"] = max([t for t in (ok, fail[0] if fail else None) if t], default=None)
            sched["last_error"] = fail[1] if fail and (ok is None or fail[0] > ok) else None
    return rows


@router.get("/dashboard", response={200: dict[str, Any], **ADMIN_ERRORS})
def admin_dashboard(request: HttpRequest, months: int = Query(6, ge=1, le=24)) -> dict[str, Any]:
    """Totals and series from every enabled module's admin-figures hook; cached for a minute."""
    require_admin(request)
    key = f"admin:dashboard:{months}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=31 * months)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    growth = (
        User.alive.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    by_role = dict(User.alive.values_list("role").annotate(n=Count("id")).values_list("role", "n"))
    data: dict[str, Any] = {
        "core": {
            "users_by_role": {r: by_role.get(r, 0) for r in Role.values},
            "user_growth": [{"month": g["month"].date().isoformat()[:7], "new_users": g["n"]} for g in growth],
            "recent_activity": [
                {"action": a.action, "actor": a.actor_email, "target_type": a.target_type, "at": a.created_at.isoformat()}
                for a in AuditLog.objects.order_by("-created_at")[:10]
            ],
        }
    }
    data.update(hooks.call(HOOKS.ADMIN_FIGURES, months=months))
    cache.set(key, data, 60)
    return data


class Finding(Schema):
    module: str
    check: str
    detail: str
    repaired: bool = False


@router.get("/integrity", response={200: list[Finding], **ADMIN_ERRORS})
def admin_integrity(request: HttpRequest) -> list[dict[str, Any]]:
    require_admin(request)
    return [{"module": owner, **f} for owner, found in hooks.call(HOOKS.INTEGRITY_CHECKS, repair=False).items() for f in found]


@router.post("/integrity/repair", response={200: list[Finding], **ADMIN_ERRORS})
def admin_integrity_repair(request: HttpRequest) -> list[dict[str, Any]]:
    actor = require_admin(request)
    findings = [{"module": owner, **f} for owner, found in hooks.call(HOOKS.INTEGRITY_CHECKS, repair=True).items() for f in found]
    for f in findings:
        if f.get("repaired"):
            audit("integrity.repaired", actor=actor, request=request, details=f)
    return findings


# --- audit -------------------------------------------------------------------------------------------


class AuditOut(Schema):
    id: int
    actor_id: uuid.UUID | None
    actor_email: str
    action: str
    target_type: str
    target_id: str
    ip: str | None
    user_agent: str
    details: dict[str, Any]
    created_at: dt.datetime


class AuditFilters(QuerySchema):
    actor: uuid.UUID | None = None
    action: str | None = Field(None, max_length=64)
    target_type: str | None = Field(None, max_length=64)
    target_id: str | None = Field(None, max_length=64)
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _audit_qs(f: AuditFilters) -> Any:
    qs = AuditLog.objects.all()
    if f.actor:
        qs = qs.filter(actor_id=f.actor)
    for field in ("action", "target_type", "target_id"):
        if getattr(f, field):
            qs = qs.filter(**{field: getattr(f, field)})
    if f.since:
        qs = qs.filter(created_at__gte=f.since)
    if f.until:
        qs = qs.filter(created_at__lt=f.until)
    return qs


@router.get("/audit", response={200: CursorPage[AuditOut], **ADMIN_ERRORS})
def admin_list_audit(request: HttpRequest, filters: Query[AuditFilters], paging: Query[CursorQuery]) -> dict[str, Any]:
    require_admin(request)
    rows, cursor = keyset_paginate(_audit_qs(filters), paging, order=("-created_at", "-id"))
    return {"items": rows, "next_cursor": cursor}


@router.get("/audit/export", response={200: None, **ADMIN_ERRORS})
def admin_export_audit(request: HttpRequest, filters: Query[AuditFilters]) -> HttpResponse:
    require_admin(request)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "created_at", "actor_id", "actor_email", "action", "target_type", "target_id", "ip", "details"])
    for a in _audit_qs(filters).order_by("created_at", "id").iterator(chunk_size=2000):
        writer.writerow(
            [
                a.id,
                a.created_at.isoformat(),
                a.actor_id or "",
                a.actor_email,
                a.action,
                a.target_type,
                a.target_id,
                a.ip or "",
                a.details,
            ]
        )
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response
