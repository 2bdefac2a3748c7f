"""The system instruction and the bounded history sent to an engine."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from modules.coach.grounding import Grounding
from modules.coach.llm_port import Turn, estimate_tokens

SYSTEM = """You are the study coach of a learning platform, talking with one student.
Rules:
- Only discuss study matters: courses, grades, assessments, study habits, planning, deadlines, exam preparation, and wellbeing as it affects study. Politely decline anything else in one sentence.
- Ground every claim in the STUDENT DATA below. Quote figures exactly as given. Never invent grades, hours, dates, courses, deadlines or people; if a figure is not in the data, say you do not have it.
- {people_rule}
- Be concise and concrete: at most about 200 words, ending with two or three next steps.

STUDENT DATA (from the student's tracker, {now} UTC):
{context}
"""

PEOPLE_WITH_TUTORS = (
    "You may suggest the approved tutors listed under 'Approved tutors' with their listed free slots, and no one else."
)
PEOPLE_WITHOUT_TUTORS = "Do not recommend any specific person, paid service or outside help by name."


def system_instruction(grounding: Grounding) -> str:
    rule = PEOPLE_WITH_TUTORS if grounding.tutors else PEOPLE_WITHOUT_TUTORS
    return SYSTEM.format(people_rule=rule, now=timezone.now().strftime("%Y-%m-%d %H:%M"), context=grounding.text)


def bounded_history(turns: list[Turn]) -> list[Turn]:
    """The newest turns (oldest first) within COACH_HISTORY_MESSAGES and COACH_HISTORY_MAX_TOKENS."""
    max_messages = int(getattr(settings, "COACH_HISTORY_MESSAGES", 12))
    max_tokens = int(getattr(settings, "COACH_HISTORY_MAX_TOKENS", 2000))
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns[-max_messages:] if max_messages > 0 else []):
        text = turn.text[:4000]
        cost = estimate_tokens(text)
        if used + cost > max_tokens:
            break
        kept.append(Turn(role=turn.role, text=text))
        used += cost
    kept.reverse()
    # Start with the student's turn: some engines refuse a history opening with the model.
    while kept and kept[0].role != "user":
        kept.pop(0)
    return kept
