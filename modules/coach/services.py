"""Coach operations: sessions, answering a message (quota, lock, streaming, failure), insights."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from core.db import batched_writes, db_uuid, from_db_row, insert_row, select_columns, update_row
from core.errors import Conflict, NotFound, ServiceUnavailable, Throttled, ValidationFailed
from core.models import User
from core.realtime.push import push_to_user_queued
from modules.coach import engines
from modules.coach.grounding import Grounding, build_grounding
from modules.coach.llm_port import Chunk, LLMError, LLMTimeout, Turn, Usage
from modules.coach.models import CoachMessage, CoachSession, MessageRole
from modules.coach.offline import compose, weekly_lines
from modules.coach.prompts import bounded_history, system_instruction

logger = logging.getLogger(__name__)
MAX_TEXT = 4000


# --- sessions -------------------------------------------------------------------------------------------


def do_create_session(*, user: User, title: str = "") -> CoachSession:
    return CoachSession.objects.create(user=user, title=title.strip())


def do_rename_session(*, session: CoachSession, title: str) -> CoachSession:
    session.title = title.strip()
    session.save(update_fields=["title"])
    return session


def do_delete_session(*, session: CoachSession) -> None:
    session.delete()


# --- quota and lock ----------------------------------------------------------------------------------


def _zone(user: User) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(user.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def day_bounds(user: User, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The user's current calendar day (in their own time zone) as UTC instants."""
    now = now or timezone.now()
    local = now.astimezone(_zone(user))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=_zone(user))
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _usage_key(user: User, day_start: dt.datetime) -> str:
    return f"coach:usage:{user.pk}:{int(day_start.timestamp())}"


def usage_today(user: User) -> dict[str, int]:
    """Messages asked and tokens used in the student's current day. Kept in the cache as a running
    count (added to as each message is answered, under the student's one-at-a-time lock), counted
    from the stored messages when the cache has none: the aggregate cost an eighth of a reply's CPU.
    Deleting a session therefore does not hand today's allowance back."""
    start, end = day_bounds(user)
    key = _usage_key(user, start)
    found = cache.get(key)
    if isinstance(found, dict):
        return {"messages": int(found.get("messages", 0)), "tokens": int(found.get("tokens", 0))}
    agg = CoachMessage.objects.filter(user=user, created_at__gte=start, created_at__lt=end).aggregate(
        messages=Count("id", filter=Q(role=MessageRole.USER)),
        tokens=Sum(F("tokens_in") + F("tokens_out")),
    )
    used = {"messages": agg["messages"] or 0, "tokens": agg["tokens"] or 0}
    cache.set(key, used, _seconds_left(end))
    return used


def _seconds_left(end: dt.datetime) -> int:
    return max(60, int((end - timezone.now()).total_seconds()) + 60)


def _add_usage(user: User, used: dict[str, int], *, messages: int, tokens: int) -> None:
    """Record one answered (or failed) message on top of what check_quota read."""
    start, end = day_bounds(user)
    cache.set(
        _usage_key(user, start),
        {"messages": used["messages"] + messages, "tokens": used["tokens"] + tokens},
        _seconds_left(end),
    )


def limits() -> dict[str, int]:
    return {
        "messages": int(getattr(settings, "COACH_DAILY_MESSAGES", 50)),
        "tokens": int(getattr(settings, "COACH_DAILY_TOKENS", 200_000)),
    }


def check_quota(user: User) -> dict[str, int]:
    """Today's usage, or 429 with Retry-After (the student's midnight) when it is used up."""
    used, limit = usage_today(user), limits()
    if used["messages"] >= limit["messages"] or used["tokens"] >= limit["tokens"]:
        _, end = day_bounds(user)
        retry = max(1, int((end - timezone.now()).total_seconds()) + 1)
        what = "messages" if used["messages"] >= limit["messages"] else "tokens"
        raise Throttled(
            f"You have used today's coach allowance of {limit[what]} {what}; it renews at midnight in your time zone",
            retry_after=retry,
            code="coach_quota",
        )
    return used


def _lock_key(user: User) -> str:
    return f"coach:answering:{user.pk}"


