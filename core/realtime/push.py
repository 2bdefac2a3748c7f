"""push_to_user: deliver an event to every open socket of one user, through the channel layer."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import queue
import threading
import uuid
from collections.abc import Coroutine
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


class PushStats:
    """Counters a benchmark or health check can read: pushes sent and dropped (layer down or full)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = 0
        self.dropped = 0

    def add(self, *, sent: int = 0, dropped: int = 0) -> None:
        with self._lock:
            self.sent += sent
            self.dropped += dropped


stats = PushStats()


class _OverCapacityFilter(logging.Filter):
    """channels-redis drops a group message for a full channel and only logs it at INFO ("N of M
    channels over capacity in group G"). Count those as dropped pushes and raise them to WARNING;
    keep its other INFO lines out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "over capacity" in str(record.msg):
            try:
                stats.add(dropped=int(record.args[0]))  # type: ignore[index]
            except (TypeError, ValueError, IndexError):
                stats.add(dropped=1)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True
        return record.levelno >= logging.WARNING


_channels_redis_log = logging.getLogger("channels_redis.core")
_channels_redis_log.setLevel(logging.INFO)
_channels_redis_log.addFilter(_OverCapacityFilter())


def user_group(user_id: uuid.UUID | str) -> str:
    return f"user.{uuid.UUID(str(user_id)).hex}"


def session_group(session_key: str) -> str:
    """The sockets opened with tokens of one login session (closed when the session ends)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def close_session_sockets(session_key: str) -> bool:
    """Close the sockets of one session (logout on that device, a revoked session) with 4401."""
    return _send(session_group(session_key), {"type": "push.close"})


class _LayerLoop:
    """One event loop per process, on a daemon thread, for pushes from synchronous code.

    ``async_to_sync`` outside an ASGI server starts a thread and an event loop per call, and
    channels-redis keeps its connections per loop, so every push also opened a Redis connection
    (~3 ms per push in a booking request). This loop lives as long as the process (re-made after a
    fork), so its connections are reused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[Any, str, dict[str, Any]]] | None = None
        self._sender: asyncio.Task[None] | None = None  # held, so the task is not collected
        self._pid = 0

    def _get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not self._loop.is_running():
                loop = asyncio.new_event_loop()
                started = threading.Event()
                loop.call_soon(started.set)
                threading.Thread(target=loop.run_forever, name="push-loop", daemon=True).start()
                started.wait(5)
                self._loop, self._pid = loop, os.getpid()
                self._queue = asyncio.run_coroutine_threadsafe(self._start_sender(), loop).result(5)
            return self._loop

    async def _start_sender(self) -> asyncio.Queue[tuple[Any, str, dict[str, Any]]]:
        queue: asyncio.Queue[tuple[Any, str, dict[str, Any]]] = asyncio.Queue()
        self._sender = asyncio.get_running_loop().create_task(self._send_in_order(queue))
        return queue

    async def _send_in_order(self, queue: asyncio.Queue[tuple[Any, str, dict[str, Any]]]) -> None:
        while True:
            layer, group, message = await queue.get()
            try:
                await layer.group_send(group, message)
            except Exception as exc:  # noqa: BLE001 - counted like any dropped push
                stats.add(dropped=1)
                logger.warning("push to %s dropped: %r (dropped so far: %d)", group, exc, stats.dropped)
            else:
                stats.add(sent=1)

    def submit(self, layer: Any, group: str, message: dict[str, Any]) -> None:
        """Queue a push without waiting; one sender sends the queue in order."""
        loop = self._get()
        assert self._queue is not None
        loop.call_soon_threadsafe(self._queue.put_nowait, (layer, group, message))

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 5.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._get()).result(timeout)


_layer_loop = _LayerLoop()


class _PubSubPublisher:
    """Pushes on channels-redis' pub/sub layer from synchronous code: PUBLISH with a plain (sync) Redis
    client, queued pushes sent by one thread in batches, one pipeline (one round trip) per batch.

    The asyncio route (``_LayerLoop``) cost one event-loop wake-up and one awaited PUBLISH per push
    behind the shard's lock: about 0.3 ms of CPU per push in the web process, 7 ms of a 16-ms offline
    coach reply (23 deltas). A message published here is the one the layer itself would publish (its
    channel name, shard and serializer), so daphne's subscribers cannot tell the difference.
    """

    BATCH = 500

    def __init__(self, layer: Any) -> None:
        from channels_redis.utils import _consistent_hash, decode_hosts

        self.layer = layer
        self.prefix = layer._kwargs.get("prefix", "asgi")
        hosts = decode_hosts(layer._kwargs.get("hosts") or (layer._args[0] if layer._args else None))
        self._hash = _consistent_hash
        self._hosts = hosts
        self._clients: list[Any] = []
        self._queue: queue.SimpleQueue[tuple[str, dict[str, Any], threading.Event | None, list[bool]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0

    @staticmethod
    def supports(layer: Any) -> bool:
        """Plain hosts (a URL or connection keywords); Sentinel set-ups keep the layer's own route."""
        if type(layer).__name__ != "RedisPubSubChannelLayer":
            return False
        from channels_redis.utils import decode_hosts

        hosts = decode_hosts(layer._kwargs.get("hosts") or (layer._args[0] if layer._args else None))
        return all("sentinels" not in h and "master_name" not in h for h in hosts)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            import redis

            clients = []
            for host in self._hosts:
                options = {k: v for k, v in host.items() if k != "address"}
                # A PUBLISH never blocks: a Redis that stops answering costs a push, not 30 s of queue.
                options["socket_timeout"] = min(float(options.get("socket_timeout") or 5), 5.0)
                options.setdefault("socket_connect_timeout", 2)
                address = host.get("address")
                clients.append(redis.Redis.from_url(address, **options) if address else redis.Redis(**options))
            self._clients, self._queue = clients, queue.SimpleQueue()  # a forked child starts afresh
            threading.Thread(target=self._run, name="push-publisher", daemon=True).start()
            self._pid = os.getpid()

    def submit(self, group: str, message: dict[str, Any], *, wait: float = 0.0) -> bool:
        """Queue a push; with ``wait``, block until it is published (True) or dropped (False)."""
        if self._pid != os.getpid():
            self._start()
        done = threading.Event() if wait else None
        outcome: list[bool] = []
        self._queue.put((group, message, done, outcome))
        if done is None:
            return True
        return done.wait(wait) and bool(outcome and outcome[0])

    def _run(self) -> None:
        q = self._queue
        while True:
            batch = [q.get()]
            while len(batch) < self.BATCH:
                try:
                    batch.append(q.get_nowait())
                except queue.Empty:
                    break
            ok = self._publish(batch)
            for _group, _message, done, outcome in batch:
                if done is not None:
                    outcome.append(ok)
                    done.set()

    def _publish(self, batch: list[tuple[str, dict[str, Any], threading.Event | None, list[bool]]]) -> bool:
        pipes: dict[int, Any] = {}
        try:
            for group, message, _done, _outcome in batch:
                channel = f"{self.prefix}__group__{group}"
                shard = self._hash(channel, len(self._clients))
                if shard not in pipes:
                    pipes[shard] = self._clients[shard].pipeline(transaction=False)
                pipes[shard].publish(channel, self.layer.serialize(message))
            for pipe in pipes.values():
                pipe.execute()
        except Exception as exc:  # noqa: BLE001 - Redis down: counted like any dropped push, never raised
            stats.add(dropped=len(batch))
            logger.warning("%d pushes dropped: %r (dropped so far: %d)", len(batch), exc, stats.dropped)
            return False
        stats.add(sent=len(batch))
        return True


