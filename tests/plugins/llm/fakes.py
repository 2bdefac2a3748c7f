"""Local fake LLM servers that speak the real wire formats (Gemini REST streamGenerateContent with
alt=sse, and OpenAI chat completions with server-sent events). They run on 127.0.0.1 in a thread and
record every request, so tests see exactly what the adapters sent, and script failures: a status
to answer first (429, 500...), or a hang until the test ends."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: deque[tuple[str, Any]] = deque()  # ("status", code) / ("hang", None)
        self.reply_chunks: list[str] = ["Hello ", "from ", "the fake."]
        self.tokens = (120, 7)
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "json": json.loads(body or b"{}")}
                )
                step = owner.script.popleft() if owner.script else ("ok", None)
                if step[0] == "hang":
                    owner.release.wait(30)
                    self.close_connection = True  # drop the connection without an answer
                    return
                if step[0] == "status":
                    payload = json.dumps(owner.error_body(step[1])).encode()
                    self.send_response(step[1])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    if step[1] == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for event in owner.events():
                    self.wfile.write(event.encode())
                    self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # subclasses speak one API
    def events(self) -> list[str]:
        raise NotImplementedError

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": {"code": status, "message": "scripted failure", "status": "UNAVAILABLE"}}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeGemini(FakeServer):
    """POST /v1beta/models/{model}:streamGenerateContent?alt=sse -> "data: {GenerateContentResponse}\\n\\n"."""

    def events(self) -> list[str]:
        out = []
        n = len(self.reply_chunks)
        for i, text in enumerate(self.reply_chunks):
            chunk: dict[str, Any] = {
                "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}],
                "modelVersion": "gemini-2.5-flash",
                "responseId": "fake-1",
            }
            if i == n - 1:
                chunk["candidates"][0]["finishReason"] = "STOP"
                chunk["usageMetadata"] = {
                    "promptTokenCount": self.tokens[0],
                    "candidatesTokenCount": self.tokens[1],
                    "totalTokenCount": sum(self.tokens),
                }
            out.append(f"data: {json.dumps(chunk)}\r\n\r\n")
        return out


class FakeOpenAI(FakeServer):
    """POST {base}/chat/completions with stream=true -> "data: {chat.completion.chunk}\\n\\n" ... "data: [DONE]"."""

    def events(self) -> list[str]:
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": "llama3.1"}
        out = [
            f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {'role': 'assistant', 'content': ''}, 'finish_reason': None}]})}\n\n"
        ]
        for text in self.reply_chunks:
            out.append(
                f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {'content': text}, 'finish_reason': None}]})}\n\n"
            )
        out.append(f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}\n\n")
        usage = {"prompt_tokens": self.tokens[0], "completion_tokens": self.tokens[1], "total_tokens": sum(self.tokens)}
        out.append(f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n")
        out.append("data: [DONE]\n\n")
        return out

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": {"message": "scripted failure", "type": "server_error", "code": status}}
