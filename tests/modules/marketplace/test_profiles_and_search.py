from __future__ import annotations

import pytest

from core.models import AuditLog, Role
from core.testing import count_queries, describe
from modules.marketplace.models import Subject, TutorLanguage, TutorProfile

pytestmark = pytest.mark.django_db

COMPLETE = {
    "title": "Physics tutor",
    "headline": "Mechanics made clear",
    "bio": "Fifteen years of teaching physics to curious teenagers.",
    "hourly_rate_minor": 5000,
    "currency": "eur",
    "experience_years": 15,
    "languages": [{"code": "en", "proficiency": "native"}, {"code": "de", "proficiency": "advanced"}],
    "education": ["PhD Physics"],
    "certifications": ["PGCE"],
    "intro_video_url": "https://videos.example/intro.mp4",
    "timezone": "Europe/Berlin",
}


def test_tutor_profile_lifecycle_through_the_api(tutor, admin_user, student, client_for, anon, subject, events):
    api = client_for(tutor)
    me = api.get("/marketplace/tutors/me")
    assert me.status_code == 200 and me.json()["status"] == "draft"
    incomplete = api.post("/marketplace/tutors/me/submit")
    assert incomplete.status_code == 422
    assert {"title", "bio", "subject_ids", "languages"} <= {e["field"] for e in incomplete.json()["errors"]}

    res = api.patch("/marketplace/tutors/me", {**COMPLETE, "subject_ids": [str(subject.id)]})
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["currency"] == "EUR" and body["languages"][1] == {"code": "de", "proficiency": "advanced"}
    assert body["subjects"][0]["name"] == "Mathematics"
    assert api.patch("/marketplace/tutors/me", {"headline": "Mechanics and waves made clear"}).json()["title"] == "Physics tutor"

    assert api.post("/marketplace/tutors/me/submit").json()["status"] == "pending_approval"
    assert api.post("/marketplace/tutors/me/submit").status_code == 409
    profile_id = body["id"]

    # pending: not public, not in search, in the admin queue
    assert anon.get(f"/marketplace/tutors/{profile_id}").status_code == 404
    assert anon.get("/marketplace/tutors").json()["total"] == 0
    queue = client_for(admin_user).get("/marketplace/admin/tutors/pending").json()
    assert [row["id"] for row in queue["items"]] == [profile_id]
    assert client_for(student).get("/marketplace/admin/tutors/pending").status_code == 403
    assert client_for(student).post(f"/marketplace/admin/tutors/{profile_id}/approve").status_code == 403

    approved = client_for(admin_user).post(f"/marketplace/admin/tutors/{profile_id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert "marketplace.tutor_approved.v1" in [e.event_type for e in events]
    assert AuditLog.objects.filter(action="marketplace.tutor_approved", target_id=profile_id).exists()
    assert client_for(admin_user).post(f"/marketplace/admin/tutors/{profile_id}/approve").status_code == 409
    public = anon.get(f"/marketplace/tutors/{profile_id}")
    assert public.status_code == 200 and public.json()["headline"] == "Mechanics and waves made clear"
    assert "status" not in public.json()
    assert [r["id"] for r in anon.get("/marketplace/tutors").json()["items"]] == [profile_id]
    assert [r["id"] for r in client_for(admin_user).get("/marketplace/admin/tutors/approved").json()["items"]] == [profile_id]


def test_rejection_carries_a_reason_and_the_tutor_can_resubmit(make_user, admin_user, client_for, subject, events):
    tutor = make_user(Role.TUTOR)
    api = client_for(tutor)
    api.patch("/marketplace/tutors/me", {**COMPLETE, "subject_ids": [str(subject.id)]})
    profile_id = api.post("/marketplace/tutors/me/submit").json()["id"]
    assert client_for(admin_user).post(f"/marketplace/admin/tutors/{profile_id}/reject", {}).status_code == 422
    res = client_for(admin_user).post(f"/marketplace/admin/tutors/{profile_id}/reject", {"reason": "Add your qualifications"})
    assert res.json()["status"] == "rejected" and res.json()["rejection_reason"] == "Add your qualifications"
    rejected = [e for e in events if e.event_type == "marketplace.tutor_rejected.v1"]
    assert rejected and rejected[0].reason == "Add your qualifications"
    assert api.get("/marketplace/tutors/me").json()["rejection_reason"] == "Add your qualifications"
    assert api.post("/marketplace/tutors/me/submit").json()["status"] == "pending_approval"


def test_profile_patch_validates(tutor, student, client_for):
    api = client_for(tutor)
    assert api.patch("/marketplace/tutors/me", {"timezone": "Nowhere/City"}).status_code == 422
    assert api.patch("/marketplace/tutors/me", {"currency": "ABC"}).status_code == 422
    assert api.patch("/marketplace/tutors/me", {"status": "approved"}).status_code == 422
    assert api.patch("/marketplace/tutors/me", {"subject_ids": ["00000000-0000-0000-0000-000000000000"]}).status_code == 422
    assert client_for(student).get("/marketplace/tutors/me").status_code == 403


# --- search ---------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(make_tutor, subject):
    physics = Subject.objects.create(name="Physics", category="STEM")
    a = make_tutor(
        rate=3000, experience_years=2, first_name="Alice", headline="Algebra for beginners", average_rating=4.2, review_count=5
    )
    b = make_tutor(
        rate=8000,
        experience_years=12,
        first_name="Bruno",
        headline="Quantum mechanics and relativity",
        average_rating=4.9,
        review_count=30,
    )
    b.subjects.set([physics])
    TutorLanguage.objects.create(profile=b, code="es", proficiency="native")
    c = make_tutor(
        rate=5000, experience_years=7, first_name="Chen", headline="Calculus and statistics", average_rating=3.5, review_count=2
    )
    make_tutor(status="pending_approval", first_name="Pending", headline="Algebra too")
    for p in (a, b, c):
        p.refresh_search_document()
        p.save()
    return {"a": str(a.id), "b": str(b.id), "c": str(c.id), "physics": physics}


def _ids(anon, **params):
    res = anon.get("/marketplace/tutors", params)
    assert res.status_code == 200, res.content
    return [row["id"] for row in res.json()["items"]]


def test_search_filters_and_sorts(anon, catalogue, subject):
    a, b, c = catalogue["a"], catalogue["b"], catalogue["c"]
    assert set(_ids(anon)) == {a, b, c}  # the pending tutor never shows
    assert _ids(anon, sort="price") == [a, c, b]
    assert _ids(anon, sort="-price") == [b, c, a]
    assert _ids(anon, sort="rating") == [b, a, c]
    assert _ids(anon, sort="experience") == [b, c, a]
    assert _ids(anon, subject=str(catalogue["physics"].id)) == [b]
    assert _ids(anon, subject="mathematics", sort="price") == [a, c]
    assert _ids(anon, min_price=4000, max_price=6000) == [c]
    assert _ids(anon, min_experience=5, sort="price") == [c, b]
    assert _ids(anon, languages="es,fr") == [b]
    assert _ids(anon, min_rating=4.5) == [b]
    assert _ids(anon, q="quantum") == [b]
    assert _ids(anon, q="statistics") == [c]
    assert _ids(anon, q="Alice") == [a]
    row = anon.get("/marketplace/tutors", {"q": "quantum"}).json()["items"][0]
    assert row["average_rating"] == 4.9 and row["review_count"] == 30 and row["subjects"][0]["name"] == "Physics"


def test_search_pages_and_caps_page_size(anon, catalogue):
    page = anon.get("/marketplace/tutors", {"page_size": 2, "page": 2, "sort": "price"}).json()
    assert page["total"] == 3 and page["pages"] == 2 and [r["id"] for r in page["items"]] == [catalogue["b"]]
    assert anon.get("/marketplace/tutors", {"page_size": 101}).status_code == 422


def test_search_by_availability_window(anon, make_tutor):
    from modules.marketplace.models import AvailabilityRule

    weekend_only = make_tutor()
    AvailabilityRule.objects.filter(profile=weekend_only, weekday__lt=5).delete()
    import datetime as dt

    from django.utils import timezone

    day = timezone.now().date() + dt.timedelta(days=7)
    monday = day - dt.timedelta(days=day.weekday())
    ids = _ids(anon, available_from=monday.isoformat(), available_to=(monday + dt.timedelta(days=1)).isoformat())
    assert str(weekend_only.id) not in ids
    ids = _ids(anon, available_from=monday.isoformat(), available_to=(monday + dt.timedelta(days=6)).isoformat())
    assert str(weekend_only.id) in ids


def test_search_runs_the_same_number_of_queries_for_1_and_50_rows(anon, make_tutor, subject):
    make_tutor()
    with count_queries() as one:
        assert len(anon.get("/marketplace/tutors", {"page_size": 100}).json()["items"]) == 1
    for i in range(49):
        p = make_tutor(first_name=f"T{i}")
        TutorLanguage.objects.create(profile=p, code="fr")
    with count_queries() as fifty:
        assert len(anon.get("/marketplace/tutors", {"page_size": 99}).json()["items"]) == 50
    assert len(one) == len(fifty), describe(fifty)
    assert len(fifty) <= 5, describe(fifty)


def test_search_results_are_cached_and_invalidated(anon, make_tutor, admin_user, client_for):
    p = make_tutor()
    assert _ids(anon) == [str(p.id)]
    with count_queries() as cached:
        assert _ids(anon) == [str(p.id)]
    assert len(cached) == 0
    TutorProfile.objects.filter(pk=p.pk).update(status="pending_approval")
    client_for(admin_user).post(f"/marketplace/admin/tutors/{p.id}/reject", {"reason": "Check your documents"})
    assert _ids(anon) == []


# --- subjects -------------------------------------------------------------------------------------


def test_subject_admin_crud_and_public_counts(admin_user, student, client_for, anon, make_tutor, subject):
    make_tutor()
    make_tutor(status="pending_approval")
    admin = client_for(admin_user)
    assert client_for(student).post("/marketplace/subjects", {"name": "Art"}).status_code == 403
    created = admin.post("/marketplace/subjects", {"name": "Art", "category": "Humanities", "description": "Drawing"})
    assert created.status_code == 201
    assert admin.post("/marketplace/subjects", {"name": "art"}).status_code == 409
    listed = {s["name"]: s["tutor_count"] for s in anon.get("/marketplace/subjects").json()}
    assert listed == {"Art": 0, "Mathematics": 1}
    art_id = created.json()["id"]
    assert admin.patch(f"/marketplace/subjects/{art_id}", {"description": "Drawing and painting"}).json()["description"] == (
        "Drawing and painting"
    )
    assert admin.delete(f"/marketplace/subjects/{art_id}").status_code == 204
    in_use = admin.delete(f"/marketplace/subjects/{subject.id}")
    assert in_use.status_code == 409 and in_use.json()["code"] == "subject_in_use"
    assert admin.patch(f"/marketplace/subjects/{subject.id}", {"is_archived": True}).json()["is_archived"] is True
    assert anon.get("/marketplace/subjects").json() == []


def test_tutor_uploads_a_photo_and_a_non_image_is_refused(tutor, client_for, tmp_path, settings):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = str(tmp_path)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(buffer, format="PNG")
    api = client_for(tutor)
    res = api.post("/marketplace/tutors/me/photo", files={"file": SimpleUploadedFile("me.png", buffer.getvalue(), "image/png")})
    assert res.status_code == 200, res.content
    assert res.json()["photo_url"]
    bad = api.post(
        "/marketplace/tutors/me/photo", files={"file": SimpleUploadedFile("me.png", b"%PDF-1.4 not an image", "image/png")}
    )
    assert bad.status_code == 415


def test_relevance_ranks_the_better_match_first(anon, make_tutor):
    strong = make_tutor(headline="Organic chemistry, chemistry labs and chemistry exams", bio="Chemistry every day.")
    weak = make_tutor(headline="Biology", bio="Some chemistry too, among other things.")
    for p in (strong, weak):
        p.refresh_search_document()
        p.save()
    ids = _ids(anon, q="chemistry", sort="relevance")
    assert set(ids) == {str(strong.id), str(weak.id)}
    from django.conf import settings as dj_settings

    if dj_settings.IS_POSTGRES:
        rows = anon.get("/marketplace/tutors", {"q": "chemistry"}).json()["items"]
        assert rows[0]["id"] == str(strong.id) and rows[0]["rank"] > rows[1]["rank"]


def test_a_renamed_tutor_is_found_by_the_new_name_after_the_refresh_task(anon, make_tutor, client_for):
    from modules.marketplace.tasks import refresh_search_documents

    profile = make_tutor(first_name="Olga")
    assert _ids(anon, q="Olga") == [str(profile.id)]
    assert client_for(profile.user).patch("/me", {"first_name": "Zofia"}).status_code == 200
    assert refresh_search_documents() == 1
    assert refresh_search_documents() == 0
    assert _ids(anon, q="Zofia") == [str(profile.id)]
    assert _ids(anon, q="Olga") == []
