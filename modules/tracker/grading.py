"""Grades and GPA: pure functions over Decimals (no database), so the arithmetic is easy to test."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TWO = Decimal("0.01")
HUNDRED = Decimal(100)

#: The default scale: (minimum percentage, letter, grade points), highest first.
DEFAULT_SCALE: list[dict[str, Any]] = [
    {"min": "90", "letter": "A", "points": "4.0"},
    {"min": "80", "letter": "B", "points": "3.0"},
    {"min": "70", "letter": "C", "points": "2.0"},
    {"min": "60", "letter": "D", "points": "1.0"},
    {"min": "0", "letter": "F", "points": "0.0"},
]


@dataclass(frozen=True)
class Band:
    min: Decimal
    letter: str
    points: Decimal


def q2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


def parse_scale(raw: Sequence[dict[str, Any]] | None) -> list[Band]:
    bands = [Band(Decimal(str(b["min"])), str(b["letter"]), Decimal(str(b["points"]))) for b in (raw or DEFAULT_SCALE)]
    return sorted(bands, key=lambda b: b.min, reverse=True)


def validate_scale(raw: Sequence[dict[str, Any]]) -> list[Band]:
    """A usable scale: 1..20 bands, distinct minimums in 0..100, one band starting at 0."""
    bands = parse_scale(raw)
    if not 1 <= len(bands) <= 20:
        raise ValueError("A grading scale has between 1 and 20 bands")
    mins = [b.min for b in bands]
    if len(set(mins)) != len(mins):
        raise ValueError("Two bands share a minimum percentage")
    if any(m < 0 or m > 100 for m in mins):
        raise ValueError("Minimum percentages lie between 0 and 100")
    if bands[-1].min != 0:
        raise ValueError("The lowest band must start at 0 so every percentage has a grade")
    points = [b.points for b in bands]
    if points != sorted(points, reverse=True):
        raise ValueError("Grade points must not rise as the minimum percentage falls")
    return bands


def scale_to_json(bands: Iterable[Band]) -> list[dict[str, str]]:
    return [{"min": str(b.min), "letter": b.letter, "points": str(b.points)} for b in bands]


def band_for(percentage: Decimal, bands: Sequence[Band]) -> Band:
    for band in bands:  # highest first: 89.99 falls below an A at 90
        if percentage >= band.min:
            return band
    return bands[-1]


def percentage(score: Decimal, max_score: Decimal) -> Decimal:
    return q2(Decimal(score) / Decimal(max_score) * HUNDRED)


@dataclass(frozen=True)
class Mark:
    """What the GPA math needs of one result."""

    course_id: Any
    semester: str
    percentage: Decimal
    weight: Decimal | None


def course_average(marks: Sequence[Mark]) -> Decimal | None:
    """Weighted average percentage. When any result carries a weight, only weighted results count
    (sum(p*w)/sum(w)); when none do, the plain mean."""
    if not marks:
        return None
    weighted = [m for m in marks if m.weight is not None and m.weight > 0]
    if weighted:
        total_w = sum((m.weight for m in weighted), Decimal(0))  # type: ignore[misc]
        return sum((m.percentage * m.weight for m in weighted), Decimal(0)) / total_w  # type: ignore[operator]
    return sum((m.percentage for m in marks), Decimal(0)) / len(marks)


@dataclass
class CourseGrade:
    course_id: Any
    semester: str
    credits: int
    average: Decimal
    band: Band


def course_grades(marks: Iterable[Mark], credits: dict[Any, int], bands: Sequence[Band]) -> list[CourseGrade]:
    """One grade per (semester, course) pair."""
    groups: dict[tuple[str, Any], list[Mark]] = {}
    for m in marks:
        groups.setdefault((m.semester, m.course_id), []).append(m)
    out = []
    for (semester, course_id), group in groups.items():
        avg = course_average(group)
        if avg is None or course_id not in credits:
            continue
        out.append(CourseGrade(course_id, semester, credits[course_id], avg, band_for(q2(avg), bands)))
    return out


def weighted_gpa(grades: Iterable[CourseGrade]) -> Decimal | None:
    grades = list(grades)
    total_credits = sum(g.credits for g in grades)
    if not total_credits:
        return None
    return sum((g.band.points * g.credits for g in grades), Decimal(0)) / total_credits


def trend_of(values: Sequence[Decimal], threshold: Decimal = Decimal("0.10")) -> str:
    """improving / declining / stable from the last three values (oldest first)."""
    last = [v for v in values if v is not None][-3:]
    if len(last) < 2:
        return "stable"
    delta = last[-1] - last[0]
    if delta >= threshold:
        return "improving"
    if delta <= -threshold:
        return "declining"
    return "stable"


def needed_score(marks: Sequence[Mark], target: Decimal) -> dict[str, Any]:
    """What average percentage the remaining weight needs for the course to end at ``target`` %."""
    used = sum((m.weight for m in marks if m.weight), Decimal(0))
    earned = sum((m.percentage * m.weight for m in marks if m.weight), Decimal(0)) / HUNDRED
    remaining = HUNDRED - used
    if remaining <= 0:
        return {
            "remaining_weight": q2(max(remaining, Decimal(0))),
            "needed_percentage": None,
            "achievable": earned >= target,
            "already_secured": earned >= target,
            "earned_points": q2(earned),
        }
    needed = (target - earned) * HUNDRED / remaining
    return {
        "remaining_weight": q2(remaining),
        "needed_percentage": q2(max(needed, Decimal(0))),
        "achievable": needed <= HUNDRED,
        "already_secured": needed <= 0,
        "earned_points": q2(earned),
    }
