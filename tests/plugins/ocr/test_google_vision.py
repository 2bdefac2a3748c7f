"""google_vision against a stored images:annotate response in Vision's REST wire format (camelCase,
zero coordinates omitted as proto3 JSON does), served by a loopback fake the real client is pointed at."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from modules.timetable_import.ocr_port import OcrEngine, OcrUnavailable
from modules.timetable_import.parser import parse
from plugins.ocr.google_vision import GoogleVisionEngine


def _page() -> Image.Image:
    return Image.new("L", (1800, 1337), 255)


def test_words_with_boxes_and_confidence_from_the_full_text_annotation(fake_vision):
    engine = GoogleVisionEngine()
    assert isinstance(engine, OcrEngine)
    words = engine.recognise(_page(), page=0)
    request = fake_vision.requests[0]
    assert request["path"].split("?")[0] == "/v1/images:annotate"
    sent = request["json"]["requests"][0]
    assert sent["features"] in ([{"type": "DOCUMENT_TEXT_DETECTION"}], [{"type": 11}])  # enum by name or number
    assert Image.open(io.BytesIO(base64.b64decode(sent["image"]["content"]))).size == (1800, 1337)
    assert sent["imageContext"]["languageHints"] == ["en", "de", "fr", "es"]
    assert "authorization" not in {k.lower() for k in request["headers"]}  # anonymous, for the fake only

    monday = next(w for w in words if w.text == "Monday")
    assert monday.left > 250 and monday.width > 50 and monday.height > 10 and 0.9 < monday.confidence <= 1
    assert {"Algorithms", "MATH-101", "B-204", "08:00"} <= {w.text for w in words}


def test_the_parser_reads_the_same_timetable_from_vision_words(fake_vision):
    classes = parse(GoogleVisionEngine().recognise(_page())).classes
    assert sorted((c.day_of_week, c.start_time, c.end_time, c.course_name) for c in classes) == [
        (0, "09:00", "10:00", "Algorithms"),
        (0, "12:00", "13:00", "Linear Algebra"),
        (1, "08:00", "09:00", "Mechanics"),
        (2, "10:00", "11:00", "Databases"),
        (3, "13:00", "14:00", "Microeconomics"),
        (4, "09:00", "10:00", "World History"),
    ]


def test_an_error_from_vision_is_unavailable_not_a_crash(fake_vision):
    fake_vision.fail_with(403, "Cloud Vision API has not been used in project 1 before or it is disabled.")
    with pytest.raises(OcrUnavailable, match="Google Vision"):
        GoogleVisionEngine().recognise(_page())


def test_without_credentials_the_engine_says_so(settings, monkeypatch, tmp_path):
    settings.OCR_GOOGLE_VISION_ANONYMOUS = False
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(OcrUnavailable, match="GOOGLE_APPLICATION_CREDENTIALS"):
        GoogleVisionEngine().check()


@pytest.mark.django_db
def test_an_import_through_the_api_with_google_vision(
    fake_vision, settings, student, client_for, django_capture_on_commit_callbacks, tmp_path
):
    from tests.modules.timetable_import import corpus

    settings.OCR_ENGINE = "google_vision"
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    api = client_for(student)
    sample = corpus.columns_grid()
    with django_capture_on_commit_callbacks(execute=True):
        res = api.post("/timetable-import/imports", files={"file": SimpleUploadedFile(sample.filename, sample.data)})
    assert res.status_code == 202, res.content
    job = api.get(f"/timetable-import/imports/{res.json()['id']}").json()
    assert job["status"] == "needs_review" and job["engine"] == "google_vision"
    assert len(job["proposals"]) == 6
