"""From uploaded bytes to page images fit for OCR, or to words from a PDF's text layer.

Images are normalised: EXIF orientation applied, greyscale, uneven light flattened, small rotations
of a photo undone (projection-profile deskew), contrast stretched, small images scaled up.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from core.files import open_image
from modules.timetable_import.ocr_port import Word

MAX_PAGES = 5
PDF_RENDER_DPI = 300
TARGET_MIN_WIDTH = 1800
TARGET_MAX_SIDE = 4000


class TooManyPages(Exception):
    pass


class UnreadableFile(Exception):
    pass


@dataclass
class PdfPage:
    words: list[Word]  # from the text layer (empty when the page is a scan)
    image: Image.Image | None  # rendered when there is no usable text layer


def pdf_page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableFile("the PDF could not be opened") from exc
    try:
        return len(pdf)
    finally:
        pdf.close()


def _text_layer_words(page, page_index: int, scale: float) -> list[Word]:
    """Words of a PDF page from its text layer, in pixels at ``scale`` (top-left origin)."""
    textpage = page.get_textpage()
    try:
        height = page.get_height()
        words: list[Word] = []
        current: list[tuple[str, tuple[float, float, float, float]]] = []

        def flush() -> None:
            if not current:
                return
            text = "".join(c for c, _ in current)
            left = min(b[0] for _, b in current)
            bottom = min(b[1] for _, b in current)
            right = max(b[2] for _, b in current)
            top = max(b[3] for _, b in current)
            words.append(
                Word(text, left * scale, (height - top) * scale, (right - left) * scale, (top - bottom) * scale, 1.0, page_index)
            )
            current.clear()

        for i in range(textpage.count_chars()):
            ch = textpage.get_text_range(i, 1)
            if not ch or ch.isspace() or ch in "\r\n\x00\ufffe":
                flush()
                continue
            box = textpage.get_charbox(i)
            if current and box[0] - current[-1][1][2] > 0.6 * max(1.0, *(b[3] - b[1] for _, b in current)):
                flush()  # a wide gap without a space character: a new word
            current.append((ch, box))
        flush()
        return words
    finally:
        textpage.close()


def load_pdf(data: bytes) -> list[PdfPage]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableFile("the PDF could not be opened") from exc
    try:
        if len(pdf) > MAX_PAGES:
            raise TooManyPages(f"the PDF has {len(pdf)} pages; at most {MAX_PAGES} are read")
        pages = []
        scale = PDF_RENDER_DPI / 72
        for index in range(len(pdf)):
            page = pdf[index]
            words = _text_layer_words(page, index, scale)
            if sum(len(w.text) for w in words) >= 20:
                pages.append(PdfPage(words, None))
            else:
                bitmap = page.render(scale=scale, grayscale=True)
                pages.append(PdfPage([], bitmap.to_pil().convert("L")))
            page.close()
        return pages
    finally:
        pdf.close()


def load_image(data: bytes) -> Image.Image:
    """Decode (under core's pixel limit, EXIF orientation applied); HEIC only where Pillow reads it."""
    return open_image(data)


def _flatten_light(grey: Image.Image) -> Image.Image:
    """Divide by a heavily blurred copy: a shadow or a bright corner becomes even white paper."""
    # the window (about 1/30 of the width) must be wider than the boldest strokes, or text is taken for shadow
    factor = max(8, grey.width // 150)
    small = grey.resize((max(1, grey.width // factor), max(1, grey.height // factor)), Image.Resampling.BOX)
    background = (
        small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(3)).resize(grey.size, Image.Resampling.BILINEAR)
    )
    g = np.asarray(grey, dtype=np.float32)
    b = np.asarray(background, dtype=np.float32) + 1.0
    out = np.clip(g / b * 255.0, 0, 255).astype(np.uint8)
    return Image.fromarray(out, mode="L")


def estimate_skew(grey: Image.Image, *, limit: float = 6.0, step: float = 0.25) -> float:
    """The rotation (degrees, counter-clockwise positive) that makes text lines horizontal."""
    small = grey.copy()
    small.thumbnail((900, 900))
    arr = np.asarray(small, dtype=np.float32)
    ink = Image.fromarray(((arr < arr.mean() - 0.5 * arr.std()) * 255).astype(np.uint8))
    best_angle, best_score = 0.0, -1.0
    angle = -limit
    while angle <= limit + 1e-9:
        rotated = np.asarray(ink.rotate(angle, resample=Image.Resampling.NEAREST, expand=False), dtype=np.float32)
        profile = rotated.sum(axis=1)
        score = float(np.var(profile))
        if score > best_score:
            best_angle, best_score = angle, score
        angle += step
    return best_angle


def normalise(image: Image.Image) -> Image.Image:
    """Greyscale, even light, upright, contrasted, at a size Tesseract reads well."""
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    grey = image.convert("L")
    longest = max(grey.size)
    if longest > TARGET_MAX_SIDE:
        grey.thumbnail((TARGET_MAX_SIDE, TARGET_MAX_SIDE), Image.Resampling.LANCZOS)
    if grey.width < TARGET_MIN_WIDTH:
        factor = TARGET_MIN_WIDTH / grey.width
        grey = grey.resize((TARGET_MIN_WIDTH, round(grey.height * factor)), Image.Resampling.LANCZOS)
    grey = _flatten_light(grey)
    angle = estimate_skew(grey)
    if abs(angle) >= 0.3:
        grey = grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    grey = ImageOps.autocontrast(grey, cutoff=1)
    return remove_rules(grey)


def _long_runs(ink: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels lying on a straight run of ink at least ``length`` long along ``axis``."""
    ink = np.moveaxis(ink, axis, -1).astype(np.int32)
    n = ink.shape[-1]
    if n < length:
        return np.zeros_like(np.moveaxis(ink, -1, axis), dtype=bool)
    cs = np.concatenate([np.zeros(ink.shape[:-1] + (1,), np.int32), np.cumsum(ink, axis=-1)], axis=-1)
    full = (cs[..., length:] - cs[..., :-length]) == length  # window [i, i+length) all ink
    starts = np.concatenate([np.zeros(full.shape[:-1] + (1,), np.int32), np.cumsum(full, axis=-1)], axis=-1)
    # pixel j is covered when some window starting in [j-length+1, j] is full
    idx = np.arange(n)
    hi = np.minimum(idx, full.shape[-1] - 1) + 1
    lo = np.clip(idx - length + 1, 0, full.shape[-1])
    covered = (starts[..., hi] - starts[..., lo]) > 0
    return np.moveaxis(covered, -1, axis)


def remove_rules(grey: Image.Image) -> Image.Image:
    """Whiten the ruled lines of a table: Tesseract reads text touching a rule badly, or reads the rule."""
    arr = np.asarray(grey).copy()
    ink = arr < 140
    length = max(40, min(arr.shape) // 12)
    mask = _long_runs(ink, length, 1) | _long_runs(ink, length, 0)
    grown = mask.copy()
    for shift in (1, 2):
        grown[shift:, :] |= mask[:-shift, :]
        grown[:-shift, :] |= mask[shift:, :]
        grown[:, shift:] |= mask[:, :-shift]
        grown[:, :-shift] |= mask[:, shift:]
    arr[grown] = 255
    return Image.fromarray(arr, mode="L")


def image_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
