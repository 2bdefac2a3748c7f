"""Upload validation: type by content, size limits, decompression bombs, EXIF stripped."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

pytestmark = pytest.mark.django_db


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (40, 30), "blue")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG whose header claims 3.6 billion pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")


def upload(api, name: str, data: bytes, content_type: str = "application/octet-stream"):
    return api.post("/me/avatar", files={"file": SimpleUploadedFile(name, data, content_type=content_type)})


def test_avatar_upload_is_reencoded_and_served(student, client_for):
    res = upload(client_for(student), "me.png", png_bytes((1200, 900)), "image/png")
    assert res.status_code == 200, res.content
    url = res.json()["avatar_url"]
    assert url and url.endswith(".jpg") and "me.png" not in url  # random name, never the client's
    student.refresh_from_db()
    with default_storage.open(student.avatar.name) as fh:
        img = Image.open(fh)
        assert max(img.size) == 512


def test_exif_and_gps_are_stripped(student, client_for):
    res = upload(client_for(student), "photo.jpg", jpeg_with_gps(), "image/jpeg")
    assert res.status_code == 200, res.content
    student.refresh_from_db()
    with default_storage.open(student.avatar.name) as fh:
        exif = Image.open(fh).getexif()
    assert 0x8825 not in exif and 0x010F not in exif


def test_png_renamed_pdf_is_judged_by_content(student, client_for):
    from core.files import validate_upload

    checked = validate_upload(
        SimpleUploadedFile("report.pdf", png_bytes(), content_type="application/pdf"), allowed=("image", "pdf")
    )
    assert checked.kind == "image" and checked.mime == "image/png"
    from core.files import UploadRejected

    with pytest.raises(UploadRejected):
        validate_upload(SimpleUploadedFile("report.pdf", png_bytes(), content_type="application/pdf"), allowed=("pdf",))


def test_text_renamed_png_is_refused(student, client_for):
    res = upload(client_for(student), "cat.png", b"#!/bin/sh\nrm -rf /\n", "image/png")
    assert res.status_code == 415, res.content
    assert res["Content-Type"] == "application/problem+json"
    student.refresh_from_db()
    assert not student.avatar


def test_pdf_is_refused_as_an_avatar(student, client_for):
    res = upload(client_for(student), "cv.pdf", b"%PDF-1.7\n%...\n", "application/pdf")
    assert res.status_code == 415
    assert res.json()["code"] == "unsupported_type"


@override_settings(AVATAR_MAX_BYTES=10_000)
def test_file_over_the_limit_is_refused(student, client_for):
    res = upload(client_for(student), "big.png", png_bytes((400, 400), "white") + b"\x00" * 20_000, "image/png")
    assert res.status_code == 413, res.content
    assert res.json()["code"] == "payload_too_large"


def test_image_bomb_is_refused(student, client_for):
    data = bomb_png()
    assert len(data) < 2_000
    res = upload(client_for(student), "bomb.png", data, "image/png")
    assert res.status_code == 415, res.content
    assert res.json()["code"] == "image_too_large"


def test_truncated_image_is_refused(student, client_for):
    res = upload(client_for(student), "broken.png", png_bytes()[:60], "image/png")
    assert res.status_code == 415
    assert res.json()["code"] == "invalid_image"


def test_delete_avatar(student, client_for):
    api = client_for(student)
    upload(api, "me.png", png_bytes(), "image/png")
    student.refresh_from_db()
    name = student.avatar.name
    res = api.delete("/me/avatar")
    assert res.status_code == 200 and res.json()["avatar_url"] is None
    assert not default_storage.exists(name)
