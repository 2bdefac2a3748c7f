"""The offline coach: no language model. Honest, templated advice from the grounding alone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from modules.coach.grounding import Grounding, _dec
from modules.coach.llm_port import Chunk, Turn, Usage, estimate_tokens

INTRO = "I am the offline coach: no language model is connected, so this advice comes straight from your tracker data."


def _when(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%a %d %b %H:%M UTC")
    except (TypeError, ValueError):
        return str(iso)


def _focus_course(grounding: Grounding, question: str) -> dict[str, Any] | None:
    """The course the question names (by code or name), else the weakest graded course."""
    q = question.lower()
    courses = grounding.facts.get("courses") or []
    for c in sorted(courses, key=lambda c: -len(c.get("name") or "")):
        name, code = (c.get("name") or "").lower(), (c.get("code") or "").lower()
        if (name and name in q) or (code and re.search(rf"\b{re.escape(code)}\b", q)):
            return c
    weakest = grounding.analysis["weakest_courses"]
    if weakest:
        return next((c for c in courses if c["course_id"] == weakest[0]["course_id"]), None)
    return None


def compose(grounding: Grounding, question: str) -> str:
    a = grounding.analysis
    if not grounding.has_data:
        return (
            f"{INTRO}\n\nI do not see any courses or results in your tracker yet, so I cannot point to a weak area. "
            "Add your courses and your first results, log your study sessions and plans, and ask me again."
        )
    parts = [INTRO]
    course = _focus_course(grounding, question)
    weakest = a["weakest_courses"][0] if a["weakest_courses"] else None
    if course is not None:
        avg = _dec(course.get("average"))
        label = f"{course.get('name')} ({course.get('code')})"
        if avg is None:
            parts.append(f"{label} has no results recorded yet, so I cannot judge your standing there.")
        else:
            line = f"In {label} your average is {avg:.1f}% ({course.get('grade')}) over {course.get('results_count')} results, and the trend is {course.get('trend')}."
            if weakest and weakest["course_id"] == course["course_id"]:
                line += " It is your weakest course."
            elif weakest:
                line += f" Your weakest course is {weakest['name']} ({weakest['code']}) at {Decimal(weakest['average']):.1f}%."
            parts.append(line)
        hours = _dec((grounding.facts.get("study_hours_last_4_weeks") or {}).get(course["course_id"])) or Decimal(0)
        under = next((u for u in a["under_studied_courses"] if u["course_id"] == course["course_id"]), None)
        hours_line = f"You logged {hours:.2f} h of study for it in the last 4 weeks"
        if under:
            hours_line += (
                f", against about {Decimal(under['expected_hours']):.2f} h that its {under['credits']} credits would suggest"
            )
        parts.append(hours_line + ".")
    if a["weak_assessment_types"]:
        t = a["weak_assessment_types"][0]
        parts.append(
            f"Across your courses, {t['assessment_type']} results are your weakest type at {Decimal(t['average']):.1f}% over {t['count']} results."
        )
    p = a["plan_completion"]
    if p["total"]:
        parts.append(
            f"In the last 4 weeks you completed {p['completed']} of {p['total']} study plans ({p['completion_rate']}%) and missed {p['missed']}."
        )
    else:
        parts.append("You have no study plans in the last 4 weeks.")
    due = grounding.facts.get("assignments_due_14_days") or []
    if due:
        nxt = due[0]
        parts.append(f'Your next deadline is "{nxt.get("title")}" for {nxt.get("course")}, due {_when(nxt.get("due_at", ""))}.')
    else:
        parts.append("No assignment is due in the next 14 days.")
    g = a["gpa"]
    if g.get("cumulative") and g.get("target"):
        parts.append(f"Your cumulative GPA is {g['cumulative']} against your target of {g['target']} (gap {g['gap']}).")
    elif g.get("cumulative"):
        parts.append(f"Your cumulative GPA is {g['cumulative']}; set a target GPA to track the gap.")

    steps = []
    if course is not None and _dec(course.get("average")) is not None:
        steps.append(
            f"Plan two focused sessions a week on {course.get('code')}, starting with the topics of your lowest results."
        )
    if a["weak_assessment_types"]:
        steps.append(
            f"Practise under {a['weak_assessment_types'][0]['assessment_type']} conditions: timed, closed-book, then check your answers."
        )
    if p["missed"]:
        steps.append("Make your plans smaller and fixed in time so fewer are missed.")
    if due:
        steps.append(f'Start "{due[0].get("title")}" now and split it into steps before the due date.')
    if steps:
        parts.append("Next steps:\n" + "\n".join(f"{i + 1}. {s}" for i, s in enumerate(steps[:3])))
    if grounding.tutors:
        t = grounding.tutors[0]
        slots = ", ".join(_when(s["starts_at"]) for s in t["next_slots"]) or "no free slot in the next 14 days"
        parts.append(
            f"If you want help with {t['subject']}, {t['name']} is an approved tutor; free times that miss your classes: {slots}."
        )
    return "\n\n".join(parts)


def weekly_lines(grounding: Grounding) -> list[str]:
    """Three short insights for the weekly report."""
    a = grounding.analysis
    lines = []
    if a["weakest_courses"]:
        w = a["weakest_courses"][0]
        lines.append(f"Weakest course: {w['name']} at {Decimal(w['average']):.1f}% ({w['trend']}).")
    if a["under_studied_courses"]:
        u = a["under_studied_courses"][0]
        lines.append(f"{u['code']} got {u['hours']} h in 4 weeks, below about {u['expected_hours']} h for its credits.")
    p = a["plan_completion"]
    if p["total"]:
        lines.append(f"Plans: {p['completed']} of {p['total']} completed, {p['missed']} missed in 4 weeks.")
    if a["deadlines_at_risk"]:
        d = a["deadlines_at_risk"][0]
        lines.append(f'At risk: "{d["title"]}" ({d["course"]}), {", ".join(d["reasons"])}.')
    if a["weak_assessment_types"]:
        t = a["weak_assessment_types"][0]
        lines.append(f"Weakest assessment type: {t['assessment_type']} at {Decimal(t['average']):.1f}%.")
    return lines[:3]


class OfflineEngine:
    name = "offline"

    def __init__(self, grounding: Grounding) -> None:
        self.grounding = grounding

    def stream(self, system: str, history: list[Turn], user_text: str, *, timeout: float) -> Iterator[Chunk]:
        text = compose(self.grounding, user_text)
        # Stream it the way a model would: a few words at a time.
        piece = ""
        for word in re.findall(r"\S+\s*", text):
            piece += word
            if len(piece) >= 32:
                yield Chunk(text=piece)
                piece = ""
        if piece:
            yield Chunk(text=piece)
        prompt = system + "".join(t.text for t in history) + user_text
        yield Chunk(usage=Usage(tokens_in=estimate_tokens(prompt), tokens_out=estimate_tokens(text)))
