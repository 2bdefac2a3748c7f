"""A fixed-window API throttle: one cache round trip per request.

ninja's SimpleRateThrottle keeps a list of timestamps per client (a GET and a SET of a growing list
on every request, for each throttle), and Django's RedisCache.incr costs two round trips (EXISTS,
then INCR). Here one throttle serves both anonymous clients (per IP) and users (per user), and on
Redis the counter is one pipelined INCR + EXPIRE NX. Sensitive endpoints (login, signup, codes) have
allauth's own limits on top (core.ratelimit). A cache outage fails safe: the counters move to
process memory for a while (the limit holds per process) and the API keeps answering.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache as memoize

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from core.ratelimit import client_ip, count

logger = logging.getLogger(__name__)
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@memoize
def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


def _count(key: str, ttl: int) -> int:
    """Increment the window's counter and return it. When the cache is unavailable the counter is
    held in process memory (core.ratelimit: the limit holds per process; the API keeps answering)."""
    return count(key, ttl)


class FixedWindowThrottle(BaseThrottle):
    """Per user when authenticated (rate ``user_setting``), else per IP (rate ``anon_setting``).

    Rates ("600/m") are read from the named settings on each request, so they can change at run time.
    """

    def __init__(self, *, anon_setting: str, user_setting: str, scope: str = "api") -> None:
        self.anon_setting, self.user_setting, self.scope = anon_setting, user_setting, scope
        self._local = threading.local()  # one instance serves every thread: keep the wait per thread

    def window(self, authenticated: bool, ident: str, now: float) -> tuple[str, int, int, int]:
        """This client's counter at ``now``: (key, ttl, limit, period)."""
        num_requests, duration = parse_rate(getattr(settings, self.user_setting if authenticated else self.anon_setting))
        return f"thr:{self.scope}:{ident}:{int(now // duration)}", duration + 1, num_requests, duration

    def allow_request(self, request: HttpRequest) -> bool:
        user_pk = getattr(getattr(request, "auth", None), "pk", None)
        ident = f"u{user_pk}" if user_pk is not None else f"ip{client_ip(request)}"
        now = time.time()
        key, ttl, num_requests, duration = self.window(user_pk is not None, ident, now)
        if _count(key, ttl) > num_requests:
            self._local.wait = (int(now // duration) + 1) * duration - now
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)
