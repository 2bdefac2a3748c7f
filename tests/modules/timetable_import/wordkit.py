"""Build word lists as an OCR engine would return them, for parser tests without OCR."""

from __future__ import annotations

from modules.timetable_import.ocr_port import Word

CHAR_W = 11.0
CHAR_H = 20.0


def place(text: str, x: float, y: float, *, conf: float = 0.95, page: int = 0, h: float = CHAR_H) -> list[Word]:
    """The words of ``text`` on one line starting at (x, y): one space is a third of a line height."""
    words = []
    for token in text.split():
        width = len(token) * CHAR_W
        words.append(Word(token, x, y, width, h, conf, page))
        x += width + CHAR_W
    return words


def cell(lines: list[str], cx: float, top: float, **kw) -> list[Word]:
    """Centred lines of a table cell, one under the other (line pitch 1.3 x height)."""
    out = []
    for i, line in enumerate(lines):
        width = len(line) * CHAR_W
        out += place(line, cx - width / 2, top + i * CHAR_H * 1.3, **kw)
    return out
