from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.demo import seed_demo
from core.models import Role
from core.registry import HOOKS, hooks, is_enabled
from modules.courses.models import Course

pytestmark = pytest.mark.django_db

QUIZ = [
    {"id": "q1", "text": "2 + 2?", "options": ["3", "4", "5"], "correct": [1]},
    {"id": "q2", "text": "Primes?", "options": ["2", "4", "7"], "correct": [0, 2]},
]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
needs_payments = pytest.mark.skipif(not is_enabled("payments"), reason="the payments module is off")


@pytest.fixture
def course_factory(tutor, client_for):
    def make(*, price_minor=0, currency="USD", published=True, owner=None, **extra):  # type: ignore[no-untyped-def]
        api = client_for(owner or tutor)
        body = {
            "title": extra.pop("title", "Algebra basics"),
            "description": extra.pop("description", "Linear equations from scratch"),
            "subject": extra.pop("subject", "Mathematics"),
            "price_minor": price_minor,
            "currency": currency,
            "published": published,
        }
        res = api.post("/courses", body)
        assert res.status_code == 201, res.content
        course = res.json()
        lessons = {}
        for name, lesson in {
            "intro": {
                "title": "Welcome",
                "content_type": "video",
                "video_url": "https://video.example/intro",
                "is_preview": True,
                "duration_minutes": 5,
            },
            "text": {
                "title": "Notes",
                "content_type": "text",
                "body": "# Linear equations\nSolve for x.",
                "duration_minutes": 15,
            },
            "quiz": {"title": "Check", "content_type": "quiz", "questions": QUIZ, "duration_minutes": 10},
            "doc": {"title": "Worksheet", "content_type": "document", "duration_minutes": 20},
        }.items():
            res = api.post(f"/courses/{course['id']}/lessons", lesson)
            assert res.status_code == 201, res.content
            lessons[name] = res.json()["id"]
        course["lessons"] = lessons
        return course

    return make


def _no_answers_anywhere(payload: object) -> bool:
    return '"correct"' not in json.dumps(payload)


def test_a_non_enrolled_student_gets_404_for_paid_lessons_but_sees_the_preview(course_factory, student, client_for):
    course = course_factory(price_minor=4900)
    api = client_for(student)
    for name in ("text", "quiz", "doc"):
        res = api.get(f"/courses/{course['id']}/lessons/{course['lessons'][name]}")
        assert res.status_code == 404, name
    preview = api.get(f"/courses/{course['id']}/lessons/{course['lessons']['intro']}")
    assert preview.status_code == 200 and preview.json()["video_url"] == "https://video.example/intro"
    detail = api.get(f"/courses/{course['id']}").json()
    assert [lesson["title"] for lesson in detail["lessons"]] == ["Welcome", "Notes", "Check", "Worksheet"]
    assert detail["enrolled"] is False and detail["lesson_count"] == 4 and detail["total_minutes"] == 50
    assert "body" not in json.dumps(detail["lessons"]) and _no_answers_anywhere(detail)


def test_students_never_see_quiz_answers_but_the_tutor_does(course_factory, student, tutor, client_for):
    course = course_factory()
    api = client_for(student)
    assert api.post(f"/courses/{course['id']}/enrol").status_code == 201
    url = f"/courses/{course['id']}/lessons/{course['lessons']['quiz']}"
    res = api.get(url)
    assert res.status_code == 200
    assert _no_answers_anywhere(res.json())
    assert [q["multiple"] for q in res.json()["questions"]] == [False, True]
    tutor_view = client_for(tutor).get(url).json()
    assert [q["correct"] for q in tutor_view["questions"]] == [[1], [0, 2]]
    # submitting answers tells right or wrong per question, still never the right options
    result = api.post(url + "/quiz", {"answers": {"q1": [1], "q2": [0]}})
    assert result.status_code == 201, result.content
    body = result.json()
    assert (body["score"], body["max_score"], body["results"]) == (1, 2, {"q1": True, "q2": False})
    assert _no_answers_anywhere(body)
    assert api.post(url + "/quiz", {"answers": {"q1": [1], "q2": [2, 0]}}).json()["score"] == 2
    progress = api.get(f"/courses/{course['id']}/progress").json()
    assert progress["best_quiz_scores"] == {course["lessons"]["quiz"]: 2}
    assert progress["completed_lesson_ids"] == [course["lessons"]["quiz"]]
    assert api.post(url + "/quiz", {"answers": {"q9": [0]}}).status_code == 422


