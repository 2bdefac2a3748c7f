"""core.realtime.layer: the channels-redis layer with batched receives and a blocking pool (on Redis)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)"),
]


def make_layer(**kwargs):
    from core.realtime.layer import BatchedRedisChannelLayer

    return BatchedRedisChannelLayer(hosts=[os.environ["REDIS_URL"]], prefix=f"test-batch-{uuid.uuid4().hex[:8]}", **kwargs)


async def test_every_socket_gets_its_messages_in_order_across_batches():
    layer = make_layer(receive_batch=7, capacity=1000)
    channels = [await layer.new_channel() for _ in range(5)]
    for i, channel in enumerate(channels):
        await layer.group_add(f"user{i}", channel)
    for n in range(12):
        for i in range(len(channels)):
            await layer.group_send(f"user{i}", {"type": "push.event", "n": n})
    got = {c: [(await asyncio.wait_for(layer.receive(c), 5))["n"] for _ in range(12)] for c in channels}
    assert got == {c: list(range(12)) for c in channels}
    await layer.flush()


async def test_messages_taken_off_by_a_cancelled_receive_are_not_lost():
    """A batch moved to the in-flight backup whose reply never arrived is put back on the next call."""
    from core.realtime.layer import _FETCH

    layer = make_layer(receive_batch=10)
    channel = await layer.new_channel()
    for n in range(5):
        await layer.send(channel, {"type": "push.event", "n": n})
    key = layer.prefix + layer.non_local_name(channel)
    conn = layer.connection(0)
    lost = await conn.eval(_FETCH, 2, key, layer._backup_channel_name(key), 3)  # as if cancelled after
    assert len(lost) == 6  # 3 members with their scores, now only in the backup
    assert [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(5)] == [0, 1, 2, 3, 4]
    assert await conn.zcard(key) == 0
    await layer.flush()


async def test_a_burst_of_group_calls_waits_for_a_connection_instead_of_failing():
    """redis-py 8's pool raised MaxConnectionsError past 100 connections: 1,000 sockets closing at once
    lost most of their group_discard calls."""
    layer = make_layer(pool_size=5)
    channels = [await layer.new_channel() for _ in range(200)]
    await asyncio.gather(*(layer.group_add(f"g{i}", c) for i, c in enumerate(channels)))
    await asyncio.gather(*(layer.group_discard(f"g{i}", c) for i, c in enumerate(channels)))
    assert await layer.connection(0).zcard(layer._group_key("g0")) == 0
    await layer.flush()


async def test_pushes_from_sync_code_use_the_process_loop_for_the_subclass():
    from core.realtime import push

    assert push._is_redis(make_layer())
