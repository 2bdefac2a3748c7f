"""The authenticated WebSocket and push_to_user, through the real ASGI application."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from core.realtime.push import close_user_sockets, push_to_user
from core.testing import issue_access_token
from settings.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(token: str | None = None, first_message: dict | None = None) -> WebsocketCommunicator:
    path = "/ws/" + (f"?token={token}" if token else "")
    comm = WebsocketCommunicator(application, path)
    connected, _ = await comm.connect()
    assert connected
    if first_message is not None:
        await comm.send_to(text_data=json.dumps(first_message))
    return comm


async def receive(comm: WebsocketCommunicator) -> dict:
    return json.loads(await comm.receive_from(timeout=2))


async def test_valid_token_connects_and_receives_pushes(make_user):
    user = await sync_to_async(make_user)("student")
    token = await sync_to_async(issue_access_token)(user)
    comm = await connect(token)
    assert (await receive(comm))["type"] == "ready"
    await sync_to_async(push_to_user)(user.pk, "booking_confirmed", {"booking_id": "b1"})
    assert await receive(comm) == {"type": "booking_confirmed", "data": {"booking_id": "b1"}}
    await comm.disconnect()


async def test_token_in_first_message_works(make_user):
    user = await sync_to_async(make_user)("tutor")
    token = await sync_to_async(issue_access_token)(user)
    comm = await connect(first_message={"type": "auth", "token": token})
    assert (await receive(comm))["type"] == "ready"
    await comm.send_to(text_data=json.dumps({"type": "ping"}))
    assert (await receive(comm))["type"] == "pong"
    await comm.disconnect()


@pytest.mark.parametrize("token", ["garbage", "eyJhbGciOiJSUzI1NiJ9.e30.sig"])
async def test_bad_token_is_closed_with_4401(token):
    comm = await connect(token)
    output = await comm.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": 4401}


async def test_first_message_that_is_not_auth_is_closed_with_4401():
    comm = await connect(first_message={"type": "ping"})
    assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_one_users_events_never_reach_another(make_user):
    alice = await sync_to_async(make_user)("student")
    bob = await sync_to_async(make_user)("student")
    a = await connect(await sync_to_async(issue_access_token)(alice))
    b = await connect(await sync_to_async(issue_access_token)(bob))
    await receive(a)
    await receive(b)
    await sync_to_async(push_to_user)(alice.pk, "secret", {"grade": "A"})
    assert (await receive(a))["type"] == "secret"
    assert await b.receive_nothing(timeout=0.3)
    await a.disconnect()
    await b.disconnect()


async def test_every_socket_of_a_user_gets_the_push_and_close_ends_them(make_user):
    user = await sync_to_async(make_user)("student")
    token = await sync_to_async(issue_access_token)(user)
    socks = [await connect(token) for _ in range(3)]
    for s in socks:
        await receive(s)
    await sync_to_async(push_to_user)(user.pk, "hello", {})
    got = await asyncio.gather(*(receive(s) for s in socks))
    assert [g["type"] for g in got] == ["hello"] * 3
    await sync_to_async(close_user_sockets)(user.pk)
    for s in socks:
        assert await s.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_deactivation_closes_sockets(make_user, admin_user):
    from core.identity.services import set_active

    user = await sync_to_async(make_user)("student")
    sock = await connect(await sync_to_async(issue_access_token)(user))
    await receive(sock)
    await sync_to_async(set_active)(actor=admin_user, user=user, active=False)
    assert await sock.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_logging_out_closes_that_sessions_sockets_only(make_user):
    """Logout on one device closes the sockets opened with its tokens; another device stays open."""
    from core.testing import ApiClient

    user = await sync_to_async(make_user)("student")
    leaving, staying = await sync_to_async(issue_access_token)(user), await sync_to_async(issue_access_token)(user)
    gone, kept = await connect(leaving), await connect(staying)
    await receive(gone)
    await receive(kept)
    res = await sync_to_async(ApiClient(token=leaving).delete)("/_allauth/app/v1/auth/session")
    assert res.status_code in (200, 401), res.content  # allauth answers 401 "not authenticated" after logout
    assert await gone.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await sync_to_async(push_to_user)(user.pk, "still_here", {})
    assert (await receive(kept))["type"] == "still_here"
    await kept.disconnect()


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
async def test_a_group_message_channels_redis_drops_for_capacity_is_counted():
    """channels-redis drops group messages to a full channel with only an INFO line; we count them."""
    import os

    from channels_redis.core import RedisChannelLayer

    from core.realtime import push

    layer = RedisChannelLayer(hosts=[os.environ["REDIS_URL"]], capacity=1, prefix="test-capacity")
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    before = push.stats.dropped
    await layer.group_send("g", {"type": "x"})  # fills the process's one-message queue
    await layer.group_send("g", {"type": "x"})  # over capacity: dropped by channels-redis
    assert push.stats.dropped == before + 1
    await layer.flush()


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
async def test_an_idle_socket_outlives_the_layers_blocking_reads(make_user):
    """channels-redis blocks 5 s per read; with redis-py 8's default 5 s socket timeout the read timed
    out as the reply came and the consumer died (close 1011). An idle socket must still get pushes."""
    user = await sync_to_async(make_user)("student")
    sock = await connect(await sync_to_async(issue_access_token)(user))
    await receive(sock)
    await asyncio.sleep(16)  # three blocking reads
    await sync_to_async(push_to_user)(user.pk, "after_idle", {})
    assert (await receive(sock))["type"] == "after_idle"
    await sock.disconnect()


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
async def test_a_burst_of_socket_closes_leaves_every_group():
    """1,000 sockets closing at once each leave their group concurrently. redis-py 8's asyncio pool
    stops at 100 connections and raises "Too many connections": 600-1,500 of 1,000 leaves failed in
    the fan-out benchmark, leaving dead channels in users' groups for a day. The configured layer's
    pool must take such a burst."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channels = [await layer.new_channel() for _ in range(300)]
    await asyncio.gather(*(layer.group_add(f"burst-{i}", c) for i, c in enumerate(channels)))
    results = await asyncio.gather(
        *(layer.group_discard(f"burst-{i}", c) for i, c in enumerate(channels)), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, Exception)] == []


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
async def test_queued_pushes_reach_a_socket_through_redis_pubsub_in_the_order_queued(make_user):
    """Synchronous code publishes on the pub/sub layer with its own batching publisher (a plain Redis
    client); the socket, subscribed through the layer's own asyncio client, gets every push in order."""
    from channels.layers import get_channel_layer

    from core.realtime import push

    if type(get_channel_layer()).__name__ != "RedisPubSubChannelLayer":
        pytest.skip("the configured layer is not Redis pub/sub")
    user = await sync_to_async(make_user)("student")
    sock = await connect(await sync_to_async(issue_access_token)(user))
    assert (await receive(sock))["type"] == "ready"
    sent = push.stats.sent

    def burst() -> None:
        for i in range(200):
            push.push_to_user_queued(user.pk, "coach_delta", {"index": i})

    await sync_to_async(burst)()
    got = [(await receive(sock))["data"]["index"] for _ in range(200)]
    assert got == list(range(200))
    assert push.stats.sent >= sent + 200
    await sock.disconnect()


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
async def test_a_pubsub_push_to_an_unreachable_redis_is_dropped_and_counted():
    import socket

    from channels_redis.pubsub import RedisPubSubChannelLayer

    from core.realtime import push

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    layer = RedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:{port}/0"], prefix="test-down")
    publisher = push._PubSubPublisher(layer)
    dropped, sent = push.stats.dropped, push.stats.sent
    message = {"type": "push.event", "event": "x", "data": {}}
    assert await sync_to_async(publisher.submit)("user.x", message, wait=5.0) is False
    assert push.stats.dropped == dropped + 1 and push.stats.sent == sent
