"""django-q2's Redis broker with one Redis client per process.

The stock broker builds a new client, and so a new connection pool and TCP connection, for every
``async_task`` call (get_broker() makes a broker, the broker connects): about 6 ms per enqueue in a
booking request. A redis-py client is thread-safe, so one per process (re-made after a fork) serves
every enqueue and the cluster alike.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django_q.brokers.redis_broker import Redis

_lock = threading.Lock()
_clients: dict[int, Any] = {}


class PooledRedisBroker(Redis):
    @staticmethod
    def get_connection(list_key: str | None = None) -> Any:
        pid = os.getpid()
        client = _clients.get(pid)
        if client is None:
            with _lock:
                client = _clients.get(pid)
                if client is None:
                    client = _clients[pid] = Redis.get_connection(list_key)
        return client
