"""A local fake of Stripe's REST API (the parts the adapter uses), and Stripe's webhook signing.

It speaks Stripe's wire format: form-encoded requests (``metadata[payment_id]=...``), JSON objects
with ``id``/``object``, Stripe-shaped errors, and idempotency: a repeated Idempotency-Key replays the
first response. Every request is recorded with its headers for the tests to inspect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]


@dataclass
class FakeStripe:
    server: ThreadingHTTPServer | None = None
    requests: list[Recorded] = field(default_factory=list)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    replay: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    #: queue of (status, body, headers) answers to give before the normal behaviour
    faults: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(
        self, method: str, path: str, headers: dict[str, str], params: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.lock:
            self.requests.append(Recorded(method, path, headers, params))
            if headers.get("authorization", "") != "Bearer sk_test_fake":
                return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}, {}
            if self.faults:
                return self.faults.pop(0)
            key = headers.get("idempotency-key")
            if key and key in self.replay:
                status, body = self.replay[key]
                return status, body, {"idempotent-replayed": "true"}
            status, body = self._route(method, path, params)
            if key:
                self.replay[key] = (status, body)
            return status, body, {}

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/payment_intents":
            pid = f"pi_{secrets.token_hex(12)}"
            intent = {
                "id": pid,
                "object": "payment_intent",
                "amount": int(params["amount"]),
                "currency": params["currency"],
                "status": "requires_payment_method",
                "client_secret": f"{pid}_secret_{secrets.token_hex(8)}",
                "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
                "livemode": False,
            }
            self.intents[pid] = intent
            return 200, intent
        if method == "POST" and path == "/v1/refunds":
            intent = self.intents.get(params.get("payment_intent", ""))
            if intent is None:
                return 404, {
                    "error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such payment_intent"}
                }
            amount = int(params.get("amount", intent["amount"]))
            already = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"])
            if amount + already > intent["amount"]:
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "charge_already_refunded",
                        "message": "Refund exceeds charge",
                    }
                }
            rid = f"re_{secrets.token_hex(12)}"
            refund = {
                "id": rid,
                "object": "refund",
                "amount": amount,
                "payment_intent": intent["id"],
                "status": "succeeded",
                "currency": intent["currency"],
            }
            self.refunds[rid] = refund
            return 200, refund
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method}: {path})"}}

    def posts(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]


def start() -> FakeStripe:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            params = dict(parse_qsl(raw or query, keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, extra = fake.handle(self.command, path, headers, params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    return fake


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme: ``t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()
