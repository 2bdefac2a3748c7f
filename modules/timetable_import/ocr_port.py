"""The OCR port: what an engine plugin implements. Plugins import this module and their vendor SDK only.

An engine is a class with a no-argument constructor (settings are read inside) that turns one page image
into words with boxes. Both shipped engines (plugins/ocr/tesseract.py, plugins/ocr/google_vision.py)
return the same structure, so the parser is written and tested once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PIL import Image


@dataclass(frozen=True)
class Word:
    """One recognised word: its text, its box in pixels of the page image, confidence 0..1, page (0-based)."""

    text: str
    left: float
    top: float
    width: float
    height: float
    confidence: float = 1.0
    page: int = 0

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def cx(self) -> float:
        return self.left + self.width / 2

    @property
    def cy(self) -> float:
        return self.top + self.height / 2


class OcrUnavailable(Exception):
    """The engine cannot run here (binary missing, no credentials, service down). The message is for
    operators; the import shows the student a plain sentence."""


@runtime_checkable
class OcrEngine(Protocol):
    name: str

    def recognise(self, image: Image.Image, *, page: int = 0) -> list[Word]:
        """Words found on one page image (already normalised: upright, greyscale, contrasted)."""
        ...

    def check(self) -> None:
        """Raise OcrUnavailable when the engine cannot run (for readiness and a clear failure)."""
        ...
