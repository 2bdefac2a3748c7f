"""Attachments: shared upload validation, download by the two parties only."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def upload(client, to, name, data, body="see attached"):
    return client.post(
        "/messaging/messages/with-attachment",
        {"recipient_id": str(to.pk), "body": body},
        files={"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")},
    )


def download_bytes(res) -> bytes:
    return b"".join(res.streaming_content)


def test_attachment_is_downloadable_by_the_two_parties_only(pair, make_user, admin_user, client_for):
    student, tutor = pair
    res = upload(client_for(student), tutor, "homework.pdf", PDF)
    assert res.status_code == 201, res.content
    att = res.json()["attachment"]
    assert att["name"] == "homework.pdf" and att["mime"] == "application/pdf" and att["size"] == len(PDF)
    url = att["download_url"]
    for party in (student, tutor):
        got = client_for(party).get(url)
        assert got.status_code == 200
        assert download_bytes(got) == PDF
        assert got["Content-Type"] == "application/pdf"
        assert got["X-Content-Type-Options"] == "nosniff"
        assert got["Content-Disposition"].startswith("attachment") and "homework.pdf" in got["Content-Disposition"]
    for outsider in (make_user("student"), make_user("tutor"), admin_user):
        res = client_for(outsider).get(url)
        assert res.status_code == 404, outsider.role
        assert res["Content-Type"] == "application/problem+json"


def test_an_image_is_accepted_and_the_history_shows_it(pair, client_for):
    student, tutor = pair
    res = upload(client_for(tutor), student, "diagram.png", png_bytes(), body="")
    assert res.status_code == 201, res.content
    assert res.json()["attachment"]["mime"].startswith("image/")
    history = client_for(student).get(f"/messaging/threads/{tutor.pk}/messages").json()["items"]
    assert history[0]["attachment"]["id"] == res.json()["attachment"]["id"]


def test_deleting_the_message_removes_the_attachment(pair, client_for):
    student, tutor = pair
    s = client_for(student)
    msg = upload(s, tutor, "notes.txt", b"plain notes\n").json()
    assert s.delete(f"/messaging/messages/{msg['id']}").status_code == 204
    assert client_for(tutor).get(msg["attachment"]["download_url"]).status_code == 404


@pytest.mark.parametrize(
    "name, data, status",
    [
        ("virus.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4, 415),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 60, 415),
        ("big.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), 413),
    ],
)
def test_refused_uploads_store_nothing(pair, client_for, name, data, status):
    from modules.messaging.models import Message

    student, tutor = pair
    res = upload(client_for(student), tutor, name, data)
    assert res.status_code == status, res.content
    assert not Message.objects.exists()


def test_uploading_to_someone_you_may_not_contact_is_refused(student, tutor, bookings, client_for):
    res = upload(client_for(student), tutor, "homework.pdf", PDF)
    assert res.status_code == 403 and res.json()["code"] == "contact_not_allowed"