def acquire_lock(user: User) -> None:
    """One reply at a time per user. core's resilient cache answers False from add() when Redis is down;
    a lock that cannot be read back is then treated as free (fail open, logged) rather than 409 forever."""
    key = _lock_key(user)
    if cache.add(key, 1, timeout=int(engines.timeout_seconds()) + 30):
        return
    if cache.get(key) is None:
        logger.warning("coach lock for %s could not be taken (cache unavailable?); answering without it", user.pk)
        return
    raise Conflict("The coach is still answering your previous message; wait for it to finish", code="coach_busy")


def release_lock(user: User) -> None:
    cache.delete(_lock_key(user))


# --- answering ----------------------------------------------------------------------------------------


def own_session(*, user: User, session_id: uuid.UUID) -> CoachSession:
    """The caller's session, or 404 as if it did not exist. Every message starts here: one plain
    query (the ORM's form cost about a tenth of an offline reply's CPU)."""
    sql = f"SELECT {select_columns(CoachSession, 's')} FROM {CoachSession._meta.db_table} s WHERE s.id = %s AND s.user_id = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [db_uuid(session_id), db_uuid(user.pk)])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No coach session with that id, or you may not see it")
    return from_db_row(CoachSession, row)


def _history(session: CoachSession, *, before: CoachMessage) -> list[Turn]:
    limit = max(0, int(getattr(settings, "COACH_HISTORY_MESSAGES", 12)))
    with connection.cursor() as cursor:  # hand-written: read on every message
        cursor.execute(
            f"SELECT role, text FROM {CoachMessage._meta.db_table} WHERE session_id = %s AND id <> %s "
            "ORDER BY created_at DESC, id DESC LIMIT %s",
            [db_uuid(session.pk), db_uuid(before.pk), limit],
        )
        rows = cursor.fetchall()
    rows.reverse()
    return bounded_history([Turn(role=role, text=text) for role, text in rows])


def do_send_message(*, user: User, session: CoachSession, text: str) -> CoachMessage:
    """Store the student's message, stream the reply to their sockets, store the reply; 429 past the
    daily quota (no engine called), 409 while another reply is being written, 503 when the engine
    fails or times out (the student's message stays; no partial reply is stored)."""
    text = text.strip()
    if not text:
        raise ValidationFailed(
            "The message is empty", errors=[{"field": "text", "loc": ["text"], "message": "Write something", "type": "empty"}]
        )
    acquire_lock(user)
    try:
        used = check_quota(user)
        now = timezone.now()
        question = CoachMessage(session=session, user=user, role=MessageRole.USER, text=text, created_at=now)
        insert_row(question)  # nothing listens to a CoachMessage's save
        if not session.title:
            session.title = text[:60]
        tokens = 0
        try:
            reply = _answer(user=user, session=session, question=question)
            tokens = reply.tokens_in + reply.tokens_out
            return reply
        except ServiceUnavailable:  # the question stays, and so does its place in the session list
            _touch(session, now)
            raise
        finally:  # the question counts whether or not it was answered
            _add_usage(user, used, messages=1, tokens=tokens)
    finally:
        release_lock(user)


def _touch(session: CoachSession, when: dt.datetime) -> None:
    """The session's title (set from its first question) and last activity, in one UPDATE."""
    session.last_activity_at = when
    update_row(session, ["title", "last_activity_at"])  # nothing listens to a CoachSession's save


