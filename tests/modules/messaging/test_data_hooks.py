"""GDPR export and erasure, and admin figures, through core's hooks."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.registry import HOOKS, hooks

pytestmark = pytest.mark.django_db


def test_export_erase_and_figures(pair, client_for):
    student, tutor = pair
    s, t = client_for(student), client_for(tutor)
    s.post("/messaging/messages", {"recipient_id": str(tutor.pk), "body": "my secret plan"})
    att = s.post(
        "/messaging/messages/with-attachment",
        {"recipient_id": str(tutor.pk), "body": "file"},
        files={"file": SimpleUploadedFile("a.txt", b"notes\n")},
    ).json()["attachment"]
    t.post("/messaging/messages", {"recipient_id": str(student.pk), "body": "tutor reply"})

    exported = hooks.call(HOOKS.USER_EXPORT, user=student)["messaging"]
    assert [(m["direction"], m["body"]) for m in exported["messages"]] == [
        ("sent", "my secret plan"),
        ("sent", "file"),
        ("received", "tutor reply"),
    ]
    figures = hooks.call(HOOKS.ADMIN_FIGURES, months=12)["messaging"]
    assert figures["messages_sent_today"] == 3 and figures["attachments"] == 1

    hooks.call(HOOKS.USER_ERASE, user=student)
    history = t.get(f"/messaging/threads/{student.pk}/messages").json()["items"]
    assert [(m["is_deleted"], m["body"]) for m in history] == [(False, "tutor reply"), (True, ""), (True, "")]
    assert t.get(att["download_url"]).status_code == 404
    assert "my secret plan" not in str(hooks.call(HOOKS.USER_EXPORT, user=student)["messaging"])
