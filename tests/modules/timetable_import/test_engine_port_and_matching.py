"""The engine is a setting; a deployment adds one through OCR_ENGINES. Low confidence is flagged;
course names are matched to the student's tracker courses (code first, then fuzzy names)."""

from __future__ import annotations

import pytest

from tests.modules.timetable_import import corpus
from tests.modules.timetable_import.conftest import upload
from tests.modules.timetable_import.fakes import FakeEngine

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_engine(settings):
    settings.OCR_ENGINE = "fake"
    settings.OCR_ENGINES = {"fake": "tests.modules.timetable_import.fakes:FakeEngine"}
    FakeEngine.calls.clear()


def test_a_configured_engine_is_used_and_low_confidence_is_flagged(student, client_for, run_upload, fake_engine, settings):
    api = client_for(student)
    algo = api.post("/tracker/courses", {"name": "Intro to Algorithms", "code": "CS301", "semester": "S"}).json()
    organic = api.post("/tracker/courses", {"name": "Organic Chemistry I", "code": "CHEM 2", "semester": "S"}).json()
    job = api.get(f"/timetable-import/imports/{run_upload(api, corpus.list_style()).json()['id']}").json()
    assert job["status"] == "needs_review" and job["engine"] == "fake"
    assert len(FakeEngine.calls) == 1 and FakeEngine.calls[0][0] >= 1800  # normalised (scaled up) before OCR
    by_name = {p["course_name"]: p for p in job["proposals"]}
    assert by_name["Calcolus"]["flagged"] is True and by_name["Calcolus"]["confidence"] < 0.6  # OCR_FLAG_BELOW default
    assert by_name["Organic Chemistry"]["flagged"] is False
    assert by_name["Algorithms"]["matched_course_id"] == algo["id"]  # "CS 301" = "CS301"
    assert by_name["Organic Chemistry"]["matched_course_id"] == organic["id"]  # fuzzy name
    assert by_name["Calcolus"]["matched_course_id"] is None

    # correcting the name re-matches it and clears the flag
    calc = api.post("/tracker/courses", {"name": "Calculus", "code": "MA 1", "semester": "S"}).json()
    res = api.patch(f"/timetable-import/imports/{job['id']}/proposals/{by_name['Calcolus']['id']}", {"course_name": "Calculus"})
    assert res.status_code == 200, res.content
    assert res.json()["matched_course_id"] == calc["id"] and res.json()["flagged"] is False


def test_the_flag_threshold_is_a_setting(student, client_for, run_upload, fake_engine, settings):
    settings.OCR_FLAG_BELOW = 0.1
    api = client_for(student)
    job = api.get(f"/timetable-import/imports/{run_upload(api, corpus.list_style()).json()['id']}").json()
    assert not any(p["flagged"] for p in job["proposals"])


def test_an_unknown_engine_fails_the_import_with_a_plain_reason(student, client_for, run_upload, settings):
    settings.OCR_ENGINE = "nope"
    api = client_for(student)
    job = api.get(f"/timetable-import/imports/{run_upload(api, corpus.list_style()).json()['id']}").json()
    assert job["status"] == "failed" and "not available" in job["error"]


def test_matching_to_a_course_of_another_user_is_refused(student, make_user, client_for, run_upload, fake_engine):
    api = client_for(student)
    theirs = (
        client_for(make_user("student")).post("/tracker/courses", {"name": "Secret", "code": "SEC 1", "semester": "S"}).json()
    )
    job = api.get(f"/timetable-import/imports/{run_upload(api, corpus.list_style()).json()['id']}").json()
    pid = job["proposals"][0]["id"]
    res = api.patch(f"/timetable-import/imports/{job['id']}/proposals/{pid}", {"matched_course_id": theirs["id"]})
    assert res.status_code == 404


def test_export_and_erase_hooks(student, client_for, run_upload, fake_engine, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    from core.registry import HOOKS, hooks
    from modules.timetable_import.models import TimetableImport

    api = client_for(student)
    import_id = run_upload(api, corpus.list_style()).json()["id"]
    exported = hooks.call(HOOKS.USER_EXPORT, user=student)["timetable_import"]
    assert exported["imports"][0]["id"] == import_id and len(exported["proposals"]) == 3
    name = TimetableImport.objects.get(id=import_id).file_name
    with django_capture_on_commit_callbacks(execute=True):
        hooks.call(HOOKS.USER_ERASE, user=student)
    assert not TimetableImport.objects.filter(user=student).exists()
    assert not default_storage.exists(name)


def test_an_abandoned_job_is_failed_by_the_sweeper_and_retryable(
    student, client_for, fake_engine, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    from modules.timetable_import.models import ImportStatus, TimetableImport
    from modules.timetable_import.tasks import fail_stale_imports, process_import

    api = client_for(student)
    res = api.post("/timetable-import/imports", files={"file": upload(corpus.list_style())})
    job = TimetableImport.objects.get(id=res.json()["id"])  # on_commit not run: still queued, as if the worker died
    TimetableImport.objects.filter(id=job.id).update(
        status=ImportStatus.PROCESSING, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert process_import(str(job.id)) == "needs_review"  # a redelivery takes over an abandoned job
    TimetableImport.objects.filter(id=job.id).update(status=ImportStatus.PROCESSING, started_at=timezone.now())
    assert process_import(str(job.id)) == "skipped"  # a live worker's job is left alone
    TimetableImport.objects.filter(id=job.id).update(started_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert fail_stale_imports() == 1
    body = api.get(f"/timetable-import/imports/{job.id}").json()
    assert body["status"] == "failed" and "interrupted" in body["error"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/timetable-import/imports/{job.id}/retry").status_code == 202
    assert api.get(f"/timetable-import/imports/{job.id}").json()["status"] == "needs_review"