_publishers: dict[int, _PubSubPublisher | None] = {}


def _publisher(layer: Any) -> _PubSubPublisher | None:
    """The batching publisher for this layer object, or None when the layer keeps its own route."""
    key = id(layer)
    if key not in _publishers:
        _publishers.clear()  # one layer per process; a new one (settings changed in tests) replaces it
        _publishers[key] = _PubSubPublisher(layer) if _PubSubPublisher.supports(layer) else None
    return _publishers[key]


def _group_send(layer: Any, group: str, message: dict[str, Any]) -> None:
    # Only a cross-process layer (Redis) may be driven from our own loop; the in-memory layer
    # (development, tests) must run on the server's loop, which async_to_sync finds.
    if type(layer).__module__.startswith("channels_redis"):
        _layer_loop.run(layer.group_send(group, message))
    else:
        async_to_sync(layer.group_send)(group, message)


def _send(group: str, message: dict[str, Any]) -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    publisher = _publisher(layer)
    if publisher is not None:  # counted (sent or dropped) by the publisher
        return publisher.submit(group, message, wait=5.0)
    try:
        _group_send(layer, group, message)
    except Exception as exc:  # noqa: BLE001 - Redis down or the channel full: count it, never raise
        stats.add(dropped=1)
        logger.warning("push to %s dropped: %r (dropped so far: %d)", group, exc, stats.dropped)
        return False
    stats.add(sent=1)
    return True


def push_to_user(user_id: uuid.UUID | str, event_type: str, payload: dict[str, Any]) -> bool:
    """Send ``{"type": event_type, "data": payload}`` to every socket of the user, now."""
    return _send(user_group(user_id), {"type": "push.event", "event": event_type, "data": payload})


def push_to_user_queued(user_id: uuid.UUID | str, event_type: str, payload: dict[str, Any]) -> None:
    """Like push_to_user, but without waiting for the channel layer: for streams (coach deltas),
    where a wait per piece added up. Pushes queued by one process are sent in the order queued;
    failures are counted as drops. The in-memory layer (development, tests) sends at once."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "push.event", "event": event_type, "data": payload}
    publisher = _publisher(layer)
    if publisher is not None:
        publisher.submit(user_group(user_id), message)
    elif type(layer).__module__.startswith("channels_redis"):
        _layer_loop.submit(layer, user_group(user_id), message)
    else:
        _send(user_group(user_id), message)


def push_to_user_on_commit(user_id: uuid.UUID | str, event_type: str, payload: dict[str, Any]) -> None:
    """Push once the current transaction commits (never for a rolled-back change), without waiting for
    the channel layer: the request goes on while the push loop sends, in the order queued."""
    transaction.on_commit(lambda: push_to_user_queued(user_id, event_type, payload))


def close_user_sockets(user_id: uuid.UUID | str) -> bool:
    """Close every socket of the user (logout everywhere, deactivation) with code 4401."""
    return _send(user_group(user_id), {"type": "push.close"})
