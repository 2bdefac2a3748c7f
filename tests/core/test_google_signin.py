"""Google sign-in with an id_token (allauth's provider token flow), against a local certificate endpoint."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.test import Client

from core.models import User

pytestmark = pytest.mark.django_db
KID = "test-kid-1"
CLIENT_ID = settings.SOCIALACCOUNT_PROVIDERS["google"]["APPS"][0]["client_id"]


@pytest.fixture(scope="module")
def google_keys() -> Iterator[rsa.RSAPrivateKey]:
    """Serve {kid: PEM certificate} where allauth looks for Google's certificates, like Google does."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.google.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    body = json.dumps({KID: cert.public_bytes(serialization.Encoding.PEM).decode()}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    url = urlparse(settings.SOCIALACCOUNT_PROVIDERS["google"]["CERTS_URL"])
    server = HTTPServer((url.hostname, url.port), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key
    server.shutdown()


def id_token(key: rsa.RSAPrivateKey, **claims: object) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": CLIENT_ID,
        "sub": "10987654321",
        "email": "gina@example.test",
        "email_verified": True,
        "given_name": "Gina",
        "family_name": "Google",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": KID})


def provider_token(token: str) -> object:
    return Client().post(
        "/_allauth/app/v1/auth/provider/token",
        data={"provider": "google", "process": "login", "token": {"client_id": CLIENT_ID, "id_token": token}},
        content_type="application/json",
    )


def test_google_id_token_signs_in_a_new_student(google_keys):
    res = provider_token(id_token(google_keys))
    assert res.status_code == 200, res.content
    access = res.json()["meta"]["access_token"]
    me = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {access}"}).json()
    assert me["email"] == "gina@example.test" and me["role"] == "student" and me["first_name"] == "Gina"
    # The same Google account signs in again to the same user.
    assert provider_token(id_token(google_keys)).status_code == 200
    assert User.objects.filter(email="gina@example.test").count() == 1


def test_forged_or_foreign_tokens_are_refused(google_keys):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (
        id_token(other_key),  # not signed by Google's key
        id_token(google_keys, aud="someone-elses-client"),
        id_token(google_keys, exp=int(time.time()) - 60),
        id_token(google_keys, iss="https://evil.example"),
    ):
        res = provider_token(token)
        assert res.status_code == 400, res.content
    assert not User.objects.filter(email="gina@example.test").exists()
