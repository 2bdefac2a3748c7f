"""Real-time delivery through the real ASGI application and WebSocket communicators."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from core.testing import ApiClient, issue_access_token
from settings.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def socket_for(user) -> WebsocketCommunicator:
    token = await sync_to_async(issue_access_token)(user)
    comm = WebsocketCommunicator(application, f"/ws/?token={token}")
    connected, _ = await comm.connect()
    assert connected
    assert json.loads(await comm.receive_from(timeout=2))["type"] == "ready"
    return comm


async def next_event(comm) -> dict:
    return json.loads(await comm.receive_from(timeout=2))


async def test_both_sockets_of_the_recipient_get_a_new_message_and_a_third_user_gets_nothing(make_user, bookings):
    student = await sync_to_async(make_user)("student")
    tutor = await sync_to_async(make_user)("tutor")
    third = await sync_to_async(make_user)("student")
    bookings.book(student, tutor)
    phone, laptop = await socket_for(tutor), await socket_for(tutor)
    sender_socket, stranger = await socket_for(student), await socket_for(third)

    client = await sync_to_async(ApiClient)(student)
    res = await sync_to_async(client.post)("/messaging/messages", {"recipient_id": str(tutor.pk), "body": "Hi there"})
    assert res.status_code == 201, res.content
    mid = res.json()["id"]

    for comm in (phone, laptop, sender_socket):
        evt = await next_event(comm)
        assert evt["type"] == "new_message"
        assert evt["data"]["id"] == mid and evt["data"]["body"] == "Hi there"
    assert await stranger.receive_nothing(timeout=0.3)
    for comm in (phone, laptop, sender_socket, stranger):
        await comm.disconnect()


async def test_edit_delete_and_read_are_pushed_to_both_parties(make_user, bookings):
    student = await sync_to_async(make_user)("student")
    tutor = await sync_to_async(make_user)("tutor")
    bookings.book(student, tutor)
    s_client = await sync_to_async(ApiClient)(student)
    t_client = await sync_to_async(ApiClient)(tutor)
    s_sock, t_sock = await socket_for(student), await socket_for(tutor)

    mid = (await sync_to_async(s_client.post)("/messaging/messages", {"recipient_id": str(tutor.pk), "body": "v1"})).json()["id"]
    for comm in (s_sock, t_sock):
        assert (await next_event(comm))["type"] == "new_message"

    await sync_to_async(s_client.patch)(f"/messaging/messages/{mid}", {"body": "v2"})
    for comm in (s_sock, t_sock):
        evt = await next_event(comm)
        assert evt["type"] == "message_updated" and evt["data"]["body"] == "v2"

    await sync_to_async(t_client.post)(f"/messaging/messages/{mid}/read")
    for comm in (s_sock, t_sock):
        evt = await next_event(comm)
        assert evt["type"] == "message_read" and evt["data"]["message_ids"] == [mid]

    await sync_to_async(s_client.delete)(f"/messaging/messages/{mid}")
    for comm in (s_sock, t_sock):
        evt = await next_event(comm)
        assert evt["type"] == "message_updated" and evt["data"]["is_deleted"] is True and evt["data"]["body"] == ""
    await s_sock.disconnect()
    await t_sock.disconnect()


async def test_a_refused_message_pushes_nothing(make_user, bookings):
    student = await sync_to_async(make_user)("student")
    tutor = await sync_to_async(make_user)("tutor")
    t_sock = await socket_for(tutor)
    client = await sync_to_async(ApiClient)(student)
    res = await sync_to_async(client.post)("/messaging/messages", {"recipient_id": str(tutor.pk), "body": "hello?"})
    assert res.status_code == 403
    assert await t_sock.receive_nothing(timeout=0.3)
    await t_sock.disconnect()
