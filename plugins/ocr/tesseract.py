"""Tesseract 5 through pytesseract's image_to_data: words with boxes and confidence.

System packages (Debian/Ubuntu): apt-get install tesseract-ocr tesseract-ocr-deu tesseract-ocr-fra
tesseract-ocr-spa. Languages default to eng+deu+fra+spa, limited to those installed.
Settings: OCR_TESSERACT_LANGS ("eng+deu+fra+spa"), OCR_TESSERACT_CMD (path of the binary),
OCR_TESSERACT_PSM (page segmentation mode, default 11: sparse text, which suits tables).
"""

from __future__ import annotations

import shutil
from functools import lru_cache

from django.conf import settings
from PIL import Image

from modules.timetable_import.ocr_port import OcrUnavailable, Word

DEFAULT_LANGS = "eng+deu+fra+spa"


def _cmd() -> str:
    return getattr(settings, "OCR_TESSERACT_CMD", "") or shutil.which("tesseract") or ""


@lru_cache(maxsize=4)
def _installed_langs(cmd: str) -> tuple[str, ...]:
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = cmd
    return tuple(pytesseract.get_languages(config=""))


class TesseractEngine:
    name = "tesseract"

    def __init__(self) -> None:
        self.wanted = getattr(settings, "OCR_TESSERACT_LANGS", DEFAULT_LANGS)
        self.psm = int(getattr(settings, "OCR_TESSERACT_PSM", 11))

    def check(self) -> None:
        cmd = _cmd()
        if not cmd:
            raise OcrUnavailable("the tesseract binary is not installed (apt-get install tesseract-ocr)")
        try:
            import pytesseract  # noqa: F401
        except ImportError as exc:
            raise OcrUnavailable("the pytesseract package is not installed") from exc
        try:
            langs = _installed_langs(cmd)
        except Exception as exc:
            raise OcrUnavailable(f"tesseract could not run: {exc}") from exc
        if not self._langs(langs):
            raise OcrUnavailable(f"none of the languages {self.wanted} is installed for tesseract")

    def _langs(self, installed: tuple[str, ...]) -> str:
        return "+".join(lang for lang in self.wanted.split("+") if lang in installed)

    def languages(self) -> str:
        self.check()
        return self._langs(_installed_langs(_cmd()))

    def recognise(self, image: Image.Image, *, page: int = 0) -> list[Word]:
        import pytesseract

        langs = self.languages()
        pytesseract.pytesseract.tesseract_cmd = _cmd()
        data = pytesseract.image_to_data(
            image, lang=langs, config=f"--psm {self.psm} --oem 1", output_type=pytesseract.Output.DICT
        )
        words = []
        for i, text in enumerate(data["text"]):
            text = (text or "").strip()
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            words.append(
                Word(
                    text=text,
                    left=float(data["left"][i]),
                    top=float(data["top"][i]),
                    width=float(data["width"][i]),
                    height=float(data["height"][i]),
                    confidence=max(0.0, min(1.0, conf / 100.0)),
                    page=page,
                )
            )
        return words
