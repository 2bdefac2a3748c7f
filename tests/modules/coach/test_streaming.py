"""The reply streams over a real WebSocket (the ASGI application through channels' communicator)."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from core.testing import ApiClient, issue_access_token
from settings.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def socket_for(user) -> WebsocketCommunicator:
    token = await sync_to_async(issue_access_token)(user)
    comm = WebsocketCommunicator(application, f"/ws/?token={token}")
    connected, _ = await comm.connect()
    assert connected
    assert json.loads(await comm.receive_from(timeout=3))["type"] == "ready"
    return comm


async def collect_until_done(comm: WebsocketCommunicator) -> tuple[list[dict], dict]:
    deltas = []
    while True:
        event = json.loads(await comm.receive_from(timeout=10))
        if event["type"] == "coach_delta":
            deltas.append(event["data"])
        elif event["type"] == "coach_done":
            return deltas, event["data"]


async def post_message(api: ApiClient, session_id: str, text: str):
    return await sync_to_async(api.post)(f"/coach/sessions/{session_id}/messages", {"text": text})


async def test_offline_reply_streams_in_order_and_done_equals_the_stored_message(make_user, tracker_for):
    user = await sync_to_async(make_user)("student")
    t = await sync_to_async(tracker_for)(user)
    await sync_to_async(t.course)("NET301", "Computer Networks", 4)
    await sync_to_async(t.result)("NET301", "quiz", 55)
    api = await sync_to_async(ApiClient)(user)
    session = (await sync_to_async(api.post)("/coach/sessions", {})).json()
    comm = await socket_for(user)

    res, (deltas, done) = await asyncio.gather(
        post_message(api, session["id"], "How can I improve in Computer Networks?"), collect_until_done(comm)
    )
    assert res.status_code == 200, res.content
    reply = res.json()
    assert len(deltas) > 3  # really streamed, not sent at once
    assert [d["index"] for d in deltas] == list(range(len(deltas)))
    assert {d["message_id"] for d in deltas} == {reply["id"]} and {d["session_id"] for d in deltas} == {session["id"]}
    assert "".join(d["text"] for d in deltas).strip() == done["text"]
    assert done["message_id"] == reply["id"] and done["session_id"] == session["id"]
    stored = (await sync_to_async(api.get)(f"/coach/sessions/{session['id']}/messages")).json()["items"]
    assert stored[-1]["id"] == reply["id"] and stored[-1]["text"] == done["text"] == reply["text"]
    await comm.disconnect()


async def test_engine_deltas_arrive_in_the_engines_order(make_user, fake_openai):
    user = await sync_to_async(make_user)("student")
    api = await sync_to_async(ApiClient)(user)
    session = (await sync_to_async(api.post)("/coach/sessions", {})).json()
    comm = await socket_for(user)
    fake_openai.reply_chunks = ["One, ", "two, ", "three, ", "four."]
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1"):
        res, (deltas, done) = await asyncio.gather(post_message(api, session["id"], "Count"), collect_until_done(comm))
    assert [d["text"] for d in deltas] == ["One, ", "two, ", "three, ", "four."]
    assert done["text"] == "One, two, three, four." == res.json()["text"]
    await comm.disconnect()


async def test_a_failed_reply_ends_with_coach_error_and_no_done(make_user, fake_openai):
    user = await sync_to_async(make_user)("student")
    api = await sync_to_async(ApiClient)(user)
    session = (await sync_to_async(api.post)("/coach/sessions", {})).json()
    comm = await socket_for(user)
    fake_openai.script.append(("hang", None))
    with override_settings(COACH_ENGINE="openai_compatible", OPENAI_BASE_URL=fake_openai.url + "/v1", COACH_TIMEOUT_SECONDS=0.8):
        res = await post_message(api, session["id"], "Hello?")
    assert res.status_code == 503
    event = json.loads(await comm.receive_from(timeout=3))
    assert event["type"] == "coach_error" and event["data"]["session_id"] == session["id"]
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_another_student_receives_nothing(make_user):
    alice = await sync_to_async(make_user)("student")
    bob = await sync_to_async(make_user)("student")
    api = await sync_to_async(ApiClient)(alice)
    session = (await sync_to_async(api.post)("/coach/sessions", {})).json()
    a, b = await socket_for(alice), await socket_for(bob)
    await asyncio.gather(post_message(api, session["id"], "Hi"), collect_until_done(a))
    assert await b.receive_nothing(timeout=0.3)
    await a.disconnect()
    await b.disconnect()
