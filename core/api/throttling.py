"""A fixed-window API throttle: one cache round trip per request.

ninja's SimpleRateThrottle keeps a list of timestamps per client (a GET and a SET of a growing list
on every request, for each throttle), and Django's RedisCache.incr costs two round trips (EXISTS,
then INCR). Here one throttle serves both anonymous clients (per IP) and users (per user), and on
Redis the counter is one pipelined INCR + EXPIRE NX. Sensitive endpoints (login, signup, codes) have
allauth's own limits on top. A cache outage fails open: the API keeps answering.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache as memoize

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

logger = logging.getLogger(__name__)
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@memoize
def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


def _count(key: str, ttl: int) -> int:
    """Increment the window's counter and return it; 0 when the cache is unavailable."""
    cache = caches["default"]  # the backend itself (django.core.cache.cache is a proxy)
    try:
        if isinstance(cache, RedisCache):
            full_key = cache.make_and_validate_key(key)
            client = cache._cache.get_client(full_key, write=True)
            pipe = client.pipeline(transaction=False)
            pipe.incr(full_key)
            pipe.expire(full_key, ttl, nx=True)
            return int(pipe.execute()[0])
        try:
            return cache.incr(key)
        except ValueError:
            return 1 if cache.add(key, 1, ttl) else cache.incr(key)
    except Exception as exc:  # noqa: BLE001 - a throttle must never turn a cache outage into errors
        logger.warning("throttle counter unavailable, allowing the request: %r", exc)
        return 0


class FixedWindowThrottle(BaseThrottle):
    """Per user when authenticated (rate ``user_setting``), else per IP (rate ``anon_setting``).

    Rates ("600/m") are read from the named settings on each request, so they can change at run time.
    """

    def __init__(self, *, anon_setting: str, user_setting: str, scope: str = "api") -> None:
        self.anon_setting, self.user_setting, self.scope = anon_setting, user_setting, scope
        self._local = threading.local()  # one instance serves every thread: keep the wait per thread

    def allow_request(self, request: HttpRequest) -> bool:
        auth = getattr(request, "auth", None)
        user_pk = getattr(auth, "pk", None)
        rate = getattr(settings, self.user_setting if user_pk is not None else self.anon_setting)
        num_requests, duration = parse_rate(rate)
        ident = f"u{user_pk}" if user_pk is not None else f"ip{self.get_ident(request)}"
        now = time.time()
        window = int(now // duration)
        if _count(f"thr:{self.scope}:{ident}:{window}", duration + 1) > num_requests:
            self._local.wait = (window + 1) * duration - now
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)
