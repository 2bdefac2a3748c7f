"""Abuse limits: fixed-window counters in the shared cache (Redis in production), failing safe.

Where a limit lives: every counter is a key in the default cache (``rl:<scope>:<ident>:<window>``), so
it is shared by every worker process and survives a restart of any of them. On Redis a hit is one
pipelined INCR + EXPIRE NX round trip.

What "fail safe" means when the shared cache is unreachable (Redis down, a timeout): the counter moves
to memory in the process for that window (``stats.fallbacks`` counts it, a warning is logged at most
every 10 s, and the shared cache is not tried again for ``RETRY_SHARED_AFTER`` seconds). So:

- no request fails because of the limiter (no 500, no blanket 429: authentication stays available);
- every limit still holds per process (a client gets at most ``limit x processes`` per window instead
  of ``limit``), which still defeats brute force: the code-guessing cap is not in the cache at all but
  in the flow's session state (3 attempts per code), and the database keeps the session;
- when Redis returns, the shared counters are used again (a window may then start afresh: fail-open
  by at most one window's budget, never closed).

The same fallback backs allauth's own limits (login per IP and per account, signup, password reset):
``install_allauth_fallback`` points allauth's limiter at ``FallbackCache``, because allauth takes a
cache lock with ``cache.add`` and, with Redis down, would otherwise wait a second and answer 429 to
every login. ``AuthRateLimitMiddleware`` adds a per-IP cap on the code endpoints and turns allauth's
bare 429 into an RFC 9457 problem with Retry-After.

Use on ninja operations: ``@router.post("/messages", ..., throttle=limited("messages"))`` (LIMITS names
the setting; the operation keeps the API-wide throttle; rates such as "30/m" are read on each request).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from ninja.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RETRY_SHARED_AFTER = 2.0  # seconds without trying the shared cache after it failed


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/m"``, ``"20/10m"``, ``"100/h"`` -> (limit, period in seconds)."""
    count, _, period = rate.partition("/")
    period = period.strip()
    digits = period.rstrip("smhd")
    return int(count), (int(digits) if digits else 1) * PERIODS[period[len(digits)]]


class LimiterStats:
    """Counters a test, benchmark or /metrics can read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.shared = 0  # hits counted in the shared cache
        self.fallbacks = 0  # hits counted in process memory because the shared cache failed
        self.refused = 0  # requests answered 429

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)


stats = LimiterStats()
_local_lock = threading.Lock()
_local: dict[str, tuple[float, int]] = {}  # key -> (expires at, count)
_state = {"down_until": 0.0, "last_warning": 0.0}


def reset_local_state() -> None:
    """Forget everything held in this process (as a restart would); shared counters are untouched."""
    with _local_lock:
        _local.clear()
    _state["down_until"] = 0.0


def _shared_incr(*counters: tuple[str, int]) -> list[int]:
    """INCR each (key, ttl) in the shared cache; on Redis all of them in one pipelined round trip."""
    cache = caches["default"]  # the backend itself (django.core.cache.cache is a proxy)
    if isinstance(cache, RedisCache):
        full_keys = [cache.make_and_validate_key(key) for key, _ in counters]
        client = cache._cache.get_client(full_keys[0], write=True)  # django's RedisCache: one server for writes
        pipe = client.pipeline(transaction=False)
        for full_key, (_, ttl) in zip(full_keys, counters, strict=True):
            pipe.incr(full_key)
            pipe.expire(full_key, ttl, nx=True)
        return [int(v) for v in pipe.execute()[::2]]
    values = []
    for key, ttl in counters:
        try:
            values.append(int(cache.incr(key)))
        except ValueError:
            values.append(1 if cache.add(key, 1, ttl) else int(cache.incr(key)))
    return values


def _local_incr(key: str, ttl: int) -> int:
    now = time.monotonic()
    with _local_lock:
        if len(_local) > 50_000:  # bounded: drop expired windows
            for k in [k for k, (exp, _) in _local.items() if exp <= now]:
                del _local[k]
        expires, count = _local.get(key, (now + ttl, 0))
        if expires <= now:
            expires, count = now + ttl, 0
        _local[key] = (expires, count + 1)
        return count + 1


def _note_failure(exc: Exception) -> None:
    now = time.monotonic()
    _state["down_until"] = now + RETRY_SHARED_AFTER
    if now - _state["last_warning"] > 10:
        _state["last_warning"] = now
        logger.warning("rate-limit cache unavailable; limits held per process: %r", exc)


def count(full_key: str, ttl: int) -> int:
    """Increment a window's counter (shared cache, else process memory) and return it."""
    return count_many((full_key, ttl))[0]


