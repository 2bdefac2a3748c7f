"""/api/v1/coach: sessions, messages (streamed to the student's sockets), insights, grounding."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from core.api.errors import error_responses as E
from core.api.pagination import CursorPage, CursorQuery, Page, PageQuery, keyset_paginate, paginate
from core.permissions import current_user
from core.ratelimit import limited
from modules.coach import engines, services
from modules.coach.grounding import build_grounding, context_max_tokens
from modules.coach.models import CoachMessage, CoachSession
from modules.coach.schemas import (
    ContextOut,
    InsightsOut,
    MessageIn,
    MessageOut,
    SessionIn,
    SessionOut,
    SessionRenameIn,
    UsageOut,
)

router = Router(tags=["coach"])


def _session(request: HttpRequest, session_id: uuid.UUID) -> CoachSession:
    return services.own_session(user=current_user(request), session_id=session_id)


@router.post("/sessions", response={201: SessionOut, **E(401, 422)})
def create_session(request: HttpRequest, payload: SessionIn) -> Any:
    return Status(201, services.do_create_session(user=current_user(request), title=payload.title))


@router.get("/sessions", response={200: Page[SessionOut], **E(401, 422)})
def list_sessions(request: HttpRequest, paging: Query[PageQuery]) -> Any:
    """The caller's sessions, most recent activity first."""
    qs = CoachSession.objects.filter(user=current_user(request)).order_by("-last_activity_at", "-id")
    rows, meta = paginate(qs, paging)
    return {"items": rows, **meta}


@router.get("/sessions/{session_id}", response={200: SessionOut, **E(401, 404)})
def get_session(request: HttpRequest, session_id: uuid.UUID) -> Any:
    return _session(request, session_id)


@router.patch("/sessions/{session_id}", response={200: SessionOut, **E(401, 404, 422)})
def rename_session(request: HttpRequest, session_id: uuid.UUID, payload: SessionRenameIn) -> Any:
    return services.do_rename_session(session=_session(request, session_id), title=payload.title)


@router.delete("/sessions/{session_id}", response={204: None, **E(401, 404)})
def delete_session(request: HttpRequest, session_id: uuid.UUID) -> Any:
    services.do_delete_session(session=_session(request, session_id))
    return Status(204, None)


@router.get("/sessions/{session_id}/messages", response={200: CursorPage[MessageOut], **E(400, 401, 404, 422)})
def list_messages(request: HttpRequest, session_id: uuid.UUID, paging: Query[CursorQuery]) -> Any:
    """The conversation, oldest first (keyset cursor)."""
    session = _session(request, session_id)
    rows, cursor = keyset_paginate(CoachMessage.objects.filter(session=session), paging, order=("created_at", "id"))
    return {"items": rows, "next_cursor": cursor}


@router.post(
    "/sessions/{session_id}/messages",
    response={200: MessageOut, **E(401, 404, 409, 422, 429, 503)},
    throttle=limited("coach"),
)
def send_message(request: HttpRequest, session_id: uuid.UUID, payload: MessageIn) -> Any:
    """Ask the coach. The reply streams to the caller's sockets (coach_delta ..., coach_done) and is
    answered here once complete. 429 past the daily quota, 409 while a reply is being written, 503
    when the engine fails or times out (the question is kept)."""
    session = _session(request, session_id)
    return services.do_send_message(user=current_user(request), session=session, text=payload.text)


@router.get("/insights", response={200: InsightsOut, **E(401)}, exclude_none=True)
def get_insights(request: HttpRequest) -> Any:
    """Weak-area analysis from the tracker's data, plus a short narrative from the engine when it answers."""
    return services.insights(user=current_user(request))


@router.get("/context", response={200: ContextOut, **E(401)})
def get_context(request: HttpRequest) -> Any:
    """What the coach is told about the caller (the grounding sent as system context)."""
    g = build_grounding(current_user(request))
    return {"sections": g.sections, "text": g.text, "tokens": g.tokens, "max_tokens": context_max_tokens()}


@router.get("/usage", response={200: UsageOut, **E(401)})
def get_usage(request: HttpRequest) -> Any:
    """Today's use of the daily allowance (the day is the caller's own, in their time zone)."""
    user = current_user(request)
    used, limit = services.usage_today(user), services.limits()
    return {
        "messages_today": used["messages"],
        "tokens_today": used["tokens"],
        "daily_messages": limit["messages"],
        "daily_tokens": limit["tokens"],
        "engine": engines.engine_name(),
    }
