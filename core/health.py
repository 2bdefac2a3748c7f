"""Liveness and readiness."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    if getattr(settings, "REDIS_URL", ""):
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", 5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was written")


def _check_channel_layer() -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def round_trip() -> dict:
        # One coroutine (one event loop): the pub/sub layer keeps a channel's subscription per loop,
        # so three async_to_sync calls would wait forever on a channel their loop never subscribed.
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        return await asyncio.wait_for(layer.receive(channel), timeout=3)

    message = async_to_sync(round_trip)()
    if message.get("type") != "health.ping":
        raise RuntimeError("channel layer returned something else")


def _check_broker() -> None:
    from django_q.conf import Conf

    if Conf.ORM:
        _check_database()
        return
    from django_q.brokers import get_broker

    if not get_broker().ping():
        raise RuntimeError("broker did not answer")


CHECKS: dict[str, tuple[Callable[[], None], bool]] = {
    "database": (_check_database, True),
    "cache": (_check_cache, True),
    "channel_layer": (_check_channel_layer, True),
    "broker": (_check_broker, True),
}


def ready(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for name, (check, required) in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}
        except Exception as exc:  # noqa: BLE001 - a readiness probe reports, never raises
            results[name] = {"status": "down", "error": type(exc).__name__, "required": required}
            healthy = healthy and not required
    return JsonResponse({"status": "ok" if healthy else "unavailable", "checks": results}, status=200 if healthy else 503)
