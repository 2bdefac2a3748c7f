"""TOTP MFA with recovery codes, listing and ending sessions, and production-mode refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

from tests.core.test_auth_flow import BASE, PASSWORD, post, signup_and_verify

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238: HMAC-SHA1 over the 30-second counter, 6 digits."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_totp_activation_then_login_needs_a_second_factor():
    client = Client()
    meta = signup_and_verify(client, "mfa@example.test")
    res = client.get(BASE + "/account/authenticators/totp", headers=bearer(meta["access_token"]))
    assert res.status_code == 404  # not active yet; the response carries a fresh secret
    secret = res.json()["meta"]["secret"]
    # Changing authenticators asks for the password again (allauth's reauthentication).
    res = client.post(
        BASE + "/auth/reauthenticate",
        data={"password": PASSWORD},
        content_type="application/json",
        headers=bearer(meta["access_token"]),
    )
    assert res.status_code == 200, res.content
    res = client.post(
        BASE + "/account/authenticators/totp",
        data={"code": totp(secret)},
        content_type="application/json",
        headers=bearer(meta["access_token"]),
    )
    assert res.status_code == 200, res.content
    codes = client.get(BASE + "/account/authenticators/recovery-codes", headers=bearer(meta["access_token"])).json()["data"][
        "unused_codes"
    ]
    assert len(codes) >= 8

    # The password alone no longer logs in: the flow stops at mfa_authenticate, with no tokens.
    res = post(client, "/auth/login", {"email": "mfa@example.test", "password": PASSWORD})
    assert res.status_code == 401, res.content
    body = res.json()
    assert any(f["id"] == "mfa_authenticate" and f.get("is_pending") for f in body["data"]["flows"])
    assert "access_token" not in body["meta"]
    wrong = post(client, "/auth/2fa/authenticate", {"code": "000000"}, **{"X-Session-Token": body["meta"]["session_token"]})
    assert wrong.status_code == 400
    res = post(client, "/auth/2fa/authenticate", {"code": codes[0]}, **{"X-Session-Token": body["meta"]["session_token"]})
    assert res.status_code == 200, res.content
    assert client.get("/api/v1/me", headers=bearer(res.json()["meta"]["access_token"])).status_code == 200


def test_list_and_end_sessions():
    client = Client()
    first = signup_and_verify(client, "multi@example.test")
    second = post(client, "/auth/login", {"email": "multi@example.test", "password": PASSWORD}).json()["meta"]
    res = client.get(BASE + "/auth/sessions", headers=bearer(first["access_token"]))
    assert res.status_code == 200, res.content
    sessions = res.json()["data"]
    assert len(sessions) == 2
    other = next(s for s in sessions if not s["is_current"])
    res = client.delete(
        BASE + "/auth/sessions",
        data={"sessions": [other["id"]]},
        content_type="application/json",
        headers=bearer(first["access_token"]),
    )
    assert res.status_code == 200, res.content
    assert client.get("/api/v1/me", headers=bearer(second["access_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(first["access_token"])).status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize(
    "env, reason",
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 64, "DEBUG": "1"}, "DEBUG is on"),
        ({"SECRET_KEY": "x" * 64, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": "x" * 64, "ALLOWED_HOSTS": "api.example.com", "JWT_PRIVATE_KEY": ""}, "JWT_PRIVATE_KEY"),
    ],
)
def test_production_mode_refuses_insecure_settings(env, reason):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE")
    }
    proc = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, "PRODUCTION": "1", "TESTING": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Refusing to start in production" in proc.stderr and reason in proc.stderr
