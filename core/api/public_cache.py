"""Public reads served from the cache as rendered bytes, invalidated by version keys.

A module registers the GET routes whose answer is the same for every caller (``auth=None`` routes:
search, public profiles, slots) with the cache namespaces the answer depends on. The middleware keys
each answer by the route's path, its normalised query string and the current version of every
namespace; a write that bumps a namespace (``core.cache.bump_version``) makes the old keys
unreachable. A hit costs two cache round trips (the versions, then the bytes) and no database,
ninja or pydantic work; a miss runs the view as usual and stores what it rendered.

Cache hits skip the API throttle on purpose: the throttle protects the database and a hit touches
none. Only 200 answers without cookies are stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

Namespaces = Callable[[dict[str, str]], Sequence[str]]
# Headers the inner layers add that a hit must carry too; ids and counters are per request.
_SKIPPED_HEADERS = {"x-request-id", "x-db-queries", "x-cache", "content-length"}


@dataclass(frozen=True)
class PublicRead:
    pattern: re.Pattern[str]
    namespaces: Namespaces
    ttl: int


_routes: list[PublicRead] = []


def register_public_read(path_regex: str, namespaces: Namespaces, ttl: int) -> None:
    """Serve GET ``path_regex`` (anchored, matched on path_info) from the cache for ``ttl`` seconds.

    ``namespaces`` receives the regex's named groups and returns the namespaces whose version
    is part of the key; bumping any of them invalidates the cached answer.
    """
    pattern = re.compile(path_regex)
    if not any(r.pattern.pattern == pattern.pattern for r in _routes):
        _routes.append(PublicRead(pattern=pattern, namespaces=namespaces, ttl=ttl))


def registered_public_reads() -> list[PublicRead]:
    return list(_routes)


def _normalised_query(query_string: str) -> str:
    return urlencode(sorted(parse_qsl(query_string, keep_blank_values=True)))


def _match(path: str) -> tuple[PublicRead, dict[str, str]] | None:
    for route in _routes:
        found = route.pattern.match(path)
        if found is not None:
            return route, found.groupdict()
    return None


def _key(request: HttpRequest, route: PublicRead, groups: dict[str, str]) -> str:
    namespaces = list(route.namespaces(groups))
    versions = cache.get_many([f"v:{ns}" for ns in namespaces])
    stamp = ".".join(str(versions.get(f"v:{ns}") or 1) for ns in namespaces)
    raw = f"{request.path_info}?{_normalised_query(request.META.get('QUERY_STRING', ''))}"
    return f"pr:{stamp}:{hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()}"


class PublicReadCacheMiddleware:
    """Answers registered public GETs from the cache; stores the rendered 200s of misses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET" or not _routes or not getattr(settings, "PUBLIC_READ_CACHE", True):
            return self.get_response(request)
        matched = _match(request.path_info)
        if matched is None:
            return self.get_response(request)
        route, groups = matched
        key = _key(request, route, groups)
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
            cache.set(key, (response.content, headers), route.ttl)
        response["X-Cache"] = "miss"
        return response