def test_free_enrolment_completion_and_progress(course_factory, student, client_for):
    course = course_factory()
    api = client_for(student)
    res = api.post(f"/courses/{course['id']}/enrol")
    assert res.status_code == 201 and res.json()["status"] == "active"
    assert api.post(f"/courses/{course['id']}/enrol").status_code == 409
    text = api.get(f"/courses/{course['id']}/lessons/{course['lessons']['text']}")
    assert text.status_code == 200 and text.json()["body"].startswith("# Linear")
    for name in ("intro", "text", "text"):
        res = api.post(f"/courses/{course['id']}/lessons/{course['lessons'][name]}/complete")
        assert res.status_code == 200
    assert (res.json()["lessons_completed"], res.json()["lessons_total"], res.json()["percent"]) == (2, 4, 50)
    mine = api.get("/courses/enrolled").json()
    assert mine["total"] == 1 and mine["items"][0]["percent"] == 50
    assert api.get(f"/courses/{course['id']}/lessons/{course['lessons']['text']}").json()["completed"] is True


def test_a_paid_course_needs_payment_and_a_non_enrolled_student_cannot_complete(course_factory, student, client_for):
    course = course_factory(price_minor=4900)
    api = client_for(student)
    res = api.post(f"/courses/{course['id']}/enrol")
    assert res.status_code == 402 and res.json()["code"] == "payment_required"
    preview = f"/courses/{course['id']}/lessons/{course['lessons']['intro']}"
    assert api.post(preview + "/complete").status_code == 409
    assert api.get(f"/courses/{course['id']}/progress").status_code == 404


@needs_payments
def test_paying_for_a_course_enrols_and_a_full_refund_revokes(
    course_factory, student, tutor, admin_user, client_for, django_capture_on_commit_callbacks
):
    course = course_factory(price_minor=4900, currency="EUR")
    api = client_for(student)
    with django_capture_on_commit_callbacks(execute=True):
        res = api.post("/payments/checkout", {"kind": "course", "object_id": course["id"]})
    assert res.status_code == 201, res.content
    assert (res.json()["amount_minor"], res.json()["currency"], res.json()["status"]) == (4900, "EUR", "succeeded")
    lesson = f"/courses/{course['id']}/lessons/{course['lessons']['text']}"
    assert api.get(lesson).status_code == 200
    assert api.get(f"/courses/{course['id']}").json()["enrolled"] is True
    wallet = client_for(tutor).get("/payments/wallet").json()["balances"]
    assert wallet == [{"currency": "EUR", "pending_minor": 4165, "available_minor": 0, "held_minor": 0}]
    # paying again is refused by the course (already enrolled)
    assert api.post("/payments/checkout", {"kind": "course", "object_id": course["id"]}).status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        refund = client_for(admin_user).post(
            f"/payments/admin/payments/{res.json()['payment_id']}/refund", {"amount_minor": 4900}
        )
    assert refund.status_code == 201, refund.content
    assert api.get(lesson).status_code == 404


@needs_payments
def test_a_free_course_cannot_be_checked_out(course_factory, student, client_for):
    course = course_factory()
    res = client_for(student).post("/payments/checkout", {"kind": "course", "object_id": course["id"]})
    assert res.status_code == 409 and res.json()["code"] == "nothing_to_pay"


def test_unpublished_courses_are_hidden_from_students(course_factory, student, tutor, client_for):
    course = course_factory(published=False)
    api = client_for(student)
    assert api.get(f"/courses/{course['id']}").status_code == 404
    assert api.get("/courses").json()["total"] == 0
    assert api.post(f"/courses/{course['id']}/enrol").status_code == 404
    assert client_for(tutor).get("/courses/teaching").json()["total"] == 1
    assert client_for(tutor).patch(f"/courses/{course['id']}", {"published": True}).status_code == 200
    assert api.get("/courses").json()["total"] == 1


