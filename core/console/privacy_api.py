"""/api/v1/me data protection: export, account deletion, cancelling deletion."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest
from ninja import Field, Query, Schema, Status

from core.api.auth import JWTBearer, token_user
from core.api.errors import error_responses
from core.api.schemas import QuerySchema, WriteSchema
from core.console import services
from core.errors import Conflict, PermissionDenied
from core.identity.api import router
from core.models import DataExport, User
from core.permissions import current_user


class ExportOut(Schema):
    id: uuid.UUID
    status: str
    size_bytes: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    expires_at: dt.datetime | None


class DeleteMeIn(WriteSchema):
    password: str = Field("", max_length=256, description="Required for accounts with a password")
    confirm: Literal["DELETE"] = Field(description='The word "DELETE"')


class DeletionOut(Schema):
    deleted_at: dt.datetime
    erase_after: dt.datetime


class _AllowPendingDeletion(JWTBearer):
    """Accepts a token of an account inside its deletion grace period (to cancel the deletion)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        from allauth.headless.tokens.strategies.jwt.internal import validate_access_token

        user = token_user(validate_access_token(token))
        if user is None or not user.is_active:
            return None
        request.user = user
        return user


@router.post("/export", response={202: ExportOut, **error_responses(401, 429)})
def request_export(request: HttpRequest) -> Status:
    user = current_user(request)
    recent = DataExport.objects.filter(user=user, created_at__gte=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).count()
    if recent >= 3:
        from core.errors import Throttled

        raise Throttled("At most 3 exports an hour", retry_after=3600)
    return Status(202, services.request_export(user=user, request=request))


@router.get("/exports", response={200: list[ExportOut], **error_responses(401)})
def list_exports(request: HttpRequest) -> list[DataExport]:
    return list(DataExport.objects.filter(user=current_user(request))[:50])


class DownloadQuery(QuerySchema):
    token: str = Field(..., max_length=300)


@router.get("/exports/download", auth=None, response={200: None, **error_responses(404)})
def download_export(request: HttpRequest, params: Query[DownloadQuery]) -> FileResponse:
    export = services.export_from_token(params.token)
    response = FileResponse(
        default_storage.open(export.file, "rb"), as_attachment=True, filename="my-data.zip", content_type="application/zip"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.delete("", response={202: DeletionOut, **error_responses(400, 401, 403, 409, 422)})
def delete_me(request: HttpRequest, data: DeleteMeIn) -> Status:
    user = current_user(request)
    if user.has_usable_password():
        if not user.check_password(data.password):
            raise PermissionDenied("The password is not correct", code="wrong_password")
    else:  # Google-only accounts: a fresh login (within 5 minutes) stands for the password
        if not user.last_login or user.last_login < dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5):
            raise PermissionDenied("Sign in again, then delete within 5 minutes", code="reauthentication_required")
    deleted = services.soft_delete_user(actor=user, user=user, request=request, reason="self-service")
    return Status(202, DeletionOut(deleted_at=deleted.deleted_at, erase_after=deleted.deleted_at + services.grace_period()))


@router.post("/deletion/cancel", auth=_AllowPendingDeletion(), response={200: None, **error_responses(401, 409)})
def cancel_deletion(request: HttpRequest) -> dict[str, str]:
    user = current_user(request)
    if user.deleted_at is None:
        raise Conflict("The account is not scheduled for deletion", code="not_deleted")
    services.restore_user(actor=user, user=user, request=request)
    return {"status": "restored"}
