"""The port every coach engine implements, and small helpers the engine plugins share.

An engine streams one reply: ``stream(system, history, user_text, timeout=...)`` yields ``Chunk``s,
text deltas first and one final chunk carrying the usage (``tokens_in``/``tokens_out``). It raises
``LLMTimeout`` when the deadline passes and ``LLMError`` for any other failure (after its own retries
on 429/5xx inside the deadline). Plugins import this module and their vendor SDK, nothing else.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["user", "assistant"]
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Turn:
    role: Role
    text: str


@dataclass(frozen=True)
class Usage:
    tokens_in: int
    tokens_out: int


@dataclass(frozen=True)
class Chunk:
    """A text delta, or (text "" and usage set) the final usage report."""

    text: str = ""
    usage: Usage | None = None


class LLMError(Exception):
    """The engine could not answer (refused, unreachable, malformed answer, retries exhausted)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LLMTimeout(LLMError):
    """The engine did not finish within the timeout."""


class Engine(Protocol):
    name: str

    def stream(self, system: str, history: list[Turn], user_text: str, *, timeout: float) -> Iterator[Chunk]: ...


def estimate_tokens(text: str) -> int:
    """A cheap, conservative token estimate (about four characters a token) for engines without counts."""
    return (len(text) + 3) // 4


class Deadline:
    """A wall-clock budget shared by every attempt of one call."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def check(self) -> None:
        if self.remaining() <= 0:
            raise LLMTimeout(f"No complete answer within {self.seconds:g} s")


def backoff(attempt: int, deadline: Deadline, *, base: float = 0.25, cap: float = 4.0, retry_after: float | None = None) -> None:
    """Sleep before retry ``attempt`` (1, 2, ...): exponential with jitter, or the server's Retry-After,
    never past the deadline (raises LLMTimeout when no time is left for another attempt)."""
    delay = retry_after if retry_after is not None else min(cap, base * (2 ** (attempt - 1))) * (0.5 + random.random() / 2)
    if delay >= deadline.remaining():
        raise LLMTimeout(f"No complete answer within {deadline.seconds:g} s (retries exhausted the time)")
    time.sleep(max(0.0, delay))


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
