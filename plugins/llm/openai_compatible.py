"""Any server speaking the OpenAI chat-completions API (a school's own Ollama or vLLM, or OpenAI itself).

POST {base_url}/chat/completions with ``stream: true`` and ``stream_options.include_usage``; the reply
arrives as server-sent events ``data: {chat.completion.chunk}`` ending with ``data: [DONE]``, usage in
the last chunk. Retries 408/429/5xx with back-off (honouring Retry-After) inside one overall timeout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from modules.coach.llm_port import (
    RETRYABLE_STATUS,
    Chunk,
    Deadline,
    LLMError,
    LLMTimeout,
    Turn,
    Usage,
    backoff,
    estimate_tokens,
    parse_retry_after,
)

MAX_ATTEMPTS = 4


class OpenAICompatibleEngine:
    name = "openai_compatible"

    def __init__(self, *, base_url: str, model: str, api_key: str = "", max_tokens: int = 800, temperature: float = 0.3) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.max_tokens = max_tokens
        self.temperature = temperature

    def _body(self, system: str, history: list[Turn], user_text: str) -> dict:
        messages = [{"role": "system", "content": system}]
        messages += [{"role": t.role, "content": t.text} for t in history]
        messages.append({"role": "user", "content": user_text})
        return {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def stream(self, system: str, history: list[Turn], user_text: str, *, timeout: float) -> Iterator[Chunk]:
        deadline = Deadline(timeout)
        body = self._body(system, history, user_text)
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        attempt = 0
        while True:
            attempt += 1
            deadline.check()
            emitted = False
            try:
                with (
                    httpx.Client(timeout=httpx.Timeout(deadline.remaining())) as client,
                    client.stream("POST", f"{self.base_url}/chat/completions", json=body, headers=headers) as res,
                ):
                    if res.status_code != 200:
                        res.read()
                        if res.status_code in RETRYABLE_STATUS and attempt < MAX_ATTEMPTS:
                            backoff(attempt, deadline, retry_after=parse_retry_after(res.headers.get("Retry-After")))
                            continue
                        raise LLMError(f"chat completions answered {res.status_code}: {res.text[:300]}", status=res.status_code)
                    usage = None
                    out_chars = 0
                    for line in res.iter_lines():
                        deadline.check()
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        try:
                            event = json.loads(data)
                        except json.JSONDecodeError as exc:
                            raise LLMError(f"malformed event: {data[:200]}") from exc
                        if event.get("error"):
                            raise LLMError(f"error event: {event['error']}")
                        for choice in event.get("choices") or []:
                            text = (choice.get("delta") or {}).get("content") or ""
                            if text:
                                emitted = True
                                out_chars += len(text)
                                yield Chunk(text=text)
                        if event.get("usage"):
                            u = event["usage"]
                            usage = Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))
                    if usage is None:  # a server that ignores include_usage: estimate
                        prompt = system + "".join(t.text for t in history) + user_text
                        usage = Usage(estimate_tokens(prompt), (out_chars + 3) // 4)
                    yield Chunk(usage=usage)
                    return
            except httpx.TimeoutException as exc:
                raise LLMTimeout(f"No complete answer within {timeout:g} s") from exc
            except httpx.TransportError as exc:
                # A connection that failed before any text can be retried; a broken stream cannot.
                if emitted or attempt >= MAX_ATTEMPTS:
                    raise LLMError(f"transport error: {exc!r}") from exc
                backoff(attempt, deadline)
