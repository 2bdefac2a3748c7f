"""/api/v1/timetable-import: upload a timetable photo or PDF, review the proposals, confirm them."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from core.api.errors import error_responses as E
from core.api.pagination import Page, PageQuery, paginate
from core.permissions import current_user, get_owned
from core.ratelimit import limited
from modules.timetable_import import services
from modules.timetable_import.models import Proposal, TimetableImport
from modules.timetable_import.schemas import (
    ConfirmIn,
    ConfirmOut,
    ImportAccepted,
    ImportOut,
    ProposalIn,
    ProposalOut,
    ProposalPatch,
)

router = Router(tags=["timetable-import"])


def _imports(user: Any) -> Any:
    return TimetableImport.objects.filter(user=user).prefetch_related(Prefetch("proposals", queryset=Proposal.objects.all()))


def _owned(request: HttpRequest, import_id: uuid.UUID) -> TimetableImport:
    user = current_user(request)
    return get_owned(_imports(user), user=user, id=import_id)


@router.post("/imports", response={202: ImportAccepted, **E(401, 404, 413, 415, 422, 429)}, throttle=limited("uploads"))
def create_import(request: HttpRequest, file: File[UploadedFile], timetable_id: Form[uuid.UUID | None] = None) -> Any:
    """Upload a JPEG, PNG, WebP, TIFF, HEIC (where readable) or PDF (at most 10 MB, 5 pages). The
    recognition runs in the background: poll GET /imports/{id} or listen for import_ready."""
    job = services.do_create_import(current_user(request), upload=file, timetable_id=timetable_id)
    return Status(202, {"id": job.id, "status": job.status})


@router.get("/imports", response={200: Page[ImportOut], **E(401, 422)})
def list_imports(request: HttpRequest, paging: Query[PageQuery]) -> Any:
    rows, meta = paginate(_imports(current_user(request)).order_by("-created_at", "-id"), paging)
    return {"items": rows, **meta}


@router.get("/imports/{import_id}", response={200: ImportOut, **E(401, 404)})
def get_import(request: HttpRequest, import_id: uuid.UUID) -> Any:
    return _owned(request, import_id)


@router.patch("/imports/{import_id}/proposals/{proposal_id}", response={200: ProposalOut, **E(401, 404, 409, 422)})
def update_proposal(request: HttpRequest, import_id: uuid.UUID, proposal_id: uuid.UUID, payload: ProposalPatch) -> Any:
    """Edit any field, or include=false to drop the class. The times are checked like a timetable class."""
    job = _owned(request, import_id)
    proposal = get_owned(Proposal.objects.all(), user=job.user, owner_fields=("job__user",), id=proposal_id, job=job)
    return services.do_update_proposal(job, proposal, payload.model_dump(exclude_unset=True))


@router.post("/imports/{import_id}/proposals", response={201: ProposalOut, **E(401, 404, 409, 422)})
def add_proposal(request: HttpRequest, import_id: uuid.UUID, payload: ProposalIn) -> Any:
    """Add a class the recognition missed."""
    job = _owned(request, import_id)
    return Status(201, services.do_add_proposal(job, payload.model_dump()))


@router.post("/imports/{import_id}/confirm", response={200: ConfirmOut, **E(401, 404, 409, 422)})
def confirm_import(request: HttpRequest, import_id: uuid.UUID, payload: ConfirmIn | None = None) -> Any:
    """Create the included proposals as tracker classes, all or nothing. A second confirm answers 409."""
    job = _owned(request, import_id)
    result = services.do_confirm(job, create_missing_courses=(payload or ConfirmIn()).create_missing_courses)
    return {"import_id": job.id, **result}


@router.post("/imports/{import_id}/retry", response={202: ImportAccepted, **E(401, 404, 409)})
def retry_import(request: HttpRequest, import_id: uuid.UUID) -> Any:
    job = services.do_retry(_owned(request, import_id))
    return Status(202, {"id": job.id, "status": job.status})


@router.delete("/imports/{import_id}", response={204: None, **E(401, 404)})
def delete_import(request: HttpRequest, import_id: uuid.UUID) -> Any:
    services.do_delete(_owned(request, import_id))
    return Status(204, None)
