"""Notifications fixtures: fake events from other modules (by type string, no import), a fake push
sender standing in for the optional web-push plugin, and a real SMTP server on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from core import events as core_events
from core import notify as core_notify
from core.events import publish
from core.registry import is_enabled, ports

if not is_enabled("notifications"):  # switched off (ENABLED_MODULES): nothing here to test
    collect_ignore_glob = ["test_*.py"]

PUSH_PORT = "notifications.push"


@pytest.fixture(autouse=True)
def only_notifications_handlers() -> Iterator[None]:
    """As if the publishing modules were switched off: for the event types handled here, only this
    module's handlers listen, and the publishers' own templates are out of the registry. So these
    tests behave the same whichever other modules are enabled."""
    from modules.notifications.handlers import _VERSION, HANDLERS

    saved_subs = {t: list(core_events._subscribers.get(t, [])) for t in HANDLERS}
    saved_templates = dict(core_notify._templates)
    for event_type in HANDLERS:
        core_events._subscribers[event_type] = [
            h for h in saved_subs[event_type] if h.__module__.startswith("modules.notifications")
        ]
        core_notify._templates.pop(_VERSION.sub("", event_type), None)
    yield
    for event_type, subs in saved_subs.items():
        core_events._subscribers[event_type] = subs
    core_notify._templates.clear()
    core_notify._templates.update(saved_templates)


def fake_event(event_type: str, **fields: Any) -> Any:
    """A frozen dataclass like the publishing module's event, without importing that module."""
    cls = dataclasses.make_dataclass(
        "FakeEvent", [(name, Any) for name in fields], frozen=True, namespace={"event_type": event_type}
    )
    return cls(**fields)


@pytest.fixture
def emit(django_capture_on_commit_callbacks):
    """``emit("marketplace.booking_confirmed.v1", booking_id=...)``: publish and run the commit hooks."""

    def go(event_type: str, **fields: Any) -> Any:
        evt = fake_event(event_type, **fields)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            publish(evt)
        return evt

    return go


@pytest.fixture
def booking_fields(student, tutor):
    def make(**extra: Any) -> dict[str, Any]:
        return {
            "booking_id": uuid.uuid4(),
            "student_id": student.pk,
            "tutor_user_id": tutor.pk,
            "starts_at": dt.datetime(2030, 3, 4, 15, 0, tzinfo=dt.UTC),
            **extra,
        }

    return make


class FakePush:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, user, *, title, body, data) -> None:
        self.sent.append({"user": user.pk, "title": title, "body": body, "data": data})


@pytest.fixture
def push() -> Iterator[FakePush]:
    fake = FakePush()
    ports.register(PUSH_PORT, fake)
    yield fake
    ports.unregister(PUSH_PORT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
