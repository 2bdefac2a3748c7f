"""Authentication end to end through HTTP: allauth headless (app client, JWT) and our /api/v1."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from core.models import AuditLog, User

pytestmark = pytest.mark.django_db
BASE = "/_allauth/app/v1"
PASSWORD = "violet-Tangerine-42"


def post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(BASE + path, data=body, content_type="application/json", headers=headers)


def code_from_outbox() -> str:
    assert mail.outbox, "no e-mail was sent"
    match = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4}|[A-Z0-9]{6,8})\b", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def signup_and_verify(client: Client, email: str, role: str = "student") -> dict[str, Any]:
    res = post(client, "/auth/signup", {"email": email, "password": PASSWORD, "role": role, "first_name": "Ana"})
    assert res.status_code == 401, res.content  # pending flow: verify_email
    body = res.json()
    assert any(f["id"] == "verify_email" and f.get("is_pending") for f in body["data"]["flows"])
    session_token = body["meta"]["session_token"]
    res = post(client, "/auth/email/verify", {"key": code_from_outbox()}, **{"X-Session-Token": session_token})
    assert res.status_code == 200, res.content
    return res.json()["meta"]


def test_signup_verify_login_me_refresh_logout():
    client = Client()
    meta = signup_and_verify(client, "ana@example.test", role="tutor")
    access, refresh = meta["access_token"], meta["refresh_token"]

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200, me.content
    assert me.json()["email"] == "ana@example.test"
    assert me.json()["role"] == "tutor"
    assert me.json()["first_name"] == "Ana"

    # Log in again with the password: a second, independent session.
    res = post(client, "/auth/login", {"email": "ana@example.test", "password": PASSWORD})
    assert res.status_code == 200, res.content
    login_meta = res.json()["meta"]
    assert AuditLog.objects.filter(action="auth.login_succeeded", actor__email="ana@example.test").exists()

    # Refresh rotates: the new pair works, the old refresh token is refused.
    res = post(client, "/tokens/refresh", {"refresh_token": refresh})
    assert res.status_code == 200, res.content
    rotated = res.json()["data"]
    assert rotated["refresh_token"] != refresh
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}).status_code == 200
    again = post(client, "/tokens/refresh", {"refresh_token": refresh})
    assert again.status_code in (400, 401), again.content

    # Logout ends that session at once: its access token stops working (stateful validation).
    res = client.delete(BASE + "/auth/session", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert res.status_code == 401, res.content  # allauth answers 401: "no longer authenticated"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}).status_code == 401
    # ...while the other session is untouched.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {login_meta['access_token']}"}).status_code == 200


def test_signup_cannot_make_an_admin():
    client = Client()
    res = post(client, "/auth/signup", {"email": "mallory@example.test", "password": PASSWORD, "role": "admin"})
    assert res.status_code == 400, res.content
    assert not User.objects.filter(email="mallory@example.test").exists()


def test_weak_password_is_refused():
    client = Client()
    for weak in ["short1!", "password123", "mallory@example.test1"]:
        res = post(client, "/auth/signup", {"email": "mallory@example.test", "password": weak})
        assert res.status_code == 400, (weak, res.content)
    assert not User.objects.filter(email="mallory@example.test").exists()


def test_wrong_password_is_refused_and_audited(make_user):
    user = make_user("student", email="bo@example.test")
    client = Client()
    res = post(client, "/auth/login", {"email": "bo@example.test", "password": "not-the-password-1"})
    # allauth answers 400 email_password_mismatch (its clients expect it; see ARCHITECTURE.md)
    assert res.status_code == 400, res.content
    assert res.json()["errors"][0]["code"] == "email_password_mismatch"
    assert "access_token" not in res.content.decode()
    entry = AuditLog.objects.get(action="auth.login_failed")
    assert entry.target_id == str(user.pk)
    assert entry.details["email"] == "bo@example.test"
    assert entry.ip == "127.0.0.1"


def test_sixth_signup_from_one_ip_within_a_minute_is_throttled():
    client = Client()
    statuses = []
    for i in range(6):
        res = post(client, "/auth/signup", {"email": f"s{i}@example.test", "password": PASSWORD})
        statuses.append(res.status_code)
    assert statuses[:5] == [401] * 5, statuses
    assert statuses[5] == 429, statuses
    assert not User.objects.filter(email="s5@example.test").exists()


def test_inactive_user_token_is_refused(student, client_for):
    api = client_for(student)
    assert api.get("/me").status_code == 200
    student.is_active = False
    student.save()
    assert api.get("/me").status_code == 401


def test_soft_deleted_user_token_is_refused(student, client_for):
    from django.utils import timezone

    api = client_for(student)
    student.deleted_at = timezone.now()
    student.save()
    assert api.get("/me").status_code == 401


def test_password_change_revokes_other_sessions():
    client = Client()
    meta = signup_and_verify(client, "cy@example.test")
    other = post(client, "/auth/login", {"email": "cy@example.test", "password": PASSWORD}).json()["meta"]
    res = client.post(
        BASE + "/account/password/change",
        data={"current_password": PASSWORD, "new_password": "Another-strong-pass-77"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {meta['access_token']}"},
    )
    assert res.status_code == 200, res.content
    assert AuditLog.objects.filter(action="auth.password_changed").exists()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 401


def test_bearer_auth_falls_back_to_the_database_session_and_sees_changes_at_once(student, client_for):
    """The user row and the session are read from the cache; neither may serve a stale answer."""
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    api = client_for(student)
    assert api.get("/me").json()["role"] == "student"  # caches the user
    cache.clear()  # sessions survive in the database (cached_db): the token still works
    assert api.get("/me").status_code == 200
    student.role = "tutor"
    student.save()
    assert api.get("/me").json()["role"] == "tutor"  # the save dropped the cached row
    Session.objects.all().delete()
    cache.clear()
    assert api.get("/me").status_code == 401  # no session anywhere: revoked


def test_an_access_token_is_refused_once_it_expires_though_it_worked_before(student, settings):
    """Workers remember a token's checked signature; its expiry must still end it on time."""
    import time

    import jwt

    from core.testing import issue_access_token

    settings.HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = 1
    token = issue_access_token(student)
    client = Client()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
