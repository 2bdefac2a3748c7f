"""A Redis cache that degrades to misses when Redis is unreachable, instead of raising."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)
_last_warning = 0.0
failures = 0


def _note_failure(op: str, exc: Exception) -> None:
    global _last_warning, failures
    failures += 1
    now = time.monotonic()
    if now - _last_warning > 10:  # one line per 10 s, not one per request
        _last_warning = now
        logger.warning("cache %s failed, serving without cache: %r (failures so far: %d)", op, exc, failures)


class _ReusingClient(RedisCacheClient):
    """Django builds a new ``redis.Redis`` per cache call (~100 us: it copies ~170 response callbacks).
    A client over a connection pool is thread-safe, so one per pool is kept and reused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except Exception as exc:  # noqa: BLE001 - redis.ConnectionError and friends
            _note_failure("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        try:
            return super().get_many(keys, version)
        except Exception as exc:  # noqa: BLE001
            _note_failure("get_many", exc)
            return {}

    def set(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().set(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            _note_failure("set", exc)

    def add(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().add(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            _note_failure("add", exc)
            return False

    def delete(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().delete(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            _note_failure("delete", exc)
            return False

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except ValueError:
            raise
        except Exception as exc:
            _note_failure("incr", exc)
            raise ValueError("cache unavailable") from exc

    def has_key(self, key: str, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except Exception as exc:  # noqa: BLE001
            _note_failure("has_key", exc)
            return False

    def set_many(self, *args: Any, **kwargs: Any) -> list[str]:
        try:
            return super().set_many(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            _note_failure("set_many", exc)
            return []

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().delete_many(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            _note_failure("delete_many", exc)

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().touch(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            _note_failure("touch", exc)
            return False


def versioned_key(namespace: str, *parts: Any) -> str:
    """A cache key that includes the namespace's version; ``bump_version`` invalidates them all."""
    from django.core.cache import cache

    version = cache.get(f"v:{namespace}") or 0
    return f"{namespace}:{version}:" + ":".join(str(p) for p in parts)


def bump_version(namespace: str) -> None:
    bump_versions(namespace)


def bump_versions(*namespaces: str) -> None:
    """Invalidate every key of the namespaces: one pipelined round trip on Redis."""
    from django.core.cache import caches

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        try:
            pipe = backend._cache.get_client(None, write=True).pipeline(transaction=False)
            for namespace in namespaces:
                pipe.incr(backend.make_and_validate_key(f"v:{namespace}"))  # a missing key becomes 1
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 - Redis down: nothing is cached either
            _note_failure("bump", exc)
        return
    for namespace in namespaces:
        try:
            backend.incr(f"v:{namespace}")
        except ValueError:
            backend.set(f"v:{namespace}", 1, None)


# Namespaces a write request invalidates, bumped together when it ends (see ``deferred_bumps``).
_deferred: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("deferred_bumps", default=None)


@contextlib.contextmanager
def deferred_bumps() -> Iterator[set[str]]:
    """Around a write request: ``bump_now_and_on_commit`` only collects its namespaces here, and they
    are bumped once, in one round trip, when the block ends. The request's transactions have
    committed by then, so a reader that cached the pre-commit state meanwhile is invalidated as well;
    a write request used to spend up to 8 round trips on the same few namespaces. Names added to the
    yielded set are bumped with them."""
    pending: set[str] = set()
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)
        if pending:
            bump_versions(*sorted(pending))


def bump_now_and_on_commit(*namespaces: str) -> None:
    """Invalidate now (tests without real commits see it) and again once the transaction commits,
    so a reader that cached the pre-commit state in between is invalidated too. Inside a write
    request (``deferred_bumps``) the request's end does both at once; outside a transaction, once."""
    from django.db import connection, transaction

    pending = _deferred.get()
    if pending is not None:
        pending.update(namespaces)
        return
    bump_versions(*namespaces)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: bump_versions(*namespaces))


def user_writes_namespace(user_id: Any) -> str:
    """Bumped after every successful API write by the user (core.api.public_cache): the namespace of
    per-user reads that only the user's own actions change."""
    return f"writes:{user_id}"