def test_the_catalogue_filters(course_factory, make_user, student, client_for):
    other = make_user(Role.TUTOR)
    course_factory(title="Algebra", subject="Mathematics", price_minor=0)
    course_factory(title="Calculus", subject="Mathematics", price_minor=9900)
    course_factory(title="French verbs", subject="French", price_minor=2500, owner=other, description="Conjugation drills")
    api = client_for(student)

    def titles(**params):  # type: ignore[no-untyped-def]
        res = api.get("/courses", params)
        assert res.status_code == 200, res.content
        return sorted(c["title"] for c in res.json()["items"])

    assert titles(subject="mathematics") == ["Algebra", "Calculus"]
    assert titles(free=True) == ["Algebra"]
    assert titles(min_price=1, max_price=5000) == ["French verbs"]
    assert titles(tutor_id=str(other.id)) == ["French verbs"]
    assert titles(q="conjugation") == ["French verbs"]
    assert titles(page_size=2, page=2) in (["Algebra"], ["Calculus"], ["French verbs"])


def test_the_catalogue_is_public_and_shows_only_published_courses(course_factory, client_for):
    course_factory(title="Open")
    course_factory(title="Draft", published=False)
    res = client_for(None).get("/courses")
    assert res.status_code == 200
    assert [c["title"] for c in res.json()["items"]] == ["Open"]


def test_the_catalogue_runs_a_fixed_number_of_queries(course_factory, student, client_for, django_assert_num_queries):
    api = client_for(student)
    course_factory()
    api.get("/courses")
    with django_assert_num_queries(0):  # a hit: the shared catalogue cache, for every caller
        assert api.get("/courses")["X-Cache"] == "hit"
        assert client_for(None).get("/courses")["X-Cache"] == "hit"
    course_factory(title="Course 0")  # a write: the next read is a miss
    with django_assert_num_queries(2):  # COUNT, page
        assert api.get("/courses").json()["total"] == 2
    for i in range(1, 5):
        course_factory(title=f"Course {i}")
    with django_assert_num_queries(2):
        assert api.get("/courses").json()["total"] == 6


def test_tutors_see_enrolments_and_progress_of_their_own_courses_only(
    course_factory, make_user, tutor, client_for, django_assert_num_queries
):
    course = course_factory()
    students = [make_user(Role.STUDENT) for _ in range(3)]
    api = client_for(tutor)
    client_for(students[0]).post(f"/courses/{course['id']}/enrol")
    api.get(f"/courses/{course['id']}/enrolments")
    with django_assert_num_queries(3):  # course, COUNT, page (the caller comes from the cache)
        assert api.get(f"/courses/{course['id']}/enrolments").json()["total"] == 1
    for s in students[1:]:
        client_for(s).post(f"/courses/{course['id']}/enrol")
    client_for(students[0]).post(f"/courses/{course['id']}/lessons/{course['lessons']['text']}/complete")
    with django_assert_num_queries(3):
        res = api.get(f"/courses/{course['id']}/enrolments")
    rows = res.json()["items"]
    assert res.json()["total"] == 3
    assert sorted(r["lessons_completed"] for r in rows) == [0, 0, 1]
    assert {r["student_id"] for r in rows} == {str(s.id) for s in students}
    assert client_for(make_user(Role.TUTOR)).get(f"/courses/{course['id']}/enrolments").status_code == 403
    assert client_for(students[0]).get(f"/courses/{course['id']}/enrolments").status_code == 403


def test_only_the_tutor_changes_a_course(course_factory, make_user, student, client_for):
    course = course_factory()
    other = make_user(Role.TUTOR)
    assert client_for(other).patch(f"/courses/{course['id']}", {"title": "Mine now"}).status_code == 403
    assert client_for(other).post(f"/courses/{course['id']}/lessons", {"title": "x", "content_type": "text"}).status_code == 403
    assert client_for(student).post("/courses", {"title": "x", "subject": "y"}).status_code == 403
    client_for(student).post(f"/courses/{course['id']}/enrol")
    assert client_for(other).delete(f"/courses/{course['id']}").status_code == 403


