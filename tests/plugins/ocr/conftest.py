from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


class FakeVision:
    """A loopback HTTP server answering POST /v1/images:annotate with a stored response."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.body: bytes = (DATA / "vision_annotate_timetable.json").read_bytes()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": payload})
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(fake.body)))
                self.end_headers()
                self.wfile.write(fake.body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fail_with(self, status: int, message: str) -> None:
        self.status = status
        self.body = json.dumps({"error": {"code": status, "message": message, "status": "PERMISSION_DENIED"}}).encode()


@pytest.fixture
def fake_vision(settings) -> Iterator[FakeVision]:
    fake = FakeVision()
    fake.thread.start()
    settings.OCR_GOOGLE_VISION_ENDPOINT = fake.endpoint
    settings.OCR_GOOGLE_VISION_ANONYMOUS = True
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
