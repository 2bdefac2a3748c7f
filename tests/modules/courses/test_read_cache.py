"""Course reads come from the cache (the public catalogue shared by every caller, the rest per
caller), and every write that changes an answer is seen at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.models import Role
from core.registry import HOOKS, hooks, is_enabled
from core.testing import ApiClient

pytestmark = pytest.mark.django_db
needs_payments = pytest.mark.skipif(not is_enabled("payments"), reason="the payments module is off")


@pytest.fixture
def make_course(tutor: Any, client_for: Callable[..., ApiClient]) -> Callable[..., dict[str, Any]]:
    def make(*, title: str = "Algebra basics", price_minor: int = 0, owner: Any = None, published: bool = True) -> dict:
        api = client_for(owner or tutor)
        body = {"title": title, "subject": "Mathematics", "price_minor": price_minor, "published": published}
        course = api.post("/courses", body).json()
        lesson = {"title": "Notes", "content_type": "text", "body": "x", "duration_minutes": 10, "is_preview": True}
        course["lesson_id"] = api.post(f"/courses/{course['id']}/lessons", lesson).json()["id"]
        return course

    return make


def test_the_catalogue_is_one_cached_answer_for_every_caller_signed_in_or_not(
    make_course: Callable[..., dict],
    student: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., ApiClient],
    anon: ApiClient,
) -> None:
    make_course()
    first = client_for(student).get("/courses", {"q": "algebra", "page_size": 5})
    assert first.status_code == 200 and first["X-Cache"] == "miss"
    other = client_for(make_user(Role.STUDENT)).get("/courses", {"page_size": 5, "q": "algebra"})  # same query
    assert other["X-Cache"] == "hit" and other.content == first.content
    assert other["Content-Type"] == "application/json; charset=utf-8"
    visitor = anon.get("/courses", {"q": "algebra", "page_size": 5})
    assert visitor.status_code == 200 and visitor["X-Cache"] == "hit" and visitor.content == first.content


def test_course_and_lesson_writes_reach_the_cached_catalogue_at_once(
    make_course: Callable[..., dict], tutor: Any, student: Any, client_for: Callable[..., ApiClient]
) -> None:
    api, author = client_for(student), client_for(tutor)
    course = make_course()
    assert api.get("/courses").json()["items"][0]["lesson_count"] == 1
    assert api.get("/courses")["X-Cache"] == "hit"

    lesson = {"title": "More", "content_type": "text", "body": "y", "duration_minutes": 5}
    assert author.post(f"/courses/{course['id']}/lessons", lesson).status_code == 201
    row = api.get("/courses").json()["items"][0]
    assert (row["lesson_count"], row["total_minutes"]) == (2, 15)

    assert author.patch(f"/courses/{course['id']}", {"title": "Algebra II"}).status_code == 200
    assert api.get("/courses").json()["items"][0]["title"] == "Algebra II"
    assert api.get(f"/courses/{course['id']}").json()["title"] == "Algebra II"

    assert author.delete(f"/courses/{course['id']}/lessons/{course['lesson_id']}").status_code == 204
    assert api.get("/courses").json()["items"][0]["lesson_count"] == 1
    assert [x["title"] for x in api.get(f"/courses/{course['id']}").json()["lessons"]] == ["More"]

    assert author.patch(f"/courses/{course['id']}", {"published": False}).status_code == 200
    assert api.get("/courses").json()["total"] == 0
    assert api.get(f"/courses/{course['id']}").status_code == 404


def test_a_renamed_tutor_shows_at_once_and_an_erased_tutors_courses_leave(
    make_course: Callable[..., dict], tutor: Any, student: Any, client_for: Callable[..., ApiClient]
) -> None:
    api = client_for(student)
    make_course()
    assert api.get("/courses").json()["items"][0]["tutor_name"] == tutor.full_name
    tutor.first_name, tutor.last_name = "Grace", "Hopper"
    tutor.save()
    assert api.get("/courses").json()["items"][0]["tutor_name"] == "Grace Hopper"
    dict(hooks.entries(HOOKS.USER_ERASE))["courses"](tutor)  # the courses module's part of an erasure
    assert api.get("/courses").json()["total"] == 0


def test_the_course_page_my_courses_and_progress_follow_enrolment_and_completion(
    make_course: Callable[..., dict],
    student: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., ApiClient],
    django_assert_num_queries: Any,
) -> None:
    course = make_course()
    api, other = client_for(student), client_for(make_user(Role.STUDENT))
    page = f"/courses/{course['id']}"
    assert api.get(page).json()["enrolled"] is False
    with django_assert_num_queries(0):  # the shared page and the caller's cached enrolments
        assert api.get(page).json()["enrolled"] is False
    assert api.get("/courses/enrolled").json()["total"] == 0

    assert api.post(f"{page}/enrol").status_code == 201
    assert api.get(page).json()["enrolled"] is True
    assert other.get(page).json()["enrolled"] is False  # same URL, another caller: their own answer
    assert api.get("/courses/enrolled").json()["items"][0]["percent"] == 0
    assert api.get(f"{page}/progress").json()["lessons_completed"] == 0
    assert api.get(f"{page}/progress")["X-Cache"] == "hit"

    assert api.post(f"{page}/lessons/{course['lesson_id']}/complete").status_code == 200
    assert api.get("/courses/enrolled").json()["items"][0]["percent"] == 100
    assert api.get(f"{page}/progress").json()["completed_lesson_ids"] == [course["lesson_id"]]


def test_enrolments_changed_outside_the_api_reach_the_cached_answers(
    make_course: Callable[..., dict], student: Any, client_for: Callable[..., ApiClient]
) -> None:
    from modules.courses.models import Enrolment

    course = make_course()
    api = client_for(student)
    assert api.post(f"/courses/{course['id']}/enrol").status_code == 201
    assert api.get("/courses/enrolled").json()["items"][0]["status"] == "active"
    enrolment = Enrolment.objects.get(student=student)
    enrolment.status = "revoked"  # e.g. an operator in the admin
    enrolment.save()
    assert api.get("/courses/enrolled").json()["items"][0]["status"] == "revoked"
    assert api.get(f"/courses/{course['id']}").json()["enrolled"] is False
    enrolment.delete()
    assert api.get("/courses/enrolled").json()["total"] == 0


@needs_payments
def test_a_paid_enrolment_and_its_full_refund_reach_the_cached_answers(
    make_course: Callable[..., dict],
    student: Any,
    admin_user: Any,
    client_for: Callable[..., ApiClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    course = make_course(price_minor=4900)
    api, page = client_for(student), f"/courses/{course['id']}"
    assert api.get(page).json()["enrolled"] is False
    assert api.get("/courses/enrolled").json()["total"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        paid = api.post("/payments/checkout", {"kind": "course", "object_id": course["id"]})
    assert paid.status_code == 201, paid.content
    assert api.get(page).json()["enrolled"] is True
    assert api.get("/courses/enrolled").json()["items"][0]["status"] == "active"
    with django_capture_on_commit_callbacks(execute=True):
        refund = client_for(admin_user).post(
            f"/payments/admin/payments/{paid.json()['payment_id']}/refund", {"amount_minor": 4900}
        )
    assert refund.status_code == 201, refund.content
    assert api.get(page).json()["enrolled"] is False  # queryset update: bumped by the service
    assert api.get("/courses/enrolled").json()["items"][0]["status"] == "revoked"


def test_an_admin_and_a_student_get_their_own_course_page(
    make_course: Callable[..., dict], student: Any, admin_user: Any, client_for: Callable[..., ApiClient]
) -> None:
    course = make_course(published=False)
    assert client_for(student).get(f"/courses/{course['id']}").status_code == 404
    assert client_for(admin_user).get(f"/courses/{course['id']}").status_code == 200
    assert client_for(student).get(f"/courses/{course['id']}").status_code == 404


def test_a_user_made_admin_sees_unpublished_course_pages_at_once(
    make_course: Callable[..., dict], student: Any, client_for: Callable[..., ApiClient]
) -> None:
    course = make_course(published=False)
    api = client_for(student)
    assert api.get(f"/courses/{course['id']}").status_code == 404
    student.role = Role.ADMIN
    student.save()
    assert api.get(f"/courses/{course['id']}").status_code == 200
    student.role = Role.STUDENT
    student.save()
    assert api.get(f"/courses/{course['id']}").status_code == 404


def test_a_course_page_is_built_once_for_every_caller_and_only_their_enrolments_are_read(
    make_course: Callable[..., dict],
    student: Any,
    make_user: Callable[..., Any],
    client_for: Callable[..., ApiClient],
    django_assert_num_queries: Any,
) -> None:
    course = make_course()
    assert client_for(student).get(f"/courses/{course['id']}").status_code == 200
    other = client_for(make_user(Role.STUDENT))
    other.get("/courses/enrolled")  # the caller into the auth cache
    with django_assert_num_queries(1):  # their active enrolments; the page itself is shared
        page = other.get(f"/courses/{course['id']}")
    assert page.status_code == 200 and page.json()["enrolled"] is False and page.json()["lesson_count"] == 1
    # The page is rendered once and "enrolled" appended per caller: the schema's fields, in its order.
    from modules.courses.schemas import CourseDetailOut

    assert list(page.json()) == list(CourseDetailOut.model_fields)
    assert page["Content-Type"] == "application/json; charset=utf-8"
    assert CourseDetailOut.model_validate(page.json()).enrolled is False
