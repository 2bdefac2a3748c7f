"""A fixed-window API throttle: one cache INCR per request in the common case.

ninja's SimpleRateThrottle keeps a list of timestamps per client (a GET and a SET of a growing list
on every request, for each throttle). A counter per client and window is enough for an API-wide
ceiling; sensitive endpoints (login, signup, codes) have allauth's own limits on top.
"""

from __future__ import annotations

import threading
import time
from functools import cache as memoize

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@memoize
def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


class FixedWindowThrottle(BaseThrottle):
    """``FixedWindowThrottle("API_THROTTLE_USER", scope="user")``: per user when authenticated, else per IP.

    The rate ("600/m") is read from the named setting on each request, so it can change at run time.
    ``anonymous_only`` applies the limit to unauthenticated requests only.
    """

    def __init__(self, rate_setting: str, *, scope: str, anonymous_only: bool = False) -> None:
        self.rate_setting = rate_setting
        self.scope = scope
        self.anonymous_only = anonymous_only
        self._local = threading.local()  # one instance serves every thread: keep the wait per thread

    def allow_request(self, request: HttpRequest) -> bool:
        num_requests, duration = parse_rate(getattr(settings, self.rate_setting))
        auth = getattr(request, "auth", None)
        if auth is not None and self.anonymous_only:
            return True
        ident = f"u{auth.pk}" if getattr(auth, "pk", None) is not None else f"ip{self.get_ident(request)}"
        now = time.time()
        window = int(now // duration)
        key = f"thr:{self.scope}:{ident}:{window}"
        try:
            count = cache.incr(key)
        except ValueError:  # first request of the window (or the cache is unavailable: fail open)
            count = 1 if cache.add(key, 1, duration + 1) else _incr_or_one(key)
        if count > num_requests:
            self._local.wait = (window + 1) * duration - now
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


def _incr_or_one(key: str) -> int:
    try:
        return cache.incr(key)
    except ValueError:
        return 1
