"""Google Gemini through the google-genai SDK (the maintained successor of google-generativeai).

Streams with ``models.generate_content_stream`` (REST ``:streamGenerateContent?alt=sse``), sends the
system instruction and the bounded history, reads token counts from ``usage_metadata``. Retries 408,
429 and 5xx with back-off inside one overall timeout. ``base_url`` points the SDK elsewhere (a proxy,
or a local fake in tests).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

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


def _is_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


class GeminiEngine:
    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "gemini-2.5-flash",
        base_url: str | None = None,
        max_output_tokens: int = 800,
        temperature: float = 0.3,
    ) -> None:
        if not api_key:
            raise LLMError("GEMINI_API_KEY is not set")
        self.api_key = api_key
        self.model = model
        self.base_url = base_url
        self.max_output_tokens = max_output_tokens
        self.temperature = temperature

    def _client(self, timeout: float) -> genai.Client:
        options = types.HttpOptions(timeout=max(1, math.ceil(timeout * 1000)))  # milliseconds
        if self.base_url:
            options.base_url = self.base_url
        return genai.Client(api_key=self.api_key, http_options=options)

    def stream(self, system: str, history: list[Turn], user_text: str, *, timeout: float) -> Iterator[Chunk]:
        deadline = Deadline(timeout)
        contents = [
            types.Content(role="model" if t.role == "assistant" else "user", parts=[types.Part(text=t.text)]) for t in history
        ]
        contents.append(types.Content(role="user", parts=[types.Part(text=user_text)]))
        config = types.GenerateContentConfig(
            system_instruction=system, max_output_tokens=self.max_output_tokens, temperature=self.temperature
        )
        attempt = 0
        while True:
            attempt += 1
            deadline.check()
            emitted = False
            usage: Usage | None = None
            out_chars = 0
            try:
                client = self._client(deadline.remaining())
                for response in client.models.generate_content_stream(model=self.model, contents=contents, config=config):
                    deadline.check()
                    text = "".join(
                        part.text or ""
                        for cand in (response.candidates or [])[:1]
                        for part in ((cand.content.parts if cand.content else None) or [])
                        if not getattr(part, "thought", False)
                    )
                    if text:
                        emitted = True
                        out_chars += len(text)
                        yield Chunk(text=text)
                    meta = response.usage_metadata
                    if meta is not None and (meta.prompt_token_count or meta.candidates_token_count):
                        usage = Usage(int(meta.prompt_token_count or 0), int(meta.candidates_token_count or 0))
                if usage is None:
                    usage = Usage(estimate_tokens(system + "".join(t.text for t in history) + user_text), (out_chars + 3) // 4)
                yield Chunk(usage=usage)
                return
            except genai_errors.APIError as exc:
                if exc.code in RETRYABLE_STATUS and not emitted and attempt < MAX_ATTEMPTS:
                    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
                    backoff(attempt, deadline, retry_after=parse_retry_after(headers.get("Retry-After")))
                    continue
                raise LLMError(f"Gemini answered {exc.code}: {exc.message}", status=exc.code) from exc
            except LLMError:
                raise
            except Exception as exc:
                if _is_timeout(exc) or deadline.remaining() <= 0:
                    raise LLMTimeout(f"No complete answer within {timeout:g} s") from exc
                if emitted or attempt >= MAX_ATTEMPTS:
                    raise LLMError(f"Gemini transport error: {exc!r}") from exc
                backoff(attempt, deadline)
