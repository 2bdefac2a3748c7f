"""Helpers for tests and benchmarks: tokens without a login round-trip, an API client, query counts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import User


def issue_access_token(user: User) -> str:
    """A real allauth JWT access token bound to a real session, as login would produce."""
    from importlib import import_module

    from allauth.headless.tokens.strategies.jwt.internal import create_access_token

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return create_access_token(user, store, {})


class ApiClient:
    """JSON client for /api/v1 with an optional bearer token: ``api.get("/me").json()``."""

    prefix = "/api/v1"

    def __init__(self, user: User | None = None, token: str | None = None) -> None:
        self.client = Client()
        self.user = user
        self.token = token or (issue_access_token(user) if user is not None else None)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def _url(self, path: str) -> str:
        return path if path.startswith(("/api/", "/_allauth/", "/health", "/metrics", "/ws/")) else self.prefix + path

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(self._url(path), data=params or {}, headers=self._headers(headers))

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str] | None, files: dict[str, Any] | None) -> Any:
        fn = getattr(self.client, method)
        if files is not None:
            return fn(self._url(path), data={**(body or {}), **files}, headers=self._headers(headers))
        payload = body if isinstance(body, str | bytes) else json.dumps(body if body is not None else {}, default=str)
        return fn(self._url(path), data=payload, content_type="application/json", headers=self._headers(headers))

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, files: dict[str, Any] | None = None
    ) -> Any:
        return self._send("post", path, body, headers, files)

    def patch(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._send("patch", path, body, headers, None)

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._send("put", path, body, headers, None)

    def delete(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._send("delete", path, body, headers, None)


@contextmanager
def count_queries() -> Iterator[CaptureQueriesContext]:
    """``with count_queries() as q: ...; len(q)``; prints the SQL on failure via ``describe(q)``."""
    with CaptureQueriesContext(connection) as ctx:
        yield ctx


def describe(ctx: CaptureQueriesContext) -> str:
    return "\n".join(f"{i + 1}. {q['sql']}" for i, q in enumerate(ctx.captured_queries))