def test_a_course_with_students_cannot_be_deleted(course_factory, student, tutor, client_for):
    course = course_factory()
    client_for(student).post(f"/courses/{course['id']}/enrol")
    assert client_for(tutor).delete(f"/courses/{course['id']}").status_code == 409
    empty = course_factory(title="Empty")
    assert client_for(tutor).delete(f"/courses/{empty['id']}").status_code == 204


@pytest.mark.parametrize(
    "lesson",
    [
        {
            "title": "Bad quiz",
            "content_type": "quiz",
            "questions": [{"id": "q", "text": "?", "options": ["a", "b"], "correct": [2]}],
        },
        {"title": "Empty quiz", "content_type": "quiz", "questions": []},
        {"title": "No video", "content_type": "video"},
        {"title": "Odd URL", "content_type": "video", "video_url": "javascript:alert(1)"},
        {"title": "Extra", "content_type": "text", "secret": True},
    ],
)
def test_bad_lessons_are_refused(course_factory, tutor, client_for, lesson):
    course = course_factory()
    res = client_for(tutor).post(f"/courses/{course['id']}/lessons", lesson)
    assert res.status_code == 422, res.content


def test_lesson_documents_download_only_for_enrolled_students_and_the_tutor(
    course_factory, student, make_user, tutor, client_for, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    course = course_factory(price_minor=100)
    url = f"/courses/{course['id']}/lessons/{course['lessons']['doc']}"
    upload = SimpleUploadedFile("sheet.pdf", PDF, content_type="application/pdf")
    res = client_for(tutor).post(url + "/document", files={"file": upload})
    assert res.status_code == 200, res.content
    assert res.json()["has_document"] is True
    assert client_for(student).get(url + "/document").status_code == 404
    got = client_for(tutor).get(url + "/document")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    # a program disguised as a PDF is refused
    fake = SimpleUploadedFile("evil.pdf", b"MZ\x90\x00binary", content_type="application/pdf")
    assert client_for(tutor).post(url + "/document", files={"file": fake}).status_code == 415
    # an enrolled student may download
    free = course_factory(title="Free")
    furl = f"/courses/{free['id']}/lessons/{free['lessons']['doc']}"
    client_for(tutor).post(furl + "/document", files={"file": SimpleUploadedFile("a.pdf", PDF)})
    client_for(student).post(f"/courses/{free['id']}/enrol")
    assert client_for(student).get(furl + "/document").status_code == 200
    assert client_for(make_user(Role.STUDENT)).get(furl + "/document").status_code == 404


def test_contact_policy_allows_an_enrolled_student_and_the_tutor(course_factory, student, make_user, tutor, client_for):
    course = course_factory()
    stranger = make_user(Role.STUDENT)
    client_for(student).post(f"/courses/{course['id']}/enrol")
    fn = dict(hooks.entries(HOOKS.CONTACT_POLICY))["courses"]
    assert fn(student, tutor) == "course enrolment"
    assert fn(tutor, student) == "course enrolment"
    assert fn(stranger, tutor) is None


def test_unknown_course_ids_answer_404(student, client_for):
    assert client_for(student).get(f"/courses/{uuid.uuid4()}").status_code == 404


def test_a_video_url_cannot_become_a_script_by_patching(course_factory, tutor, client_for):
    course = course_factory()
    url = f"/courses/{course['id']}/lessons/{course['lessons']['intro']}"
    assert client_for(tutor).patch(url, {"video_url": "javascript:alert(1)"}).status_code == 422
    assert (
        client_for(tutor).patch(url, {"video_url": "https://video.example/new"}).json()["video_url"]
        == "https://video.example/new"
    )


def test_demo_data_is_idempotent(db):
    seed_demo()
    seed_demo()
    assert Course.objects.filter(published=True).count() == 2


def test_a_course_price_needs_a_real_currency(tutor, client_for):
    res = client_for(tutor).post("/courses", {"title": "x", "subject": "y", "price_minor": 100, "currency": "ZZZ"})
    assert res.status_code == 422
    res = client_for(tutor).post("/courses", {"title": "x", "subject": "y", "price_minor": 100, "currency": "jpy"})
    assert res.status_code == 201 and res.json()["currency"] == "JPY"


def test_my_enrolments_run_a_fixed_number_of_queries(course_factory, student, client_for, django_assert_num_queries):
    api = client_for(student)
    api.post(f"/courses/{course_factory(title='One')['id']}/enrol")
    with django_assert_num_queries(2):  # COUNT, page (the caller comes from the cache)
        assert api.get("/courses/enrolled").json()["total"] == 1
    with django_assert_num_queries(0):  # then a hit, cached for this caller
        assert api.get("/courses/enrolled")["X-Cache"] == "hit"
    for i in range(4):
        course = course_factory(title=f"More {i}")
        api.post(f"/courses/{course['id']}/enrol")
        api.post(f"/courses/{course['id']}/lessons/{course['lessons']['intro']}/complete")
    with django_assert_num_queries(2):
        items = api.get("/courses/enrolled").json()["items"]
    assert len(items) == 5 and sorted(i["percent"] for i in items) == [0, 25, 25, 25, 25]


def test_a_cover_image_is_stored_re_encoded_and_a_non_image_refused(
    course_factory, tutor, student, client_for, settings, tmp_path
):
    import io

    from PIL import Image

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    course = course_factory()
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buf, format="PNG")
    res = client_for(tutor).post(f"/courses/{course['id']}/cover", files={"file": SimpleUploadedFile("c.png", buf.getvalue())})
    assert res.status_code == 200, res.content
    assert res.json()["cover_url"] and res.json()["cover_url"].endswith(".jpg")
    assert (
        client_for(tutor).post(f"/courses/{course['id']}/cover", files={"file": SimpleUploadedFile("c.png", PDF)}).status_code
        == 415
    )
    up = SimpleUploadedFile("c.png", buf.getvalue())
    assert client_for(student).post(f"/courses/{course['id']}/cover", files={"file": up}).status_code == 403