def count_many(*counters: tuple[str, int]) -> list[int]:
    """Increment several windows' counters (key, ttl) at once, in one round trip to the shared cache
    (else in process memory), and return them in order."""
    if time.monotonic() >= _state["down_until"]:
        try:
            values = _shared_incr(*counters)
            stats.add(shared=len(counters))
            return values
        except Exception as exc:  # noqa: BLE001 - any cache failure: fall back, never raise
            _note_failure(exc)
    stats.add(fallbacks=len(counters))
    return [_local_incr(key, ttl) for key, ttl in counters]


def window_key(key: str, period: int, now: float) -> tuple[str, int]:
    """The counter (key, ttl) of ``key``'s fixed window of ``period`` seconds at ``now``."""
    return f"rl:{key}:{int(now // period)}", period + 1


def hit(key: str, period: int) -> int:
    """Count one hit on ``key`` in the current fixed window of ``period`` seconds; returns the count."""
    return count(*window_key(key, period, time.time()))


def check(scope: str, ident: str, rate: str) -> float | None:
    """Count a hit; None when allowed, else the seconds until the window ends (Retry-After)."""
    limit, period = parse_rate(rate)
    if hit(f"{scope}:{ident}", period) <= limit:
        return None
    stats.add(refused=1)
    now = time.time()
    return (int(now // period) + 1) * period - now


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies in front saw.

    X-Forwarded-For is only believed as far as our own proxies wrote it; a client cannot pick its
    bucket by sending the header itself.
    """
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    xff = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and xff:
        addrs = [a.strip() for a in xff.split(",") if a.strip()]
        if addrs:
            return addrs[-min(proxies, len(addrs))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# Named limits an operation can take: scope -> the setting holding its rate (per user; per IP when anonymous).
LIMITS: dict[str, str] = {
    "messages": "RATE_LIMIT_MESSAGES",
    "coach": "RATE_LIMIT_COACH",
    "uploads": "RATE_LIMIT_UPLOADS",
}


class OperationThrottle(BaseThrottle):
    """The API-wide throttle and an operation's named limits, counted in one cache round trip.

    As separate ninja throttles each cost a round trip of its own (a message send paid two). The
    counters are the same keys the separate throttles use: the API-wide one (scope "api") is shared
    with every other operation, each named limit with the other operations naming it. Every counter
    is incremented on each request, as ninja's loop over separate throttles did; a request is
    refused when any is over its rate, and waits for the latest of their windows.
    """

    def __init__(self, *scopes: str) -> None:
        from core.api.throttling import FixedWindowThrottle

        self.api = FixedWindowThrottle(anon_setting="API_THROTTLE_ANON", user_setting="API_THROTTLE_USER")
        self.scopes = [(scope, LIMITS[scope]) for scope in scopes]
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        now = time.time()
        user_pk = getattr(getattr(request, "auth", None), "pk", None)
        ident = f"u{user_pk}" if user_pk is not None else f"ip{client_ip(request)}"
        limits = [self.api.window(user_pk is not None, ident, now)]  # (key, ttl, limit, period)
        for scope, setting in self.scopes:
            if rate := getattr(settings, setting, ""):
                limit, period = parse_rate(rate)
                limits.append((*window_key(f"{scope}:{ident}", period, now), limit, period))
        counts = count_many(*[(key, ttl) for key, ttl, _, _ in limits])
        waits = [
            (int(now // period) + 1) * period - now for (_, _, limit, period), n in zip(limits, counts, strict=True) if n > limit
        ]
        if waits:
            stats.add(refused=1)
        self._local.wait = max(waits, default=None)
        return not waits

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


def limited(*scopes: str) -> list[BaseThrottle]:
    """The throttle of one operation: the API-wide throttle plus each named limit (a key of LIMITS).

    ninja replaces the API's throttle with an operation's, so the API-wide one is included again
    (its counters are keyed by scope "api", shared with the instance in core.api.site).
    """
    return [OperationThrottle(*scopes)]


# --- allauth -------------------------------------------------------------------------------------


class FallbackCache:
    """The default cache for allauth's limiter, with a process-local cache while it is unreachable.

    ResilientRedisCache turns failures into misses (add -> False), which allauth's lock reads as
    "held by someone else": it would wait and then refuse every login. This calls the plain
    RedisCache operations, so a failure is seen, and serves from memory instead.
    """

    def __init__(self) -> None:
        self.local = LocMemCache("allauth-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 50_000}})

    def _call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        cache: BaseCache = caches["default"]
        if time.monotonic() >= _state["down_until"]:
            try:
                if isinstance(cache, RedisCache):
                    return getattr(RedisCache, op)(cache, *args, **kwargs)
                return getattr(cache, op)(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - Redis unreachable: hold the limit in memory
                _note_failure(exc)
        stats.add(fallbacks=1)
        return getattr(self.local, op)(*args, **kwargs)

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", key, default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self._call("set", key, value, timeout)

    def add(self, key: str, value: Any, timeout: float | None = None) -> bool:
        return bool(self._call("add", key, value, timeout))

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", key))


def install_allauth_fallback() -> None:
    from allauth.core.internal import ratelimit as allauth_ratelimit

    if not isinstance(allauth_ratelimit.cache, FallbackCache):
        allauth_ratelimit.cache = FallbackCache()  # type: ignore[assignment]


# allauth headless paths (app client) -> the ACCOUNT_RATE_LIMITS action whose window a 429 waits for.
_AUTH_ACTIONS = {
    "/auth/login": ("login", "login_failed"),
    "/auth/signup": ("signup",),
    "/auth/password/request": ("reset_password",),
    "/auth/password/reset": ("reset_password_from_key",),
    "/auth/email/verify/resend": ("confirm_email",),
    "/auth/reauthenticate": ("reauthenticate",),
    "/account/password/change": ("change_password",),
    "/account/email": ("manage_email",),
}
# Endpoints that take a code (e-mail, password reset, login code, TOTP): capped per IP by us as well.
CODE_PATHS = ("/auth/email/verify", "/auth/password/reset", "/auth/code/confirm", "/auth/2fa/authenticate")


def _auth_suffix(path: str) -> str | None:
    for prefix in ("/_allauth/app/v1", "/_allauth/browser/v1"):
        if path.startswith(prefix):
            return path[len(prefix) :].rstrip("/")
    return None


def _allauth_retry_after(suffix: str) -> int:
    from allauth.core.internal.ratelimit import parse_rates

    configured: dict[str, str] = getattr(settings, "ACCOUNT_RATE_LIMITS", {}) or {}
    durations = [int(rate.duration) for action in _AUTH_ACTIONS.get(suffix, ()) for rate in parse_rates(configured.get(action))]
    return max(durations, default=60)


class AuthRateLimitMiddleware:
    """Limits and problem bodies for allauth's headless endpoints (/_allauth/...).

    - POSTs to a code endpoint count against RATE_LIMIT_AUTH_CODES per IP (on top of allauth's cap of
      attempts per code), answered 429 before allauth runs;
    - any 429 allauth gives becomes ``application/problem+json`` with Retry-After (the window of the
      action's longest rate, an upper bound); so does its 400 too_many_login_attempts (an account
      locked by login_failed per key), which is a limit, not bad input.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        install_allauth_fallback()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        suffix = _auth_suffix(request.path)
        if suffix is None:
            return self.get_response(request)
        if request.method == "POST" and suffix in CODE_PATHS:
            rate = getattr(settings, "RATE_LIMIT_AUTH_CODES", "")
            wait = check("auth.codes", f"ip{client_ip(request)}", rate) if rate else None
            if wait is not None:
                return self._problem(request, int(wait) + 1)
        response = self.get_response(request)
        if response.status_code == 429 and not response.get("Content-Type", "").startswith("application/problem"):
            stats.add(refused=1)
            return self._problem(request, _allauth_retry_after(suffix))
        if response.status_code == 400 and suffix == "/auth/login" and b"too_many_login_attempts" in response.content:
            # allauth refuses a locked account (login_failed per key) with a form error; it is a limit.
            stats.add(refused=1)
            return self._problem(request, _allauth_retry_after(suffix), code="too_many_login_attempts")
        return response

    @staticmethod
    def _problem(request: HttpRequest, retry_after: int, code: str = "throttled") -> HttpResponse:
        from core.api.errors import problem_response

        return problem_response(
            request,
            429,
            "Too many attempts; try again later",
            code=code,
            headers={"Retry-After": str(max(1, retry_after))},
        )
