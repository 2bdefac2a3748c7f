"""The engine plugins against local fake servers speaking each API's real wire format."""

from __future__ import annotations

import re
import time

import pytest

from modules.coach.llm_port import Chunk, LLMError, LLMTimeout, Turn
from plugins.llm.gemini import GeminiEngine
from plugins.llm.openai_compatible import OpenAICompatibleEngine

HISTORY = [Turn("user", "Earlier question"), Turn("assistant", "Earlier answer")]


def run(engine, timeout=5.0) -> tuple[str, list[Chunk]]:
    chunks = list(engine.stream("SYSTEM: only study matters", HISTORY, "How can I improve?", timeout=timeout))
    return "".join(c.text for c in chunks), chunks


def openai(server) -> OpenAICompatibleEngine:
    return OpenAICompatibleEngine(base_url=server.url + "/v1", model="llama3.1", api_key="school-key")


def gemini(server) -> GeminiEngine:
    return GeminiEngine(api_key="test-key", model="gemini-2.5-flash", base_url=server.url)


# --- openai_compatible ------------------------------------------------------------------------------


def test_openai_streams_deltas_in_order_with_usage(fake_openai):
    fake_openai.reply_chunks = ["Study ", "networks ", "daily."]
    fake_openai.tokens = (321, 9)
    text, chunks = run(openai(fake_openai))
    assert [c.text for c in chunks if c.text] == ["Study ", "networks ", "daily."]
    assert text == "Study networks daily."
    assert chunks[-1].usage is not None and (chunks[-1].usage.tokens_in, chunks[-1].usage.tokens_out) == (321, 9)
    req = fake_openai.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer school-key"
    body = req["json"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "llama3.1"
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == "SYSTEM: only study matters"
    assert body["messages"][-1]["content"] == "How can I improve?"


def test_openai_retries_a_429_then_answers(fake_openai):
    fake_openai.script.append(("status", 429))
    text, _ = run(openai(fake_openai))
    assert text == "Hello from the fake."
    assert len(fake_openai.requests) == 2


def test_openai_retries_5xx_but_gives_up_on_400(fake_openai):
    fake_openai.script.extend([("status", 503), ("status", 500)])
    assert run(openai(fake_openai))[0] == "Hello from the fake."
    assert len(fake_openai.requests) == 3
    fake_openai.script.append(("status", 400))
    with pytest.raises(LLMError) as info:
        run(openai(fake_openai))
    assert info.value.status == 400
    assert len(fake_openai.requests) == 4  # no retry of a client error


def test_openai_hang_hits_the_timeout(fake_openai):
    fake_openai.script.append(("hang", None))
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        run(openai(fake_openai), timeout=0.6)
    assert time.monotonic() - started < 3


def test_openai_unreachable_server_is_an_error():
    engine = OpenAICompatibleEngine(base_url="http://127.0.0.1:9/v1", model="m")
    with pytest.raises(LLMError):
        run(engine, timeout=1.5)


# --- gemini (google-genai SDK pointed at the fake) ----------------------------------------------------


def test_gemini_streams_through_the_sdk_with_usage_metadata(fake_gemini):
    fake_gemini.reply_chunks = ["Review ", "subnetting ", "twice a week."]
    fake_gemini.tokens = (400, 12)
    text, chunks = run(gemini(fake_gemini))
    assert [c.text for c in chunks if c.text] == ["Review ", "subnetting ", "twice a week."]
    assert text == "Review subnetting twice a week."
    assert (chunks[-1].usage.tokens_in, chunks[-1].usage.tokens_out) == (400, 12)
    req = fake_gemini.requests[0]
    # The SDK picks the API version (v1 or v1beta); the method and SSE mode are the wire contract.
    assert re.fullmatch(r"/v1(beta)?/models/gemini-2\.5-flash:streamGenerateContent\?alt=sse", req["path"]), req["path"]
    assert req["headers"].get("x-goog-api-key") == "test-key"
    body = req["json"]
    assert body["systemInstruction"]["parts"][0]["text"] == "SYSTEM: only study matters"
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][-1]["parts"][0]["text"] == "How can I improve?"


def test_gemini_retries_a_429_then_answers(fake_gemini):
    fake_gemini.script.append(("status", 429))
    text, _ = run(gemini(fake_gemini))
    assert text == "Hello from the fake."
    assert len(fake_gemini.requests) == 2


def test_gemini_does_not_retry_a_403(fake_gemini):
    fake_gemini.script.append(("status", 403))
    with pytest.raises(LLMError) as info:
        run(gemini(fake_gemini))
    assert info.value.status == 403
    assert len(fake_gemini.requests) == 1


def test_gemini_hang_hits_the_timeout(fake_gemini):
    fake_gemini.script.append(("hang", None))
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        run(gemini(fake_gemini), timeout=1.0)
    assert time.monotonic() - started < 4


def test_gemini_needs_a_key():
    with pytest.raises(LLMError):
        GeminiEngine(api_key="")
