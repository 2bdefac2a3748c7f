"""Upload, poll, edit, drop, add, confirm over HTTP; the tracker then holds exactly those classes."""

from __future__ import annotations

import time

import pytest
from django.core.files.storage import default_storage

from modules.timetable_import.models import TimetableImport
from tests.modules.timetable_import import corpus
from tests.modules.timetable_import.conftest import needs_tesseract

pytestmark = pytest.mark.django_db

TRACKER_DAY_NAMES = {0: "Sunday", 1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday"}


def _tracker_classes(api):
    res = api.get("/tracker/timetables")
    assert res.status_code == 200, res.content
    return [c for tt in res.json() for c in tt["classes"]]


def test_upload_review_confirm_end_to_end(student, client_for, run_upload, pdf_sample):
    api = client_for(student)
    made = api.post("/tracker/courses", {"name": "Thermodynamics", "code": "ME 210", "semester": "Spring 2026"})
    assert made.status_code == 201, made.content
    thermo_id = made.json()["id"]

    res = run_upload(api, pdf_sample)
    assert res.status_code == 202, res.content
    assert res.json()["status"] == "queued"
    import_id = res.json()["id"]

    job = api.get(f"/timetable-import/imports/{import_id}").json()
    assert job["status"] == "needs_review", job
    assert job["engine"] == "pdf_text" and job["pages"] == 1 and job["error"] == ""
    props = {p["course_name"]: p for p in job["proposals"]}
    assert set(props) == {"Thermodynamics", "Fluid Mechanics", "Materials Science", "Control Systems", "Robotics"}
    thermo = props["Thermodynamics"]
    assert (thermo["day_of_week"], thermo["start_time"], thermo["end_time"]) == (0, "08:00", "09:30")
    assert thermo["course_code"] == "ME 210" and thermo["location"] == "Room 1.14"
    assert thermo["matched_course_id"] == thermo_id  # matched by code
    assert props["Robotics"]["matched_course_id"] is None
    assert all(0 <= p["confidence"] <= 1 and p["flagged"] is False for p in job["proposals"])

    # edit: Robotics moves to Saturday afternoon in Lab 7
    rid = props["Robotics"]["id"]
    res = api.patch(f"/timetable-import/imports/{import_id}/proposals/{rid}", {"day_of_week": 5, "location": "Lab 7"})
    assert res.status_code == 200, res.content
    assert res.json()["day_of_week"] == 5 and res.json()["location"] == "Lab 7"
    # an end before the start is refused and changes nothing
    res = api.patch(f"/timetable-import/imports/{import_id}/proposals/{rid}", {"end_time": "13:00"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "end_time"
    # a required field cannot be emptied
    res = api.patch(f"/timetable-import/imports/{import_id}/proposals/{rid}", {"day_of_week": None, "course_name": None})
    assert res.status_code == 422 and {e["field"] for e in res.json()["errors"]} == {"day_of_week", "course_name"}
    res = api.patch(f"/timetable-import/imports/{import_id}/proposals/{rid}", {"day_of_week": 7, "start_time": "9am"})
    assert res.status_code == 422 and {e["field"] for e in res.json()["errors"]} == {"day_of_week", "start_time"}
    # drop one
    cid = props["Control Systems"]["id"]
    assert api.patch(f"/timetable-import/imports/{import_id}/proposals/{cid}", {"include": False}).json()["include"] is False
    # add one the OCR missed, on Sunday
    res = api.post(
        f"/timetable-import/imports/{import_id}/proposals",
        {"day_of_week": 6, "start_time": "10:00", "end_time": "11:00", "course_name": "Study group", "class_type": "seminar"},
    )
    assert res.status_code == 201, res.content

    res = api.post(f"/timetable-import/imports/{import_id}/confirm", {"create_missing_courses": True})
    assert res.status_code == 200, res.content
    created = res.json()["classes"]
    assert len(created) == 5

    got = sorted(
        (c["course"]["name"], c["day_name"], c["start_time"][:5], c["end_time"][:5], c["location"]) for c in _tracker_classes(api)
    )
    assert got == [
        ("Fluid Mechanics", "Tuesday", "10:00", "11:30", "Hall B"),
        ("Materials Science", "Wednesday", "12:00", "13:30", "Lab E-2"),
        ("Robotics", "Saturday", "14:00", "15:30", "Lab 7"),
        ("Study group", "Sunday", "10:00", "11:00", ""),
        ("Thermodynamics", "Monday", "08:00", "09:30", "Room 1.14"),
    ]
    # the matched course was reused, not duplicated
    courses = api.get("/tracker/courses").json()["items"]
    assert sum(1 for c in courses if c["name"] == "Thermodynamics") == 1

    again = api.post(f"/timetable-import/imports/{import_id}/confirm", {})
    assert again.status_code == 409
    assert len(_tracker_classes(api)) == 5
    assert api.get(f"/timetable-import/imports/{import_id}").json()["status"] == "confirmed"
    # a confirmed import is no longer editable
    assert api.patch(f"/timetable-import/imports/{import_id}/proposals/{rid}", {"include": False}).status_code == 409


def test_confirm_without_creating_courses_is_all_or_nothing(student, client_for, run_upload, pdf_sample):
    api = client_for(student)
    import_id = run_upload(api, pdf_sample).json()["id"]
    res = api.post(f"/timetable-import/imports/{import_id}/confirm", {"create_missing_courses": False})
    assert res.status_code == 422, res.content
    assert _tracker_classes(api) == []
    assert api.get(f"/timetable-import/imports/{import_id}").json()["status"] == "needs_review"


def test_progress_and_completion_are_pushed_and_notified(student, client_for, run_upload, pdf_sample, monkeypatch, mailoutbox):
    pushed = []
    monkeypatch.setattr("core.realtime.push._send", lambda group, message: pushed.append(message) or True)
    # Pushes made on commit are queued to the push loop when the layer is Redis: record those too.
    monkeypatch.setattr(
        "core.realtime.push.push_to_user_queued",
        lambda user_id, event, data: pushed.append({"type": "push.event", "event": event, "data": data}),
    )
    api = client_for(student)
    import_id = run_upload(api, pdf_sample).json()["id"]
    kinds = [m["event"] for m in pushed]
    assert "import_progress" in kinds and "import_ready" in kinds
    assert kinds.index("import_progress") < kinds.index("import_ready")
    ready = pushed[kinds.index("import_ready")]
    assert ready["data"]["id"] == import_id and ready["data"]["proposals"] == 5
    assert any("ready to review" in m.subject for m in mailoutbox)


def _list_queries(api, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/timetable-import/imports").status_code == 200
    return len(ctx.captured_queries)


def test_list_is_newest_first_and_paged_in_a_fixed_number_of_queries(
    student, client_for, run_upload, pdf_sample, django_assert_max_num_queries
):
    api = client_for(student)
    ids = [run_upload(api, pdf_sample).json()["id"]]
    one = _list_queries(api, django_assert_max_num_queries)
    ids += [run_upload(api, pdf_sample).json()["id"] for _ in range(2)]
    assert _list_queries(api, django_assert_max_num_queries) == one
    res = api.get("/timetable-import/imports", {"page_size": 2})
    body = res.json()
    assert res.status_code == 200 and body["total"] == 3 and body["pages"] == 2
    assert [i["id"] for i in body["items"]] == ids[::-1][:2]
    assert len(body["items"][0]["proposals"]) == 5


def test_delete_removes_the_import_and_its_file(student, client_for, run_upload, pdf_sample, django_capture_on_commit_callbacks):
    api = client_for(student)
    import_id = run_upload(api, pdf_sample).json()["id"]
    name = TimetableImport.objects.get(id=import_id).file_name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/timetable-import/imports/{import_id}").status_code == 204
    assert not default_storage.exists(name)
    assert api.get(f"/timetable-import/imports/{import_id}").status_code == 404


@needs_tesseract
def test_not_a_timetable_fails_with_its_reason_and_can_be_retried(
    student, client_for, run_upload, django_capture_on_commit_callbacks
):
    api = client_for(student)
    import_id = run_upload(api, corpus.not_a_timetable()).json()["id"]
    job = api.get(f"/timetable-import/imports/{import_id}").json()
    assert job["status"] == "failed" and job["proposals"] == []
    assert "no days or times found" in job["error"]
    assert "Traceback" not in job["error"]
    assert api.post(f"/timetable-import/imports/{import_id}/confirm", {}).status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        res = api.post(f"/timetable-import/imports/{import_id}/retry")
    assert res.status_code == 202
    assert api.get(f"/timetable-import/imports/{import_id}").json()["status"] == "failed"  # same file, same answer


@needs_tesseract
def test_one_page_photo_end_to_end_time(student, client_for, run_upload):
    api = client_for(student)
    photo = corpus.photo()
    started = time.perf_counter()
    import_id = run_upload(api, photo).json()["id"]
    job = api.get(f"/timetable-import/imports/{import_id}").json()
    elapsed = time.perf_counter() - started
    print(f"\none-page photo import, upload to needs_review: {elapsed:.2f} s")
    assert job["status"] == "needs_review", job
    assert job["engine"] == "tesseract"
    assert len(job["proposals"]) >= 5


def test_tesseract_missing_fails_with_a_clear_reason(student, client_for, run_upload, settings):
    settings.OCR_TESSERACT_CMD = "/nonexistent/tesseract"
    api = client_for(student)
    import_id = run_upload(api, corpus.list_style()).json()["id"]
    job = api.get(f"/timetable-import/imports/{import_id}").json()
    assert job["status"] == "failed"
    assert "not available" in job["error"]
    res = api.get("/health/ready")
    assert res.json()["checks"]["ocr"]["status"] == "down"


def test_a_crash_leaves_the_import_failed_and_retryable(
    student, client_for, run_upload, pdf_sample, monkeypatch, django_capture_on_commit_callbacks
):
    from modules.timetable_import import pipeline

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "parse", boom)
    api = client_for(student)
    import_id = run_upload(api, pdf_sample).json()["id"]
    job = api.get(f"/timetable-import/imports/{import_id}").json()
    assert job["status"] == "failed" and "disk on fire" not in job["error"] and job["error"]
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/timetable-import/imports/{import_id}/retry").status_code == 202
    job = api.get(f"/timetable-import/imports/{import_id}").json()
    assert job["status"] == "needs_review" and len(job["proposals"]) == 5
