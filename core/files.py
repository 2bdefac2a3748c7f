"""Upload validation shared by every module.

Type is decided by content (magic bytes), never by the name or the client's Content-Type. Images are
decoded with Pillow under a pixel limit (decompression bombs refused), EXIF orientation applied, and
re-encoded without metadata (so GPS data never survives). Stored names are random.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import DomainError


class UploadRejected(DomainError):
    status, code, title = 415, "unsupported_media_type", "Upload refused"


class UploadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Upload too large"


# kind -> (mime, extension)
_SIGNATURES: list[tuple[bytes, int, str, str, str]] = [
    # (magic, offset, kind, mime, ext)
    (b"\x89PNG\r\n\x1a\n", 0, "image", "image/png", "png"),
    (b"\xff\xd8\xff", 0, "image", "image/jpeg", "jpg"),
    (b"GIF87a", 0, "image", "image/gif", "gif"),
    (b"GIF89a", 0, "image", "image/gif", "gif"),
    (b"II*\x00", 0, "image", "image/tiff", "tiff"),
    (b"MM\x00*", 0, "image", "image/tiff", "tiff"),
    (b"%PDF-", 0, "pdf", "application/pdf", "pdf"),
]


@dataclass(frozen=True)
class CheckedUpload:
    kind: str  # image | pdf | document
    mime: str
    ext: str
    data: bytes
    original_name: str


def sniff(head: bytes) -> tuple[str, str, str] | None:
    for magic, offset, kind, mime, ext in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind, mime, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp", "webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
        return "image", "image/heic", "heic"
    if head[:4] == b"PK\x03\x04":  # OOXML documents are ZIPs; checked further below
        return "document", "application/zip", "zip"
    return None


def _ooxml_kind(data: bytes) -> tuple[str, str] | None:
    import zipfile

    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile:
        return None
    if "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"
    if "xl/workbook.xml" in names:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    if "ppt/presentation.xml" in names:
        return "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"
    return None


def _looks_like_text(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def validate_upload(
    upload: UploadedFile,
    *,
    allowed: tuple[str, ...] = ("image", "pdf"),
    max_bytes: int | None = None,
) -> CheckedUpload:
    """Read and check an upload; raises UploadTooLarge (413) or UploadRejected (415)."""
    limit = max_bytes or settings.UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise UploadTooLarge(f"The file is {upload.size} bytes; the limit is {limit} bytes")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLarge(f"The file is larger than the limit of {limit} bytes")
    if not data:
        raise UploadRejected("The file is empty", code="empty_file")
    found = sniff(data[:32])
    name = (upload.name or "upload")[:200]
    if found is None:
        if "text" in allowed and _looks_like_text(data):
            return CheckedUpload("text", "text/plain", "txt", data, name)
        raise UploadRejected(f"The file's content is not an accepted type ({', '.join(allowed)})", code="unsupported_type")
    kind, mime, ext = found
    if kind == "document":
        office = _ooxml_kind(data)
        if office is None:
            raise UploadRejected("ZIP archives are not accepted", code="unsupported_type")
        mime, ext = office
    if kind not in allowed:
        raise UploadRejected(f"A {kind} file is not accepted here; accepted: {', '.join(allowed)}", code="unsupported_type")
    if kind == "image":
        _check_image(data)
    return CheckedUpload(kind, mime, ext, data, name)


def open_image(data: bytes) -> Image.Image:
    """Decode an image under the pixel limit, with EXIF orientation applied."""
    Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_PIXELS
    with warnings.catch_warnings():
        # Pillow warns between 1x and 2x the limit and raises above 2x: both are refusals here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > settings.UPLOAD_MAX_PIXELS:
                raise UploadRejected(f"The image is {width}x{height} pixels; too large to process", code="image_too_large")
            img.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadRejected("The image is too large to process", code="image_too_large") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise UploadRejected("The image is damaged or not an image", code="invalid_image") from exc
    return ImageOps.exif_transpose(img)


def _check_image(data: bytes) -> None:
    open_image(data)


def reencode_image(checked: CheckedUpload, *, max_side: int | None = None) -> tuple[bytes, str]:
    """Re-encode without metadata (EXIF/GPS dropped). Returns (bytes, extension)."""
    img = open_image(checked.data)
    if max_side:
        img.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        img.save(out, format="PNG", optimize=True)
        return out.getvalue(), "png"
    img.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue(), "jpg"


def random_name(folder: str, ext: str) -> str:
    return f"{folder.strip('/')}/{secrets.token_urlsafe(18)}.{ext}"


def store_validated_image(checked: CheckedUpload, *, folder: str, max_side: int | None = None) -> str:
    data, ext = reencode_image(checked, max_side=max_side)
    return default_storage.save(random_name(folder, ext), ContentFile(data))


def store_file(checked: CheckedUpload, *, folder: str) -> str:
    """Store a checked upload (images re-encoded) under a random name; returns the storage name."""
    if checked.kind == "image":
        return store_validated_image(checked, folder=folder)
    return default_storage.save(random_name(folder, checked.ext), ContentFile(checked.data))
