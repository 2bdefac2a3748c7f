"""Payments fixtures: a fake "booking" payable registered from the test, marketplace-shaped events.

The marketplace is not imported: its events are rebuilt here as small frozen dataclasses carrying the
same type strings and fields, which is all a subscriber by type string sees.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from core.errors import NotFound
from core.events import publish
from core.registry import ports

BOOKING_PORT = "payments.payable.booking"


@dataclass
class FakeBookings:
    """Bookings the fake payable port knows: id -> (student, tutor, amount, currency)."""

    rows: dict[uuid.UUID, tuple[Any, Any, int, str]] = field(default_factory=dict)

    def add(self, student: Any, tutor: Any, amount_minor: int = 10000, currency: str = "USD") -> uuid.UUID:
        booking_id = uuid.uuid4()
        self.rows[booking_id] = (student, tutor, amount_minor, currency)
        return booking_id

    def describe(self, object_id: uuid.UUID, payer: Any) -> dict[str, Any]:
        row = self.rows.get(object_id)
        if row is None or row[0].pk != payer.pk:
            raise NotFound("No such booking")
        student, tutor, amount, currency = row
        return {
            "amount_minor": amount,
            "currency": currency,
            "payee_user_id": tutor.pk if tutor else None,
            "description": "Session",
        }


@pytest.fixture
def bookings() -> Iterator[FakeBookings]:
    fake = FakeBookings()
    previous = ports._impls.get(BOOKING_PORT)
    ports.register(BOOKING_PORT, fake.describe)
    yield fake
    if previous is None:
        ports.unregister(BOOKING_PORT)
    else:
        ports.register(BOOKING_PORT, previous)


@dataclass(frozen=True)
class BookingCompleted:
    event_type: ClassVar[str] = "marketplace.booking_completed.v1"
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    amount_minor: int
    currency: str
    package_purchase_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BookingCancelled:
    event_type: ClassVar[str] = "marketplace.booking_cancelled.v1"
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    cancelled_by_id: uuid.UUID | None
    starts_at: dt.datetime
    amount_minor: int
    currency: str
    refund_eligible: bool
    was_confirmed: bool
    package_purchase_id: uuid.UUID | None = None
    reason: str = ""


@dataclass(frozen=True)
class BookingNoShow:
    event_type: ClassVar[str] = "marketplace.booking_no_show.v1"
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    who: str
    starts_at: dt.datetime
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class BookingDeclined:
    event_type: ClassVar[str] = "marketplace.booking_declined.v1"
    booking_id: uuid.UUID
    student_id: uuid.UUID
    tutor_user_id: uuid.UUID
    starts_at: dt.datetime
    reason: str = ""


@pytest.fixture
def booking_events(bookings: FakeBookings, django_capture_on_commit_callbacks: Any) -> Callable[..., None]:
    """``booking_events("completed", booking_id)``: publish a marketplace-shaped event and deliver it."""

    def send(what: str, booking_id: uuid.UUID, **extra: Any) -> None:
        student, tutor, amount, currency = bookings.rows[booking_id]
        now = dt.datetime.now(dt.UTC)
        common = {"booking_id": booking_id, "student_id": student.pk, "tutor_user_id": tutor.pk}
        if what == "completed":
            evt: Any = BookingCompleted(**common, starts_at=now, ends_at=now, amount_minor=amount, currency=currency)
        elif what == "cancelled":
            evt = BookingCancelled(
                **common,
                cancelled_by_id=student.pk,
                starts_at=now,
                amount_minor=amount,
                currency=currency,
                refund_eligible=extra.get("refund_eligible", True),
                was_confirmed=True,
            )
        elif what == "declined":
            evt = BookingDeclined(**common, starts_at=now, reason="busy")
        else:
            evt = BookingNoShow(**common, who=extra["who"], starts_at=now, amount_minor=amount, currency=currency)
        with django_capture_on_commit_callbacks(execute=True):
            publish(evt)

    return send


@pytest.fixture
def pay(client_for: Callable[..., Any], django_capture_on_commit_callbacks: Any) -> Callable[..., dict[str, Any]]:
    """``pay(student, "booking", booking_id)``: checkout through the API; returns the JSON body."""

    def do(user: Any, kind: str, object_id: uuid.UUID) -> dict[str, Any]:
        with django_capture_on_commit_callbacks(execute=True):
            res = client_for(user).post("/payments/checkout", {"kind": kind, "object_id": str(object_id)})
        assert res.status_code == 201, res.content
        return res.json()

    return do


def wallet(client: Any, currency: str = "USD") -> dict[str, int]:
    res = client.get("/payments/wallet")
    assert res.status_code == 200, res.content
    for row in res.json()["balances"]:
        if row["currency"] == currency:
            return {"pending": row["pending_minor"], "available": row["available_minor"], "held": row["held_minor"]}
    return {"pending": 0, "available": 0, "held": 0}
