"""An OCR engine a deployment could add through OCR_ENGINES: here it returns fixed words."""

from __future__ import annotations

from PIL import Image

from modules.timetable_import.ocr_port import Word
from tests.modules.timetable_import.wordkit import place


class FakeEngine:
    name = "fake"
    calls: list[tuple[int, int]] = []

    def check(self) -> None:
        return None

    def recognise(self, image: Image.Image, *, page: int = 0) -> list[Word]:
        FakeEngine.calls.append(image.size)
        return (
            place("Monday 09:00-10:30 Organic Chemistry Room 1.02", 60, 100, page=page)
            + place("Tuesday 10:00-11:00", 60, 160, page=page)
            + place("Calcolus", 400, 160, conf=0.35, page=page)
            + place("Wed 14:00-15:00 CS 301 Algorithms", 60, 220, page=page)
        )
