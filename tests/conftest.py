"""Shared fixtures. Every module's tests may use these; module-specific fixtures live beside them."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from core.events import capture_events
from core.identity.bootstrap import ensure_user
from core.models import Role, User
from core.testing import ApiClient

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-9"

postgres_only = pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL (set DATABASE_URL)")


def room_in_rate_window(period: int = 60, need: float = 10.0) -> float:
    """Wait, if need be, until the current fixed rate-limit window has ``need`` seconds left.

    core.ratelimit counts in windows aligned to the clock (``time() // period``): a test whose hits
    straddle a boundary sees the count restart mid-sequence (CI once sent the fourth of 4 messages
    on a 3/m limit at hh:mm:59.9 and got 201). Tests that count hits against a limit call this (or use
    the ``rate_window`` fixture) right before their counted requests. Returns the seconds waited.
    """
    left = period - time.time() % period
    if left >= need:
        return 0.0
    time.sleep(left + 0.05)
    return left + 0.05


@pytest.fixture
def rate_window() -> None:
    """A one-minute rate window with at least 10 s left (see ``room_in_rate_window``)."""
    room_in_rate_window()


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    """``make_user(role="tutor", timezone="Europe/London")``: a verified user with PASSWORD."""

    def factory(role: str = Role.STUDENT, *, email: str | None = None, **extra: Any) -> User:
        n = next(_counter)
        email = email or f"{role}{n}@example.test"
        user, _ = ensure_user(
            email,
            PASSWORD,
            role=role,
            first_name=extra.pop("first_name", role.title()),
            last_name=extra.pop("last_name", f"N{n}"),
            timezone=extra.pop("timezone", "UTC"),
        )
        for key, value in extra.items():
            setattr(user, key, value)
        if extra:
            user.save()
        return user

    return factory


@pytest.fixture
def student(make_user: Callable[..., User]) -> User:
    return make_user(Role.STUDENT)


@pytest.fixture
def tutor(make_user: Callable[..., User]) -> User:
    return make_user(Role.TUTOR)


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def client_for() -> Callable[[User | None], ApiClient]:
    """``client_for(user).get("/me")``: an API client holding a real access token for the user."""
    return lambda user: ApiClient(user)


@pytest.fixture
def anon() -> ApiClient:
    return ApiClient()


@pytest.fixture
def events() -> Iterator[list[Any]]:
    with capture_events() as captured:
        yield captured


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """channels' database_sync_to_async threads keep their own connections; on PostgreSQL they
    would block dropping the test database at the end, so end them first."""
    yield
    if not settings.IS_POSTGRES:
        return
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
