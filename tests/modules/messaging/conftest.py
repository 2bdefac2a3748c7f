"""Messaging fixtures: a fake granting module for the contact policy (no marketplace import)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.registry import HOOKS, hooks, is_enabled

if not is_enabled("messaging"):  # switched off (ENABLED_MODULES): nothing here to test
    collect_ignore_glob = ["test_*.py"]


class FakeBookings:
    """Stands in for a module that grants contact to a student and tutor who share a booking."""

    def __init__(self) -> None:
        self.pairs: set[frozenset] = set()
        self.calls = 0  # how often messaging asked

    def book(self, student, tutor) -> None:
        self.pairs.add(frozenset((student.pk, tutor.pk)))

    def __call__(self, sender, recipient) -> str | None:
        self.calls += 1
        return "you share a booking" if frozenset((sender.pk, recipient.pk)) in self.pairs else None


@pytest.fixture
def bookings() -> Iterator[FakeBookings]:
    fake = FakeBookings()
    saved = hooks.entries(HOOKS.CONTACT_POLICY)
    # Only our fake grants contact in these tests, whatever other modules are switched on.
    for owner, _ in saved:
        hooks._hooks[HOOKS.CONTACT_POLICY] = [(o, f) for (o, f) in hooks._hooks[HOOKS.CONTACT_POLICY] if o != owner]
    hooks.register(HOOKS.CONTACT_POLICY, "test_granting", fake)
    yield fake
    hooks._hooks[HOOKS.CONTACT_POLICY] = list(saved)


@pytest.fixture
def pair(student, tutor, bookings):
    """A student and a tutor who share a booking (so they may message each other)."""
    bookings.book(student, tutor)
    return student, tutor
