"""Thread lists and histories are cached per caller; the other party's send, edit and read reach them at once."""

from __future__ import annotations

from tests.modules.messaging.test_messaging_api import send


def test_the_other_partys_messages_reach_my_cached_lists(pair, client_for, django_assert_num_queries):
    student, tutor = pair
    s, t = client_for(student), client_for(tutor)
    send(t, student, "first")
    assert s.get("/messaging/threads").json()["items"][0]["unread_count"] == 1
    with django_assert_num_queries(0):
        assert s.get("/messaging/threads")["X-Cache"] == "hit"
    history = f"/messaging/threads/{tutor.pk}/messages"
    assert [m["body"] for m in s.get(history).json()["items"]] == ["first"]

    second = send(t, student, "second").json()
    assert s.get("/messaging/threads").json()["items"][0]["unread_count"] == 2
    assert [m["body"] for m in s.get(history).json()["items"]] == ["second", "first"]

    assert t.patch(f"/messaging/messages/{second['id']}", {"body": "second, edited"}).status_code == 200
    assert s.get(history).json()["items"][0]["body"] == "second, edited"

    # My own write (reading the thread) changes my cached lists and the sender's view of read state.
    tutor_view = t.get(f"/messaging/threads/{student.pk}/messages").json()["items"]
    assert all(m["read_at"] is None for m in tutor_view)
    assert s.post(f"/messaging/threads/{tutor.pk}/read").status_code in (200, 204)
    assert s.get("/messaging/threads").json()["items"][0]["unread_count"] == 0
    assert all(m["read_at"] for m in t.get(f"/messaging/threads/{student.pk}/messages").json()["items"])
