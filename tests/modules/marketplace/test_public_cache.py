"""Public reads come from the cache as rendered bytes, and a write that changes them is seen at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.testing import ApiClient
from modules.marketplace.models import Subject, TutorProfile, TutorStatus
from tests.modules.marketplace.conftest import book, future


def test_a_repeated_search_is_a_hit_without_queries_and_equal_bytes(
    anon: ApiClient, tutor_profile: TutorProfile, django_assert_num_queries: Any
) -> None:
    first = anon.get("/marketplace/tutors", {"q": "algebra", "sort": "rating"})
    assert first.status_code == 200 and first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = anon.get("/marketplace/tutors", {"sort": "rating", "q": "algebra"})  # same query, other order
    assert second["X-Cache"] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] == "application/json; charset=utf-8"
    assert second.json()["items"][0]["id"] == str(tutor_profile.id)


def test_approving_a_tutor_makes_cached_searches_and_subjects_miss(
    anon: ApiClient,
    client_for: Callable[..., ApiClient],
    admin_user: Any,
    make_tutor: Callable[..., TutorProfile],
    tutor_profile: TutorProfile,
) -> None:
    pending = make_tutor(status=TutorStatus.PENDING, first_name="Pat")
    assert anon.get("/marketplace/tutors").json()["total"] == 1
    assert anon.get("/marketplace/subjects").json()[0]["tutor_count"] == 1
    assert anon.get("/marketplace/tutors")["X-Cache"] == "hit"

    assert client_for(admin_user).post(f"/marketplace/admin/tutors/{pending.id}/approve").status_code == 200

    after = anon.get("/marketplace/tutors")
    assert after["X-Cache"] == "miss"
    assert after.json()["total"] == 2
    assert anon.get("/marketplace/subjects").json()[0]["tutor_count"] == 2
    assert anon.get(f"/marketplace/tutors/{pending.id}").status_code == 200


def test_a_booking_removes_its_slot_from_the_cached_answer(
    anon: ApiClient, student: Any, client_for: Callable[..., ApiClient], tutor_profile: TutorProfile, subject: Subject
) -> None:
    starts = future(days=3, hour=10)
    url = f"/marketplace/tutors/{tutor_profile.id}/slots"
    params = {"start": starts.date().isoformat(), "end": starts.date().isoformat(), "duration": 60}

    def starts_utc() -> set[str]:
        return {s["start_utc"][:16] for s in anon.get(url, params).json()["slots"]}

    assert starts.strftime("%Y-%m-%dT%H:%M") in starts_utc()
    assert anon.get(url, params)["X-Cache"] == "hit"

    assert book(client_for(student), tutor_profile, subject, starts).status_code == 201

    assert anon.get(url, params)["X-Cache"] == "miss"
    assert starts.strftime("%Y-%m-%dT%H:%M") not in starts_utc()


def test_errors_are_not_cached(anon: ApiClient, db: Any) -> None:
    missing = "/marketplace/tutors/00000000-0000-0000-0000-000000000000"
    assert anon.get(missing).status_code == 404
    again = anon.get(missing)
    assert again.status_code == 404 and again["X-Cache"] == "miss"


def test_a_caller_with_a_token_gets_the_same_public_answer(
    anon: ApiClient, client_for: Callable[..., ApiClient], student: Any, tutor_profile: TutorProfile
) -> None:
    first = anon.get(f"/marketplace/tutors/{tutor_profile.id}")
    second = client_for(student).get(f"/marketplace/tutors/{tutor_profile.id}")
    assert second["X-Cache"] == "hit" and second.content == first.content


def test_a_deactivated_tutor_leaves_cached_search_and_profile_at_once(
    anon: ApiClient, client_for: Callable[..., ApiClient], admin_user: Any, tutor_profile: TutorProfile
) -> None:
    assert anon.get("/marketplace/tutors").json()["total"] == 1
    assert anon.get(f"/marketplace/tutors/{tutor_profile.id}").status_code == 200

    answer = client_for(admin_user).patch(f"/admin/users/{tutor_profile.user_id}", {"is_active": False})
    assert answer.status_code == 200, answer.content

    assert anon.get("/marketplace/tutors").json()["total"] == 0
    assert anon.get(f"/marketplace/tutors/{tutor_profile.id}").status_code == 404


def test_my_bookings_are_cached_per_caller_and_follow_every_change(
    client_for: Callable[..., ApiClient],
    make_user: Callable[..., Any],
    student: Any,
    tutor_profile: TutorProfile,
    subject: Subject,
    django_assert_num_queries: Any,
) -> None:
    from core.models import Role

    mine, other = client_for(student), client_for(make_user(Role.STUDENT))
    tutor = client_for(tutor_profile.user)
    assert mine.get("/marketplace/bookings").json()["total"] == 0
    with django_assert_num_queries(0):
        assert mine.get("/marketplace/bookings")["X-Cache"] == "hit"

    booking = book(mine, tutor_profile, subject, future(days=4, hour=11)).json()
    listed = mine.get("/marketplace/bookings")
    assert listed["X-Cache"] == "miss" and [b["id"] for b in listed.json()["items"]] == [booking["id"]]
    assert other.get("/marketplace/bookings").json()["total"] == 0  # same URL, another caller: their own answer
    assert tutor.get("/marketplace/bookings").json()["items"][0]["status"] == "pending"

    assert tutor.post(f"/marketplace/bookings/{booking['id']}/confirm").status_code == 200
    # The tutor's write reaches the student's cached list at once.
    assert mine.get("/marketplace/bookings").json()["items"][0]["status"] == "confirmed"
    assert tutor.get("/marketplace/bookings").json()["items"][0]["status"] == "confirmed"


def test_a_revoked_token_gets_401_not_a_cached_list(client_for: Callable[..., ApiClient], student: Any) -> None:
    api = client_for(student)
    assert api.get("/marketplace/bookings").status_code == 200
    student.is_active = False
    student.save()
    assert api.get("/marketplace/bookings").status_code == 401


def test_a_private_hit_reads_the_cache_twice(client_for: Callable[..., ApiClient], student: Any, monkeypatch: Any) -> None:
    """The session, the user row and the caller's namespace versions in one round trip, then the
    answer: two cache reads for a cached private list (three before the versions joined the first).
    The spy only records the outermost calls (a local-memory get_many calls get per key); the cache
    answers as it always does."""
    from django.core.cache import cache

    api = client_for(student)
    assert api.get("/marketplace/bookings")["X-Cache"] == "miss"
    reads: list[str] = []
    depth = [0]

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if not depth[0]:
                reads.append(name)
            depth[0] += 1
            try:
                return real(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    for name in ("get", "get_many"):
        monkeypatch.setattr(cache, name, spy(name, getattr(cache, name)))
    hit = api.get("/marketplace/bookings")
    assert hit["X-Cache"] == "hit" and hit.json()["total"] == 0
    assert reads == ["get_many", "get"]
