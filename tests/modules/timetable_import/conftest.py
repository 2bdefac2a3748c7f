from __future__ import annotations

import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.modules.timetable_import import corpus

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="the tesseract binary is not installed")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


@pytest.fixture(scope="session")
def pdf_sample() -> corpus.Sample:
    return corpus.pdf_text_layer()


def upload(sample: corpus.Sample) -> SimpleUploadedFile:
    return SimpleUploadedFile(sample.filename, sample.data)


@pytest.fixture
def run_upload(django_capture_on_commit_callbacks):
    """POST a file and let the task run (django-q2 runs inline in tests, after commit)."""

    def go(api, sample: corpus.Sample, **form):
        with django_capture_on_commit_callbacks(execute=True):
            res = api.post("/timetable-import/imports", form, files={"file": upload(sample)})
        return res

    return go
