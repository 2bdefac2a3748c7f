"""End to end against a real daphne on loopback with the embedded defaults and the demo data:
login over HTTP, a WebSocket from another process's point of view, and a message that arrives live."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=20) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture(scope="module")
def daphne_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("live")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER", "TESTING")}
    env.update({"SQLITE_PATH": str(tmp / "db.sqlite3"), "MEDIA_ROOT": str(tmp / "media"), "DEBUG": "0", "LOG_LEVEL": "WARNING"})
    for args in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    daphne = str(Path(sys.executable).parent / "daphne")
    proc = subprocess.Popen(
        [daphne, "-b", "127.0.0.1", "-p", str(port), "settings.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/health", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(proc.stderr.read().decode()[-2000:])
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def login(base: str, email: str) -> str:
    status, body = call(base, "POST", "/_allauth/app/v1/auth/login", {"email": email, "password": "demo-pass-2024!"})
    assert status == 200, body
    return body["meta"]["access_token"]


def test_demo_data_login_and_profile(daphne_server):
    token = login(daphne_server, "student1@demo.local")
    status, me = call(daphne_server, "GET", "/api/v1/me", token=token)
    assert status == 200 and me["email"] == "student1@demo.local"
    status, problem = call(daphne_server, "GET", "/api/v1/me", token="not-a-token")
    assert status == 401 and problem["code"] == "not_authenticated"


def test_websocket_over_a_real_server(daphne_server):
    websockets = pytest.importorskip("websockets")
    token = login(daphne_server, "student2@demo.local")
    ws_url = daphne_server.replace("http://", "ws://") + "/ws/"

    async def scenario() -> None:
        async with websockets.connect(f"{ws_url}?token={token}") as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await ws.recv())["type"] == "pong"
        async with websockets.connect(f"{ws_url}?token=forged") as bad:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await bad.recv()
            assert closed.value.rcvd.code == 4401

    asyncio.run(scenario())


def test_a_message_arrives_live_on_the_recipients_socket(daphne_server):
    websockets = pytest.importorskip("websockets")
    student = login(daphne_server, "student1@demo.local")
    tutor = login(daphne_server, "tutor1@demo.local")
    status, tutor_me = call(daphne_server, "GET", "/api/v1/me", token=tutor)
    ws_url = daphne_server.replace("http://", "ws://") + "/ws/"

    async def scenario() -> None:
        async with websockets.connect(f"{ws_url}?token={tutor}") as ws:
            await ws.recv()  # ready
            status, sent = await asyncio.to_thread(
                call,
                daphne_server,
                "POST",
                "/api/v1/messaging/messages",
                {"recipient_id": tutor_me["id"], "body": "Can we start at 5?"},
                student,
            )
            assert status == 201, sent
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            assert event["type"] == "new_message"
            assert "Can we start at 5?" in json.dumps(event["data"])

    asyncio.run(scenario())
