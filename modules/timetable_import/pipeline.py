"""File bytes -> words -> parsed classes. No database here; services.py wraps it in an import."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

from modules.timetable_import import images
from modules.timetable_import.ocr_port import OcrEngine, OcrUnavailable, Word
from modules.timetable_import.parser import ParseResult, parse

logger = logging.getLogger(__name__)

DEFAULT_ENGINES = {
    "tesseract": "plugins.ocr.tesseract:TesseractEngine",
    "google_vision": "plugins.ocr.google_vision:GoogleVisionEngine",
}


def engine_name() -> str:
    return getattr(settings, "OCR_ENGINE", "tesseract") or "tesseract"


def get_engine(name: str | None = None) -> OcrEngine:
    """The configured engine, loaded by dotted path from OCR_ENGINES (a deployment may add its own)."""
    name = name or engine_name()
    engines = {**DEFAULT_ENGINES, **getattr(settings, "OCR_ENGINES", {})}
    path = engines.get(name)
    if not path:
        raise OcrUnavailable(f"no OCR engine named {name!r} is configured (OCR_ENGINES)")
    try:
        cls = import_string(path.replace(":", "."))
    except ImportError as exc:
        raise OcrUnavailable(f"the OCR engine {name!r} could not be loaded: {exc}") from exc
    return cls()


@dataclass
class Recognised:
    words: list[Word]
    engine: str
    pages: int
    timings: dict[str, float] = field(default_factory=dict)


def recognise(
    data: bytes, kind: str, *, engine: OcrEngine | None = None, progress: Callable[[str, int], None] | None = None
) -> Recognised:
    """Words of every page. A PDF page with a text layer is read directly; the rest go through OCR."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    step = progress or (lambda stage, pct: None)
    pages = images.load_pdf(data) if kind == "pdf" else [images.PdfPage([], images.load_image(data))]
    timings["load"] = time.perf_counter() - started
    words: list[Word] = []
    used: list[str] = []
    for index, page in enumerate(pages):
        if page.image is None:
            words.extend(page.words)
            used.append("pdf_text")
            continue
        t0 = time.perf_counter()
        step("normalising", 10 + int(60 * index / len(pages)))
        image = images.normalise(page.image)
        timings["normalise"] = timings.get("normalise", 0.0) + time.perf_counter() - t0
        engine = engine or get_engine()
        engine.check()
        step("recognising", 20 + int(60 * index / len(pages)))
        t0 = time.perf_counter()
        words.extend(engine.recognise(image, page=index))
        timings["ocr"] = timings.get("ocr", 0.0) + time.perf_counter() - t0
        used.append(engine.name)
    return Recognised(words, "+".join(dict.fromkeys(used)), len(pages), timings)


def read_timetable(data: bytes, kind: str, *, engine: OcrEngine | None = None) -> tuple[Recognised, ParseResult]:
    rec = recognise(data, kind, engine=engine)
    return rec, parse(rec.words)
