"""The grounding: what the coach knows about a student, read from the tracker through its port.

``build_grounding(user)`` asks the ``tracker.coach_context`` port (a fixed number of queries, whatever
the amount of data), derives the weak-area analysis and renders a compact text in named sections,
trimmed to ``COACH_CONTEXT_MAX_TOKENS``. When the marketplace offers ``marketplace.tutor_suggestions``,
approved tutors for the weakest subject are added with free slots that miss the student's classes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.models import User
from core.registry import ports
from modules.coach.llm_port import estimate_tokens

logger = logging.getLogger(__name__)

CONTEXT_PORT = "tracker.coach_context"
BUSY_PORT = "tracker.busy_times"
TUTORS_PORT = "marketplace.tutor_suggestions"
WEAK_AVERAGE = Decimal(70)  # a course average below this is a weak course
TUTOR_LIMIT = 3
SLOTS_PER_TUTOR = 3


def context_max_tokens() -> int:
    return int(getattr(settings, "COACH_CONTEXT_MAX_TOKENS", 1500))


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _fmt(value: Decimal | None, places: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{places}f}"


@dataclass
class Grounding:
    facts: dict[str, Any]
    analysis: dict[str, Any]
    tutors: list[dict[str, Any]] | None  # None: the marketplace is off (never mention tutors)
    sections: list[str] = field(default_factory=list)
    text: str = ""
    tokens: int = 0

    @property
    def has_data(self) -> bool:
        return bool(self.facts.get("courses"))


# --- analysis (deterministic) -------------------------------------------------------------------------


def analyse(facts: dict[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    courses = facts.get("courses") or []
    by_id = {c["course_id"]: c for c in courses}
    graded = [c for c in courses if _dec(c.get("average")) is not None]
    graded.sort(key=lambda c: (_dec(c["average"]), c.get("code") or ""))
    weakest = [
        {
            "course_id": c["course_id"],
            "code": c.get("code") or "",
            "name": c.get("name") or "",
            "average": str(_dec(c["average"])),
            "grade": c.get("grade"),
            "trend": c.get("trend") or "stable",
            "results_count": c.get("results_count") or 0,
        }
        for c in graded[:3]
    ]
    types = sorted(
        (t for t in facts.get("weak_assessment_types") or [] if _dec(t.get("average")) is not None),
        key=lambda t: _dec(t["average"]),
    )
    weak_types = [
        {"assessment_type": t["assessment_type"], "average": str(_dec(t["average"])), "count": t.get("count", 0)}
        for t in types[:3]
    ]

    hours_raw = facts.get("study_hours_last_4_weeks") or {}
    hours = {cid: _dec(h) or Decimal(0) for cid, h in hours_raw.items()}
    total_hours = sum((h for cid, h in hours.items() if cid in by_id), Decimal(0))
    total_credits = sum((Decimal(c.get("credits") or 0) for c in courses), Decimal(0))
    under = []
    for c in courses:
        credits = Decimal(c.get("credits") or 0)
        if not credits or not total_credits:
            continue
        spent = hours.get(c["course_id"], Decimal(0))
        expected = total_hours * credits / total_credits
        if (total_hours == 0) or spent < expected / 2:
            under.append(
                {
                    "course_id": c["course_id"],
                    "code": c.get("code") or "",
                    "name": c.get("name") or "",
                    "credits": int(credits),
                    "hours": str(spent.quantize(Decimal("0.01"))),
                    "expected_hours": str(expected.quantize(Decimal("0.01"))),
                }
            )
    under.sort(key=lambda r: (Decimal(r["hours"]) / max(Decimal(r["credits"]), Decimal(1)), r["code"]))

    plans = facts.get("plans_last_4_weeks") or {}
    plan_completion = {
        "total": int(plans.get("total") or 0),
        "completed": int(plans.get("completed") or 0),
        "missed": int(plans.get("missed") or 0),
        "completion_rate": plans.get("completion_rate"),
    }

    weak_codes = {c["code"] for c in graded if _dec(c["average"]) < WEAK_AVERAGE}
    idle_codes = {c.get("code") for c in courses if hours.get(c["course_id"], Decimal(0)) == 0}
    at_risk = []
    for a in facts.get("assignments_due_14_days") or []:
        reasons = []
        try:
            due = dt.datetime.fromisoformat(a["due_at"])
        except (KeyError, ValueError, TypeError):
            continue
        if due - now <= dt.timedelta(days=3):
            reasons.append("due within 3 days")
        if a.get("course") in weak_codes:
            reasons.append(f"course average below {WEAK_AVERAGE}%")
        if a.get("course") in idle_codes:
            reasons.append("no study logged for the course in 4 weeks")
        if reasons:
            at_risk.append({**{k: a.get(k) for k in ("id", "title", "course", "due_at", "priority")}, "reasons": reasons})

    return {
        "weakest_courses": weakest,
        "weak_assessment_types": weak_types,
        "under_studied_courses": under[:5],
        "plan_completion": plan_completion,
        "deadlines_at_risk": at_risk[:10],
        "gpa": facts.get("gpa") or {},
        "total_hours_4_weeks": str(total_hours.quantize(Decimal("0.01"))),
    }


# --- tutors (only through the marketplace's port) ------------------------------------------------------


def _overlaps(start: dt.datetime, end: dt.datetime, busy: list[tuple[dt.datetime, dt.datetime]]) -> bool:
    return any(start < b_end and end > b_start for b_start, b_end in busy)


def _as_dt(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def tutor_suggestions(user: User, subject: dict[str, Any] | None, *, now: dt.datetime) -> list[dict[str, Any]] | None:
    """Approved tutors for the subject with free slots clear of the student's classes; None when the
    marketplace is off, [] when it has nobody (or fails)."""
    if not ports.has(TUTORS_PORT):
        return None
    if subject is None:
        return []
    try:
        busy = list(ports.get(BUSY_PORT)(user, now, now + dt.timedelta(days=14))) if ports.has(BUSY_PORT) else []
        rows = None
        for name in (subject.get("name"), subject.get("code")):
            if name:
                rows = ports.get(TUTORS_PORT)(name, busy, TUTOR_LIMIT)
                if rows:
                    break
    except Exception:  # the marketplace failing must never break the coach
        logger.exception("tutor suggestions failed")
        return []
    out = []
    for row in rows or []:
        slots = []
        for s in row.get("next_slots") or []:
            start, end = _as_dt(s.get("starts_at")), _as_dt(s.get("ends_at"))
            # Belt and braces: never offer a slot that clashes with a class, whatever the port did.
            if start is None or end is None or start < now or _overlaps(start, end, busy):
                continue
            slots.append({"starts_at": start.astimezone(dt.UTC).isoformat(), "ends_at": end.astimezone(dt.UTC).isoformat()})
        out.append(
            {
                "tutor_id": str(row.get("id")),
                "name": row.get("name") or "",
                "headline": (row.get("headline") or "")[:120],
                "hourly_rate_minor": row.get("hourly_rate_minor"),
                "currency": row.get("currency"),
                "average_rating": row.get("average_rating"),
                "subject": subject.get("name") or subject.get("code"),
                "next_slots": slots[:SLOTS_PER_TUTOR],
            }
        )
    return out[:TUTOR_LIMIT]


# --- rendering, within the token cap ---------------------------------------------------------------


def _sections(
    facts: dict[str, Any], analysis: dict[str, Any], tutors: list[dict[str, Any]] | None
) -> list[tuple[str, str, list[str]]]:
    courses = facts.get("courses") or []
    code_of = {c["course_id"]: c.get("code") or c.get("name") for c in courses}
    out: list[tuple[str, str, list[str]]] = []
    g = facts.get("gpa") or {}
    out.append(
        (
            "gpa",
            "GPA",
            [
                f"current {g.get('current') or 'n/a'}, cumulative {g.get('cumulative') or 'n/a'}, trend {g.get('trend') or 'n/a'}, "
                f"target {g.get('target') or 'not set'}, gap to target {g.get('gap') or 'n/a'}"
            ],
        )
    )

    def course_key(c: dict[str, Any]) -> tuple[int, Decimal, str]:
        avg = _dec(c.get("average"))
        return (0 if avg is not None else 1, avg if avg is not None else Decimal(0), c.get("code") or "")

    rows = []
    for c in sorted(courses, key=course_key):
        avg = _dec(c.get("average"))
        figure = f"average {_fmt(avg)}% ({c.get('grade')}), trend {c.get('trend')}" if avg is not None else "no results yet"
        rows.append(
            f"{c.get('code')} {c.get('name')} ({c.get('credits')} credits): {figure}, {c.get('results_count', 0)} results"
        )
    out.append(("courses", "Courses (weakest first)", rows))
    out.append(
        (
            "weak_assessment_types",
            "Assessment types below the overall average",
            [
                f"{t['assessment_type']}: average {_fmt(_dec(t['average']))}% over {t['count']} results"
                for t in analysis["weak_assessment_types"]
            ]
            or ["none"],
        )
    )
    hours = facts.get("study_hours_last_4_weeks") or {}
    hour_rows = [
        f"{code_of.get(cid) or 'no course'}: {_fmt(_dec(h), 2)} h"
        for cid, h in sorted(hours.items(), key=lambda kv: -(_dec(kv[1]) or 0))
        if cid is None or cid in code_of
    ]
    studied = {cid for cid in hours}
    hour_rows += [f"{c.get('code')}: 0.00 h" for c in courses if c["course_id"] not in studied]
    out.append(("study_hours", f"Study hours by course, last 4 weeks (total {analysis['total_hours_4_weeks']} h)", hour_rows))
    if analysis["under_studied_courses"]:
        out.append(
            (
                "under_studied",
                "Under-studied for their credits (last 4 weeks)",
                [
                    f"{u['code']}: {u['hours']} h against about {u['expected_hours']} h for {u['credits']} credits"
                    for u in analysis["under_studied_courses"]
                ],
            )
        )
    p = analysis["plan_completion"]
    out.append(
        (
            "plans",
            "Study plans, last 4 weeks",
            [f"{p['completed']} of {p['total']} completed ({p['completion_rate'] or 'n/a'}%), {p['missed']} missed"],
        )
    )
    due = facts.get("assignments_due_14_days") or []
    out.append(
        (
            "deadlines",
            "Assignments due in the next 14 days",
            [
                f"{a.get('due_at', '')[:16].replace('T', ' ')} UTC {a.get('course')}: {a.get('title')} (priority {a.get('priority')})"
                for a in due
            ]
            or ["none"],
        )
    )
    if tutors:
        out.append(
            (
                "tutors",
                "Approved tutors for the weakest subject (free slots clear of the student's classes, UTC)",
                [
                    f"{t['name']} ({t['subject']}): next free "
                    + (", ".join(s["starts_at"][:16].replace("T", " ") for s in t["next_slots"]) or "no free slot in 14 days")
                    for t in tutors
                ],
            )
        )
    return out


def _render(sections: list[tuple[str, str, list[str]]], hidden: dict[str, int]) -> str:
    parts = []
    for name, title, rows in sections:
        lines = [f"## {title}"] + [f"- {r}" for r in rows]
        if hidden.get(name):
            lines.append(f"- (+{hidden[name]} more not shown)")
        parts.append("\n".join(lines))
    return "\n".join(parts)


def render(
    facts: dict[str, Any], analysis: dict[str, Any], tutors: list[dict[str, Any]] | None, *, max_tokens: int
) -> tuple[list[str], str]:
    sections = [(n, t, list(r)) for n, t, r in _sections(facts, analysis, tutors)]
    hidden: dict[str, int] = {}
    text = _render(sections, hidden)
    # Trim the longest list first, one row at a time, until the summary fits its cap.
    while estimate_tokens(text) > max_tokens:
        name, _, rows = max(sections, key=lambda s: len(s[2]))
        if len(rows) <= 1:
            break
        rows.pop()
        hidden[name] = hidden.get(name, 0) + 1
        text = _render(sections, hidden)
    if estimate_tokens(text) > max_tokens:
        text = text[: max(0, max_tokens * 4 - 20)] + "\n(truncated)"
    return [n for n, _, _ in sections], text


def build_grounding(user: User, *, now: dt.datetime | None = None) -> Grounding:
    now = now or timezone.now()
    facts: dict[str, Any] = ports.get(CONTEXT_PORT)(user) if ports.has(CONTEXT_PORT) else {}
    analysis = analyse(facts, now=now)
    weakest = analysis["weakest_courses"][0] if analysis["weakest_courses"] else None
    tutors = tutor_suggestions(user, weakest, now=now)
    sections, text = render(facts, analysis, tutors, max_tokens=context_max_tokens())
    return Grounding(facts=facts, analysis=analysis, tutors=tutors, sections=sections, text=text, tokens=estimate_tokens(text))
