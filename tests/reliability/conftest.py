"""Reliability fixtures: a Redis server of our own (a real process on a free loopback port) that a test
may stop and start again, and settings that point the cache, channel layer and health check at it.

The system Redis (6379) is never touched: every test here that stops Redis stops its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.local import Local
from django.core.cache import caches
from django.test import override_settings

import core.ratelimit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """``redis-server`` on a free port, no persistence; ``stop()`` kills it, ``start()`` brings it back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="reliability-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: an outage, not a clean shutdown
            self.proc.wait(10)
        self.proc = None

    def settings(self) -> dict[str, Any]:
        return {
            "REDIS_URL": self.url,
            "CACHES": {
                "default": {
                    "BACKEND": "core.cache.ResilientRedisCache",
                    "LOCATION": self.url,
                    "KEY_PREFIX": "reliability",
                    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
                }
            },
            "CHANNEL_LAYERS": {
                "default": {
                    "BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {"hosts": [self.url], "capacity": 1000, "expiry": 30, "prefix": "reliability:asgi"},
                }
                if os.environ.get("CHANNEL_BACKEND") == "core"
                else {  # the production default (settings.base)
                    "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                    "CONFIG": {"hosts": [self.url], "prefix": "reliability:asgi"},
                }
            },
        }


def reset_process_state() -> None:
    """What a restart forgets: cache client connections and the limiter's in-memory state."""
    for alias in list(caches):
        try:
            caches[alias].close()
        except Exception:  # noqa: BLE001 - a closed client may complain
            pass
    caches._connections = Local()  # drop the backend objects themselves (as Django does on a CACHES change)
    core.ratelimit.reset_local_state()


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def on_redis(redis_server: RedisProcess) -> Iterator[RedisProcess]:
    """The cache, channel layer and readiness check on our own Redis for the test."""
    from channels.layers import channel_layers

    with override_settings(**redis_server.settings()):
        channel_layers.backends.clear()
        reset_process_state()
        try:
            yield redis_server
        finally:
            reset_process_state()
            channel_layers.backends.clear()
    reset_process_state()
