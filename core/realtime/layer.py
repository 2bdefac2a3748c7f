"""A channels-redis layer that receives a process's socket messages in batches.

Every socket of one daphne process shares one Redis key (the process's channel prefix). Stock
channels-redis takes messages off that key one at a time, each with four sequential Redis round trips
(restore the in-flight backup, BZPOPMIN, ZADD to the backup, and a ZPOPMIN from the backup that the
next receive waits for). A fan-out to 1,000 sockets is 4,000 round trips in a row per process, so the
last socket waited for all of them: p95 186 ms on an idle box, seconds on a busy one, with daphne
mostly idle. Here one Lua call per batch moves up to ``receive_batch`` messages into the backup and
hands them out from memory; the backup keeps its meaning (messages taken off the key but not yet
handed to a consumer are put back on the next call), so nothing is lost when a receive is cancelled.

Its Redis connections come from a blocking pool: redis-py 8's asyncio pool holds at most 100
connections and raises MaxConnectionsError past that, so when 1,000 sockets closed at once (a proxy
reload, the benchmark) about 1,500 of their group_discard calls failed and left dead members in the
users' groups for a day (every later push to those users also went to the dead channels), and a
burst of connects could fail group_add and close sockets with 1011. Past ``pool_size`` a call now waits
(up to ``pool_timeout`` seconds) for a free connection.

Everything else (send, group_send, capacity, expiry, groups) is channels-redis's own.
"""

from __future__ import annotations

import collections
from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool

# KEYS: the channel's sorted set, its in-flight backup. ARGV: batch size, then the members handed out
# since the last call (done with: dropped from the backup). What is left in the backup was taken off
# by a cancelled call and goes back in front of the queue. Then up to ARGV[1] messages are popped and
# recorded in the backup.
_FETCH = """
for i = 2, #ARGV do
    redis.call('ZREM', KEYS[2], ARGV[i])
end
local left = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #left, 2 do
    redis.call('ZADD', KEYS[1], left[i + 1], left[i])
end
redis.call('DEL', KEYS[2])
local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[1]))
for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[2], popped[i + 1], popped[i])
end
return popped
"""


class BatchedRedisChannelLayer(RedisChannelLayer):
    """RedisChannelLayer whose process-specific receive (every socket consumer's) is batched."""

    def __init__(
        self, *args: Any, receive_batch: int = 200, pool_size: int = 100, pool_timeout: float = 20.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.receive_batch, self.pool_size, self.pool_timeout = receive_batch, pool_size, pool_timeout
        self._fetched: dict[str, collections.deque[bytes]] = collections.defaultdict(collections.deque)
        self._handed: dict[str, list[bytes]] = collections.defaultdict(list)

    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        if "address" not in host:  # sentinel or keyword hosts: channels-redis's own pool
            return super().create_pool(index)
        host.setdefault("max_connections", self.pool_size)
        host.setdefault("timeout", self.pool_timeout)
        return BlockingConnectionPool.from_url(host.pop("address"), **host)

    async def receive_single(self, channel: str) -> tuple[Any, dict[str, Any]]:
        if "!" not in channel:  # a normal channel: channels-redis's own path
            return await super().receive_single(channel)
        # receive() calls this for the process's channel under its receive lock: one caller at a time.
        assert self.require_valid_channel_name(channel, receive=True), "Channel name invalid"
        index = self.consistent_hash(channel)
        key = self.prefix + channel
        fetched, handed = self._fetched[key], self._handed[key]
        while not fetched:
            connection = self.connection(index)
            backup = self._backup_channel_name(key)
            popped = await connection.eval(_FETCH, 2, key, backup, self.receive_batch, *handed)
            handed.clear()
            if popped:
                fetched.extend(popped[0::2])
                break
            # Nothing queued: block until a message comes (then fetch the rest in one batch).
            result = await connection.bzpopmin(key, timeout=self.brpop_timeout)
            if result is not None:
                _, member, score = result
                await connection.zadd(backup, {member: float(score)})
                fetched.append(member)
        member = fetched.popleft()
        handed.append(member)
        message = self.deserialize(member)
        if "__asgi_channel__" in message:
            channel = message.pop("__asgi_channel__")
        return channel, message

    async def flush(self) -> None:
        await super().flush()
        self._fetched.clear()
        self._handed.clear()