def _answer(*, user: User, session: CoachSession, question: CoachMessage) -> CoachMessage:
    grounding = build_grounding(user)
    engine = engines.get_engine(grounding)
    system = system_instruction(grounding)
    history = _history(session, before=question)
    reply_id = uuid.uuid4()
    parts: list[str] = []
    usage: Usage | None = None
    index = 0
    try:
        for chunk in engine.stream(system, history, question.text, timeout=engines.timeout_seconds()):
            if chunk.usage is not None:
                usage = chunk.usage
            if chunk.text:
                parts.append(chunk.text)
                push_to_user_queued(
                    user.pk,
                    "coach_delta",
                    {"session_id": str(session.id), "message_id": str(reply_id), "index": index, "text": chunk.text},
                )
                index += 1
    except LLMError as exc:
        timed_out = isinstance(exc, LLMTimeout)
        logger.warning("coach engine %s failed (%s): %s", engine.name, "timeout" if timed_out else exc.status, exc)
        push_to_user_queued(user.pk, "coach_error", {"session_id": str(session.id), "message_id": str(reply_id)})
        raise ServiceUnavailable(
            "The coach did not answer in time; your message is kept, try again shortly"
            if timed_out
            else "The coach engine is unavailable; your message is kept, try again shortly",
            code="coach_timeout" if timed_out else "coach_unavailable",
            retry_after=10,
        ) from exc
    full = "".join(parts).strip()
    if not full:
        push_to_user_queued(user.pk, "coach_error", {"session_id": str(session.id), "message_id": str(reply_id)})
        raise ServiceUnavailable("The coach engine sent an empty answer; try again", code="coach_unavailable", retry_after=10)
    usage = usage or Usage(0, 0)
    reply = CoachMessage(
        id=reply_id,
        session=session,
        user=user,
        role=MessageRole.ASSISTANT,
        text=full,
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        engine=engine.name,
        context_sections=grounding.sections,
    )
    # The reply and one UPDATE of the session's activity for the question and the reply, in one
    # statement (batched_writes; a sort key, so no transaction is needed around the two).
    with batched_writes():
        insert_row(reply)
        _touch(session, reply.created_at)
    push_to_user_queued(
        user.pk,
        "coach_done",
        {"session_id": str(session.id), "message_id": str(reply.id), "text": reply.text, "chunks": index},
    )
    return reply


def _collect(engine: Any, system: str, prompt: str) -> str:
    parts = [
        c.text for c in engine.stream(system, [], prompt, timeout=engines.timeout_seconds()) if isinstance(c, Chunk) and c.text
    ]
    return "".join(parts).strip()


# --- insights -------------------------------------------------------------------------------------------

NARRATIVE_PROMPT = (
    "In at most 80 words, write a short, encouraging narrative of this student's weak areas and the one thing to do first, "
    "using only the figures in STUDENT DATA."
)


def _narrative(user: User, grounding: Grounding) -> tuple[str | None, str]:
    name = engines.engine_name()
    if name == engines.OFF:
        return None, name
    if name == engines.OFFLINE:
        return compose(grounding, ""), name
    digest = hashlib.sha256(json.dumps([grounding.text, name], sort_keys=True).encode()).hexdigest()[:32]
    key = f"coach:narrative:{user.pk}:{digest}"
    cached = cache.get(key)
    if cached:
        return cached, name
    try:
        text = _collect(engines.get_engine(grounding), system_instruction(grounding), NARRATIVE_PROMPT)
    except (LLMError, ServiceUnavailable) as exc:
        logger.warning("coach narrative failed: %s", exc)
        return None, name
    if text:
        cache.set(key, text, 3600)
    return text or None, name


def insights(*, user: User) -> dict[str, Any]:
    grounding = build_grounding(user)
    narrative, engine = _narrative(user, grounding)
    out: dict[str, Any] = {**grounding.analysis, "narrative": narrative, "engine": engine, "context_sections": grounding.sections}
    if grounding.tutors is not None:
        out["tutor_suggestions"] = grounding.tutors
    return out


WEEKLY_PROMPT = (
    "Give exactly three short insights (one line each, at most 20 words, no numbering) about this student's week and "
    "weak areas, using only the figures in STUDENT DATA. Week summary: {summary}"
)


def weekly_insights(user: User, report_data: dict[str, Any]) -> list[str]:
    """Three short insights for the tracker's weekly report; [] when the coach is off, raises on failure."""
    name = engines.engine_name()
    if name == engines.OFF:
        return []
    grounding = build_grounding(user)
    if name == engines.OFFLINE:
        return weekly_lines(grounding)
    summary = json.dumps(
        {k: report_data.get(k) for k in ("total_study_hours", "planned_hours", "completion_rate", "plans", "performance_trend")},
        default=str,
    )
    text = _collect(engines.get_engine(grounding), system_instruction(grounding), WEEKLY_PROMPT.format(summary=summary))
    lines = [ln.strip().lstrip("-*•0123456789. )").strip() for ln in text.splitlines()]
    return [ln[:200] for ln in lines if ln][:3]
