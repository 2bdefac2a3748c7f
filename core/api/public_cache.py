"""Public and per-user reads served from the cache as rendered bytes, invalidated by version keys.

A module registers the GET routes whose answer is the same for every caller (``auth=None`` routes:
search, public profiles, slots) with the cache namespaces the answer depends on. The middleware keys
each answer by the route's path, its normalised query string and the current version of every
namespace; a write that bumps a namespace (``core.cache.bump_version``) makes the old keys
unreachable. A hit costs two cache round trips (the versions, then the bytes) and no database,
ninja or pydantic work; a miss runs the view as usual and stores what it rendered.

Per-user reads (a caller's own bookings, say) work the same way with the caller in the key: the
middleware authenticates the bearer token itself (the same check as core.api.auth, which then reuses
the result) and the module names per-user namespaces that its writes bump.

Every successful API write bumps the writer's ``writes:<user id>`` namespace, so per-user reads that
only the user's own actions change (their tracker dashboard, say) need no other invalidation; what
other people or schedules change is bumped by the module that changes it.

Cache hits skip the API throttle on purpose: the throttle protects the database and a hit touches
none. Only 200 answers without cookies are stored.
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from core.cache import deferred_bumps, user_writes_namespace

Namespaces = Callable[[dict[str, str]], Sequence[str]]
# Receives the caller's id (the token's subject) and the path's named groups.
UserNamespaces = Callable[[uuid.UUID, dict[str, str]], Sequence[str]]
# Headers the inner layers add that a hit must carry too; ids and counters are per request.
_SKIPPED_HEADERS = {"x-request-id", "x-db-queries", "x-cache", "content-length"}


def spread_ttl(ttl: int) -> int:
    """``ttl`` shortened by up to a quarter at random. Entries stored in one burst (a cold start, a
    deploy, a bulk bump, a benchmark's warm-up) would otherwise all expire in the same second, and
    their misses would queue behind each other: the bench's per-user bookings list (30 s TTL, 200
    users) showed p95 around 200 ms at 64 connections against a p50 of 55 ms."""
    return max(1, ttl - int(random.random() * ttl / 4))


@dataclass(frozen=True)
class PublicRead:
    pattern: re.Pattern[str]
    namespaces: Namespaces
    ttl: int


@dataclass(frozen=True)
class PrivateRead:
    pattern: re.Pattern[str]
    namespaces: UserNamespaces
    ttl: int


_routes: list[PublicRead] = []
_private: list[PrivateRead] = []


def register_public_read(path_regex: str, namespaces: Namespaces, ttl: int) -> None:
    """Serve GET ``path_regex`` (anchored, matched on path_info) from the cache for ``ttl`` seconds.

    ``namespaces`` receives the regex's named groups and returns the namespaces whose version
    is part of the key; bumping any of them invalidates the cached answer.
    """
    pattern = re.compile(path_regex)
    if not any(r.pattern.pattern == pattern.pattern for r in _routes):
        _routes.append(PublicRead(pattern=pattern, namespaces=namespaces, ttl=ttl))


def register_private_read(path_regex: str, namespaces: UserNamespaces, ttl: int) -> None:
    """Serve GET ``path_regex`` to each authenticated caller from the cache, keyed by the caller.

    ``namespaces(user_id, groups)`` names the namespaces (usually the caller's own) that writes bump.
    Keep ``ttl`` short where the answer also moves with the clock (upcoming, refund cut-offs).
    """
    pattern = re.compile(path_regex)
    if not any(r.pattern.pattern == pattern.pattern for r in _private):
        _private.append(PrivateRead(pattern=pattern, namespaces=namespaces, ttl=ttl))


def registered_public_reads() -> list[PublicRead]:
    return list(_routes)


def _normalised_query(query_string: str) -> str:
    return urlencode(sorted(parse_qsl(query_string, keep_blank_values=True)))


def _match(routes: Sequence[Any], path: str) -> tuple[Any, dict[str, str]] | None:
    for route in routes:
        found = route.pattern.match(path)
        if found is not None:
            return route, found.groupdict()
    return None


def _version_keys(namespaces: Sequence[str]) -> list[str]:
    return [f"v:{ns}" for ns in namespaces]


def _key(request: HttpRequest, prefix: str, namespaces: Sequence[str], versions: dict[str, Any] | None = None) -> str:
    """The answer's key under the namespaces' current versions (read here unless given)."""
    if versions is None:
        versions = cache.get_many(_version_keys(namespaces))
    stamp = ".".join(str(versions.get(f"v:{ns}") or 0) for ns in namespaces)  # a first bump makes 1
    raw = f"{request.path_info}?{_normalised_query(request.META.get('QUERY_STRING', ''))}"
    return f"{prefix}:{stamp}:{hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()}"


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class PublicReadCacheMiddleware:
    """Answers registered public GETs from the cache; stores the rendered 200s of misses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            from core.api.auth import request_user_rows

            # Every namespace the write changed, in one round trip at the end; user rows read once.
            with deferred_bumps() as pending, request_user_rows():
                response = self.get_response(request)
                user_id = getattr(request, "_api_user_id", None)  # set by JWTBearer
                if user_id is not None and response.status_code < 400:
                    pending.add(user_writes_namespace(user_id))  # bumped after the view's commit
            return response
        if request.method != "GET" or not getattr(settings, "PUBLIC_READ_CACHE", True):
            return self.get_response(request)
        matched = _match(_routes, request.path_info)
        if matched is not None:
            route, groups = matched
            return self._serve(request, _key(request, "pr", route.namespaces(groups)), route.ttl)
        matched = _match(_private, request.path_info)
        if matched is None:
            return self.get_response(request)
        token = _bearer_token(request)
        if not token:
            return self.get_response(request)  # the view answers 401
        from core.api.auth import authenticate_token

        route, groups = matched
        namespaces: list[str] = []

        def version_keys(user_id: uuid.UUID) -> list[str]:
            namespaces.extend(route.namespaces(user_id, groups))
            return _version_keys(namespaces)

        # The namespaces' versions come in the session's round trip, keyed by the token's subject:
        # a hit costs two cache round trips (session and versions, then the answer), not three.
        user, versions = authenticate_token(token, version_keys)
        request._bearer_auth = (token, user)  # type: ignore[attr-defined] - JWTBearer reuses it
        if user is None:
            return self.get_response(request)
        return self._serve(request, _key(request, f"pv:{user.pk}", namespaces, versions), route.ttl)

    def _serve(self, request: HttpRequest, key: str, ttl: int) -> HttpResponse:
        stored = cache.get(key)
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            response["X-Cache"] = "hit"
            return response
        response = self.get_response(request)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            headers = [(k, v) for k, v in response.items() if k.lower() not in _SKIPPED_HEADERS]
            cache.set(key, (response.content, headers), spread_ttl(ttl))
        response["X-Cache"] = "miss"
        return response
