"""Choosing the engine by configuration (COACH_ENGINE), loading plugins by dotted path, never by import."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import ServiceUnavailable
from modules.coach.grounding import Grounding
from modules.coach.llm_port import Engine
from modules.coach.offline import OfflineEngine

OFFLINE = "offline"
OFF = "off"
DEFAULT_ENGINES: dict[str, str] = {
    "gemini": "plugins.llm.gemini:GeminiEngine",
    "openai_compatible": "plugins.llm.openai_compatible:OpenAICompatibleEngine",
}


def engine_name() -> str:
    return (getattr(settings, "COACH_ENGINE", OFFLINE) or OFFLINE).strip().lower()


def timeout_seconds() -> float:
    return float(getattr(settings, "COACH_TIMEOUT_SECONDS", 30))


def engine_options(name: str) -> dict[str, Any]:
    """Constructor options for a plugin, from the documented settings (COACH_ENGINE_OPTIONS[name] wins)."""
    model = getattr(settings, "COACH_MODEL", "") or ""
    if name == "gemini":
        base = {
            "api_key": getattr(settings, "GEMINI_API_KEY", "") or "",
            "model": model or "gemini-2.5-flash",
            "base_url": getattr(settings, "GEMINI_BASE_URL", "") or None,
        }
    elif name == "openai_compatible":
        base = {
            "base_url": getattr(settings, "OPENAI_BASE_URL", "") or "http://127.0.0.1:11434/v1",
            "api_key": getattr(settings, "OPENAI_API_KEY", "") or "",
            "model": getattr(settings, "OPENAI_MODEL", "") or model or "llama3.1",
        }
    else:
        base = {}
    return {**base, **(getattr(settings, "COACH_ENGINE_OPTIONS", {}) or {}).get(name, {})}


def engine_paths() -> dict[str, str]:
    return {**DEFAULT_ENGINES, **(getattr(settings, "COACH_ENGINES", {}) or {})}


def is_off() -> bool:
    return engine_name() == OFF


def get_engine(grounding: Grounding) -> Engine:
    name = engine_name()
    if name == OFFLINE:
        return OfflineEngine(grounding)
    if name == OFF:
        raise ServiceUnavailable("The study coach is switched off on this platform", code="coach_off")
    path = engine_paths().get(name)
    if not path:
        raise ServiceUnavailable(f"The coach engine {name!r} is not configured", code="coach_engine_unknown")
    cls = import_string(path.replace(":", "."))
    return cls(**engine_options(name))
