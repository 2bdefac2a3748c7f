"""Another user's import is 404 everywhere; uploads are checked before anything is queued."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from modules.timetable_import.models import TimetableImport
from tests.modules.timetable_import import corpus

pytestmark = pytest.mark.django_db


def test_another_users_import_is_404_on_every_route(student, make_user, client_for, run_upload, pdf_sample):
    owner = client_for(student)
    import_id = run_upload(owner, pdf_sample).json()["id"]
    pid = owner.get(f"/timetable-import/imports/{import_id}").json()["proposals"][0]["id"]
    other = client_for(make_user("student"))
    base = f"/timetable-import/imports/{import_id}"
    answers = {
        "get": other.get(base).status_code,
        "patch": other.patch(f"{base}/proposals/{pid}", {"include": False}).status_code,
        "add": other.post(
            f"{base}/proposals", {"day_of_week": 0, "start_time": "09:00", "end_time": "10:00", "course_name": "X"}
        ).status_code,
        "confirm": other.post(f"{base}/confirm", {}).status_code,
        "retry": other.post(f"{base}/retry").status_code,
        "delete": other.delete(base).status_code,
    }
    assert answers == dict.fromkeys(answers, 404)
    assert other.get("/timetable-import/imports").json()["total"] == 0
    # nothing changed for the owner
    job = owner.get(base).json()
    assert job["status"] == "needs_review" and all(p["include"] for p in job["proposals"])


def test_a_proposal_of_another_import_is_404(student, client_for, run_upload, pdf_sample):
    api = client_for(student)
    first = run_upload(api, pdf_sample).json()["id"]
    second = run_upload(api, pdf_sample).json()["id"]
    pid = api.get(f"/timetable-import/imports/{first}").json()["proposals"][0]["id"]
    assert api.patch(f"/timetable-import/imports/{second}/proposals/{pid}", {"include": False}).status_code == 404


def test_anonymous_is_401(anon):
    assert anon.get("/timetable-import/imports").status_code == 401


def _upload(api, name, data, **form):
    return api.post("/timetable-import/imports", form, files={"file": SimpleUploadedFile(name, data)})


def test_refuses_files_that_are_not_images_or_pdfs(student, client_for):
    api = client_for(student)
    res = _upload(api, "notes.png", b"just some text pretending to be a picture")
    assert res.status_code == 415, res.content
    assert TimetableImport.objects.count() == 0


def test_refuses_files_over_10_mb(student, client_for):
    api = client_for(student)
    res = _upload(api, "big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (10 * 1024 * 1024 + 10))
    assert res.status_code == 413, res.content
    assert TimetableImport.objects.count() == 0


def test_refuses_pdfs_over_5_pages(student, client_for):
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out)
    for i in range(6):
        c.drawString(100, 700, f"page {i}")
        c.showPage()
    c.save()
    res = _upload(client_for(student), "long.pdf", out.getvalue())
    assert res.status_code == 422, res.content
    assert res.json()["code"] == "too_many_pages"
    assert TimetableImport.objects.count() == 0


def test_a_timetable_of_another_user_is_refused(student, make_user, client_for, pdf_sample):
    other = client_for(make_user("student"))
    tt = other.post("/tracker/timetables", {"semester": "Spring 2026", "academic_year": "2025-2026"})
    assert tt.status_code == 201, tt.content
    res = _upload(client_for(student), pdf_sample.filename, pdf_sample.data, timetable_id=tt.json()["id"])
    assert res.status_code == 404
    assert TimetableImport.objects.count() == 0


def test_the_chosen_timetable_receives_the_classes(student, client_for, run_upload, pdf_sample):
    api = client_for(student)
    old = api.post("/tracker/timetables", {"semester": "Autumn 2025", "academic_year": "2025-2026"}).json()
    api.post("/tracker/timetables", {"semester": "Spring 2026", "academic_year": "2025-2026"})
    import_id = run_upload(api, pdf_sample, timetable_id=old["id"]).json()["id"]
    res = api.post(f"/timetable-import/imports/{import_id}/confirm", {})
    assert res.status_code == 200, res.content
    assert res.json()["timetable_id"] == old["id"]
    got = api.get(f"/tracker/timetables/{old['id']}").json()
    assert len(got["classes"]) == 5


def test_webp_uploads_are_accepted(student, client_for, run_upload):
    img = Image.open(io.BytesIO(corpus.list_style().data))
    out = io.BytesIO()
    img.save(out, format="WEBP", quality=95)
    sample = corpus.Sample("webp", "list.webp", out.getvalue())
    res = run_upload(client_for(student), sample)
    assert res.status_code == 202, res.content
    assert TimetableImport.objects.get(id=res.json()["id"]).file_kind == "image"
