"""Google Cloud Vision: document_text_detection, words with boxes and confidence from the full text
annotation (pages > blocks > paragraphs > words > symbols).

Credentials come from GOOGLE_APPLICATION_CREDENTIALS (a service-account JSON file), as Google's
libraries read it. Settings: OCR_GOOGLE_VISION_ENDPOINT (another endpoint, e.g. a regional one or a local
fake: "http://127.0.0.1:8085"), OCR_GOOGLE_VISION_ANONYMOUS (no credentials; only for such a fake),
OCR_GOOGLE_VISION_TIMEOUT (seconds, default 30), OCR_GOOGLE_VISION_LANGUAGES (hints, default en,de,fr,es).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from PIL import Image

from modules.timetable_import.ocr_port import OcrUnavailable, Word


class GoogleVisionEngine:
    name = "google_vision"

    def __init__(self) -> None:
        self.endpoint = getattr(settings, "OCR_GOOGLE_VISION_ENDPOINT", "")
        self.anonymous = bool(getattr(settings, "OCR_GOOGLE_VISION_ANONYMOUS", False))
        self.timeout = float(getattr(settings, "OCR_GOOGLE_VISION_TIMEOUT", 30))
        self.languages = list(getattr(settings, "OCR_GOOGLE_VISION_LANGUAGES", ["en", "de", "fr", "es"]))

    def check(self) -> None:
        try:
            from google.cloud import vision  # noqa: F401
        except ImportError as exc:
            raise OcrUnavailable("the google-cloud-vision package is not installed") from exc
        if self.anonymous:
            return
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            google.auth.default()
        except DefaultCredentialsError as exc:
            raise OcrUnavailable(f"no Google credentials (set GOOGLE_APPLICATION_CREDENTIALS): {exc}") from exc

    def _client(self) -> Any:
        from google.cloud import vision

        options = {"api_endpoint": self.endpoint} if self.endpoint else None
        credentials = None
        if self.anonymous:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
        return vision.ImageAnnotatorClient(transport="rest", client_options=options, credentials=credentials)

    def recognise(self, image: Image.Image, *, page: int = 0) -> list[Word]:
        from google.api_core import exceptions as gexc
        from google.cloud import vision

        self.check()
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        try:
            response = self._client().document_text_detection(
                image=vision.Image(content=buf.getvalue()),
                image_context=vision.ImageContext(language_hints=self.languages),
                timeout=self.timeout,
            )
        except (gexc.GoogleAPIError, OSError) as exc:
            raise OcrUnavailable(f"Google Vision did not answer: {exc}") from exc
        if response.error.message:
            raise OcrUnavailable(f"Google Vision refused the image: {response.error.message}")
        return words_from_annotation(response.full_text_annotation, page=page)


def words_from_annotation(annotation: Any, *, page: int = 0) -> list[Word]:
    """Flatten a TextAnnotation into words; a word's confidence falls back to its paragraph's."""
    words: list[Word] = []
    for vpage in annotation.pages:
        for block in vpage.blocks:
            for paragraph in block.paragraphs:
                for word in paragraph.words:
                    text = "".join(symbol.text for symbol in word.symbols).strip()
                    vertices = list(word.bounding_box.vertices)
                    if not text or not vertices:
                        continue
                    xs = [v.x for v in vertices]
                    ys = [v.y for v in vertices]
                    confidence = word.confidence or paragraph.confidence or block.confidence or 1.0
                    words.append(
                        Word(
                            text=text,
                            left=float(min(xs)),
                            top=float(min(ys)),
                            width=float(max(xs) - min(xs)),
                            height=float(max(ys) - min(ys)),
                            confidence=max(0.0, min(1.0, float(confidence))),
                            page=page,
                        )
                    )
    return words
