"""The authenticated WebSocket at /ws/.

The client authenticates with a JWT access token, as ``?token=`` or in its first message
``{"type": "auth", "token": "..."}`` within AUTH_TIMEOUT seconds. Anything else closes with 4401.
Once in, the socket joins its user's group and receives ``{"type": <event>, "data": {...}}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from core.realtime.push import session_group, user_group

logger = logging.getLogger(__name__)
CLOSE_UNAUTHORISED = 4401
AUTH_TIMEOUT = 10.0


@database_sync_to_async
def _user_for(token: str) -> Any:
    from core.api.auth import user_from_access_token

    return user_from_access_token(token)


def _session_key_of(token: str) -> str | None:
    from allauth.headless.tokens.strategies.jwt.internal import decode_token, session_key_from_sid

    payload = decode_token(token, "access")
    return session_key_from_sid(payload["sid"]) if payload else None


class UserSocketConsumer(AsyncWebsocketConsumer):
    user_id: Any = None
    group: str | None = None
    session_group: str | None = None
    _auth_timer: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        if token:
            await self._authenticate(token)
        else:
            self._auth_timer = asyncio.ensure_future(self._auth_deadline())

    async def _auth_deadline(self) -> None:
        await asyncio.sleep(AUTH_TIMEOUT)
        if self.group is None:
            await self.close(code=CLOSE_UNAUTHORISED)

    async def _authenticate(self, token: str) -> None:
        user = await _user_for(token)
        if user is None:
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.user_id = user.pk
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        session_key = _session_key_of(token)
        if session_key:  # so that logging out on this device closes this socket too
            self.session_group = session_group(session_key)
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        if self._auth_timer:
            self._auth_timer.cancel()
        await self.send(text_data=json.dumps({"type": "ready", "data": {"user_id": str(user.pk)}}))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except json.JSONDecodeError:
            message = None
        if self.group is None:
            if isinstance(message, dict) and message.get("type") == "auth" and isinstance(message.get("token"), str):
                await self._authenticate(message["token"])
            else:
                await self.close(code=CLOSE_UNAUTHORISED)
            return
        if isinstance(message, dict) and message.get("type") == "ping":
            await self.send(text_data=json.dumps({"type": "pong"}))

    async def disconnect(self, code: int) -> None:
        if self._auth_timer:
            self._auth_timer.cancel()
        if self.group:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
                if self.session_group:
                    await self.channel_layer.group_discard(self.session_group, self.channel_name)
            except Exception:  # noqa: BLE001 - the layer may be down; the group expires anyway
                logger.warning("group_discard failed for %s", self.group)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # channels 4.2+ runs close_old_connections in the sync thread before EVERY handler: a thread hop
        # per pushed message, which pushes never need (they touch no database; what does goes through
        # database_sync_to_async, which closes old connections itself). In a fan-out to 1,000 sockets
        # that hop was most of daphne's work per message and serialised the burst behind one thread.
        if message["type"] == "push.event":
            await self.push_event(message)
        else:
            await super().dispatch(message)

    async def push_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"type": message["event"], "data": message.get("data", {})}, default=str))

    async def push_close(self, message: dict[str, Any]) -> None:
        await self.close(code=CLOSE_UNAUTHORISED)