def test_who_may_enrol_and_complete_a_lesson(course_factory, make_user, student, tutor, client_for, admin_user):
    course = course_factory()
    lessons = {name: f"/courses/{course['id']}/lessons/{lid}/complete" for name, lid in course["lessons"].items()}
    api = client_for(student)
    # not enrolled: a paid-only lesson is invisible (404), the preview says enrol first (409)
    assert api.post(lessons["text"]).status_code == 404
    assert api.post(lessons["intro"]).json()["code"] == "not_enrolled"
    # the tutor and an admin may read every lesson but have nothing to complete
    assert client_for(tutor).post(lessons["text"]).json()["code"] == "not_enrolled"
    assert client_for(admin_user).post(lessons["text"]).json()["code"] == "not_enrolled"
    assert client_for(tutor).post(f"/courses/{course['id']}/enrol").json()["code"] == "own_course"
    # a lesson id under another course, or an unknown course: 404
    other = course_factory(title="Geometry")
    assert api.post(f"/courses/{other['id']}/lessons/{course['lessons']['text']}/complete").status_code == 404
    assert api.post(f"/courses/{uuid.uuid4()}/enrol").status_code == 404
    # enrolled: completion answers the progress, quiz scores included, and repeating it changes nothing
    assert api.post(f"/courses/{course['id']}/enrol").status_code == 201
    api.post(f"/courses/{course['id']}/lessons/{course['lessons']['quiz']}/quiz", {"answers": {"q1": [1], "q2": [0]}})
    first = api.post(lessons["text"]).json()
    again = api.post(lessons["text"]).json()
    assert first == again
    assert (again["lessons_total"], again["lessons_completed"], again["percent"], again["status"]) == (4, 2, 50, "active")
    assert sorted(again["completed_lesson_ids"]) == sorted([course["lessons"]["text"], course["lessons"]["quiz"]])
    assert again["best_quiz_scores"] == {course["lessons"]["quiz"]: 1} and again["course_title"] == "Algebra basics"
    assert again == api.get(f"/courses/{course['id']}/progress").json()
    # an unpublished course's lessons are 404 to its students too
    client_for(tutor).patch(f"/courses/{course['id']}", {"published": False})
    assert api.post(lessons["text"]).status_code == 404
    assert client_for(make_user(Role.STUDENT)).post(f"/courses/{course['id']}/enrol").status_code == 404
