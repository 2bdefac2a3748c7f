"""Match recognised course names to the student's tracker courses: code first, then a fuzzy name match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rapidfuzz import fuzz, process, utils


def norm_code(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


@dataclass(frozen=True)
class Match:
    course_id: Any | None
    score: float  # 0..1; 0 when unmatched


def match_course(name: str, code: str, courses: list[dict[str, Any]]) -> Match:
    """``courses``: [{id, name, code}] from the tracker port."""
    if not courses:
        return Match(None, 0.0)
    wanted = {norm_code(code), norm_code(name)} - {""}
    for course in courses:
        if norm_code(course.get("code") or "") in wanted:
            return Match(course["id"], 1.0)
    cutoff = float(getattr(settings, "OCR_MATCH_MIN_SCORE", 85))
    choices = {i: c.get("name") or "" for i, c in enumerate(courses)}
    best = process.extractOne(name, choices, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=cutoff)
    if best is None:
        return Match(None, 0.0)
    _, score, index = best
    return Match(courses[index]["id"], round(score / 100.0, 3))
