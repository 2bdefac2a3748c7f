"""Messaging through the HTTP API: contact policy, blocking, threads, read state, edits, search."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.utils import timezone

from modules.messaging.models import Message, Thread
from tests.conftest import postgres_only

pytestmark = pytest.mark.django_db


def send(client, to, body="Hello", **extra):
    return client.post("/messaging/messages", {"recipient_id": str(to.pk), "body": body, **extra})


def test_student_without_booking_cannot_open_a_thread_and_can_after_one(student, tutor, bookings, client_for):
    s = client_for(student)
    res = s.post("/messaging/threads", {"user_id": str(tutor.pk)})
    assert res.status_code == 403, res.content
    problem = res.json()
    assert problem["code"] == "contact_not_allowed"
    assert "booking" in problem["detail"]
    res = send(s, tutor)
    assert res.status_code == 403 and res.json()["code"] == "contact_not_allowed"
    assert send(client_for(tutor), student).status_code == 403
    assert not Message.objects.exists() and not Thread.objects.exists()

    bookings.book(student, tutor)  # the granting module now says they share a booking

    res = s.post("/messaging/threads", {"user_id": str(tutor.pk)})
    assert res.status_code == 201, res.content
    assert res.json()["other_user"]["id"] == str(tutor.pk)
    assert s.post("/messaging/threads", {"user_id": str(tutor.pk)}).status_code == 200  # the same thread
    res = send(s, tutor, "Can we start at 5?")
    assert res.status_code == 201, res.content
    assert send(client_for(tutor), student, "Sure").status_code == 201
    assert Thread.objects.count() == 1


def test_without_a_granting_module_only_admin_conversations_exist(student, tutor, admin_user, client_for):
    res = send(client_for(admin_user), student, "Welcome aboard")
    assert res.status_code == 201, res.content
    assert send(client_for(student), admin_user, "Thanks!").status_code == 201
    assert send(client_for(tutor), admin_user, "Question about payouts").status_code == 201


def test_student_and_tutor_without_policy_are_refused(student, tutor, bookings, client_for):
    res = send(client_for(tutor), student)
    assert res.status_code == 403 and res.json()["code"] == "contact_not_allowed"


def test_thread_list_shows_other_party_last_message_and_unread_sorted_by_activity(make_user, pair, client_for, bookings):
    student, tutor = pair
    tutor2 = make_user("tutor", first_name="Second")
    bookings.book(student, tutor2)
    t1, t2, s = client_for(tutor), client_for(tutor2), client_for(student)
    assert send(t1, student, "first from tutor 1").status_code == 201
    assert send(t2, student, "from tutor 2").status_code == 201
    assert send(t1, student, "second from tutor 1").status_code == 201

    body = s.get("/messaging/threads").json()
    items = body["items"]
    assert [i["other_user"]["id"] for i in items] == [str(tutor.pk), str(tutor2.pk)]
    assert items[0]["last_message"]["body"] == "second from tutor 1"
    assert items[0]["unread_count"] == 2 and items[1]["unread_count"] == 1
    assert items[0]["other_user"]["name"] == tutor.full_name
    assert s.get("/messaging/unread-count").json() == {"unread_count": 3}

    # replying to tutor 2 moves that thread to the top; the tutor's own view shows no unread
    assert send(s, tutor2, "hi tutor 2").status_code == 201
    items = s.get("/messaging/threads").json()["items"]
    assert items[0]["other_user"]["id"] == str(tutor2.pk)
    assert t2.get("/messaging/threads").json()["items"][0]["unread_count"] == 1


def test_mark_one_read_and_whole_thread_read(pair, client_for):
    student, tutor = pair
    t, s = client_for(tutor), client_for(student)
    ids = [send(t, student, f"m{i}").json()["id"] for i in range(3)]
    assert t.post(f"/messaging/messages/{ids[0]}/read").status_code == 403  # the sender cannot
    res = s.post(f"/messaging/messages/{ids[0]}/read")
    assert res.status_code == 200 and res.json()["is_read"] is True
    assert s.get("/messaging/unread-count").json()["unread_count"] == 2
    res = s.post(f"/messaging/threads/{tutor.pk}/read")
    assert res.json() == {"marked_read": 2}
    assert s.get("/messaging/unread-count").json()["unread_count"] == 0
    history = t.get(f"/messaging/threads/{student.pk}/messages").json()["items"]
    assert all(m["is_read"] for m in history)


def test_edit_and_delete_own_message_the_other_side_sees_deleted(pair, make_user, client_for):
    student, tutor = pair
    s, t = client_for(student), client_for(tutor)
    mid = send(s, tutor, "typo heer").json()["id"]
    assert t.patch(f"/messaging/messages/{mid}", {"body": "hijack"}).status_code == 403
    outsider = client_for(make_user("student"))
    assert outsider.patch(f"/messaging/messages/{mid}", {"body": "x"}).status_code == 404
    assert outsider.delete(f"/messaging/messages/{mid}").status_code == 404

    res = s.patch(f"/messaging/messages/{mid}", {"body": "typo here"})
    assert res.status_code == 200 and res.json()["body"] == "typo here" and res.json()["edited_at"]
    assert t.get(f"/messaging/threads/{student.pk}/messages").json()["items"][0]["body"] == "typo here"

    assert t.delete(f"/messaging/messages/{mid}").status_code == 403
    assert s.delete(f"/messaging/messages/{mid}").status_code == 204
    seen = t.get(f"/messaging/threads/{student.pk}/messages").json()["items"][0]
    assert seen["id"] == mid and seen["is_deleted"] is True and seen["body"] == ""
    assert t.get(f"/messaging/threads/{student.pk}/messages").json()["items"][0]["is_deleted"]
    assert t.get("/messaging/threads").json()["items"][0]["last_message"]["is_deleted"] is True
    assert s.patch(f"/messaging/messages/{mid}", {"body": "again"}).status_code == 404
    assert t.get("/messaging/unread-count").json()["unread_count"] == 0  # a deleted message is not unread


def test_blocking_stops_both_sides_until_unblocked(pair, client_for):
    student, tutor = pair
    s, t = client_for(student), client_for(tutor)
    assert send(s, tutor, "hello").status_code == 201
    assert s.post("/messaging/blocks", {"user_id": str(tutor.pk)}).status_code == 201
    res = send(t, student, "are you there?")
    assert res.status_code == 403 and res.json()["code"] == "blocked"
    assert send(s, tutor, "me neither").json()["code"] == "blocked"
    assert t.post("/messaging/threads", {"user_id": str(student.pk)}).status_code == 403
    assert [b["user"]["id"] for b in s.get("/messaging/blocks").json()] == [str(tutor.pk)]
    assert s.delete(f"/messaging/blocks/{tutor.pk}").status_code == 204
    assert send(t, student, "back again").status_code == 201
    assert s.delete(f"/messaging/blocks/{tutor.pk}").status_code == 404


@pytest.mark.parametrize(
    "body, status",
    [({"body": "x" * 5000}, 201), ({"body": "x" * 5001}, 422), ({"body": ""}, 422), ({"body": "   "}, 422)],
)
def test_message_length_rules(pair, client_for, body, status):
    student, tutor = pair
    res = client_for(student).post("/messaging/messages", {"recipient_id": str(tutor.pk), **body})
    assert res.status_code == status, res.content


def test_write_schema_is_strict_and_unknown_recipient_is_404(pair, client_for):
    student, tutor = pair
    s = client_for(student)
    res = s.post("/messaging/messages", {"recipient_id": str(tutor.pk), "body": "x", "sender_id": str(tutor.pk)})
    assert res.status_code == 422
    assert send(s, type("U", (), {"pk": uuid.uuid4()})()).status_code == 404
    assert send(s, student).status_code == 422  # yourself


def test_booking_reference_is_kept(pair, client_for):
    student, tutor = pair
    booking_id = str(uuid.uuid4())
    res = send(client_for(student), tutor, "about our booking", booking_id=booking_id)
    assert res.json()["booking_id"] == booking_id


def test_history_of_another_pair_is_404(pair, make_user, client_for):
    student, tutor = pair
    send(client_for(student), tutor, "private")
    outsider = client_for(make_user("student"))
    assert outsider.get(f"/messaging/threads/{tutor.pk}/messages").status_code == 404
    assert outsider.get(f"/messaging/threads/{student.pk}/messages").status_code == 404


def test_search_finds_only_your_own_messages(pair, make_user, bookings, client_for):
    student, tutor = pair
    other = make_user("student")
    bookings.book(other, tutor)
    s, t, o = client_for(student), client_for(tutor), client_for(other)
    send(s, tutor, "Could we revise quadratic equations tomorrow?")
    send(t, student, "Yes, bring your homework")
    send(o, tutor, "I also need quadratic equations help")
    hits = s.get("/messaging/search", {"q": "quadratic"}).json()["items"]
    assert [h["body"] for h in hits] == ["Could we revise quadratic equations tomorrow?"]
    assert len(t.get("/messaging/search", {"q": "quadratic"}).json()["items"]) == 2
    assert len(t.get("/messaging/search", {"q": "quadratic", "user_id": str(other.pk)}).json()["items"]) == 1
    assert s.get("/messaging/search", {"q": "homework"}).json()["items"][0]["sender_id"] == str(tutor.pk)
    assert s.get("/messaging/search", {"q": "nothing-like-this"}).json()["items"] == []


@postgres_only
def test_search_on_postgresql_matches_word_forms_and_web_search_syntax(pair, client_for):
    """PostgreSQL's full-text search, not a substring match: "equations" finds "equation", "revising"
    finds "revise", and a leading minus excludes a word."""
    student, tutor = pair
    s = client_for(student)
    send(s, tutor, "Could we revise the quadratic equation tomorrow?")
    send(s, tutor, "Quadratic homework is done")

    def bodies(q: str) -> list[str]:
        return sorted(h["body"] for h in s.get("/messaging/search", {"q": q}).json()["items"])

    assert bodies("equations") == ["Could we revise the quadratic equation tomorrow?"]
    assert bodies("revising") == ["Could we revise the quadratic equation tomorrow?"]
    assert bodies("quadratic -homework") == ["Could we revise the quadratic equation tomorrow?"]


def test_history_pages_over_1000_messages_without_gaps_or_repeats_while_new_ones_arrive(pair, client_for):
    student, tutor = pair
    s = client_for(student)
    first = send(s, tutor, "start").json()
    thread_id = first["thread_id"]
    base = timezone.now() - dt.timedelta(days=2)
    rows = []
    for i in range(1100):
        # pairs of messages share a timestamp, so the id must break ties
        rows.append(
            Message(
                thread_id=thread_id,
                sender=student if i % 2 else tutor,
                recipient=tutor if i % 2 else student,
                body=f"old {i}",
                created_at=base + dt.timedelta(seconds=i // 2),
            )
        )
    Message.objects.bulk_create(rows)
    expected = {str(m.pk) for m in rows} | {first["id"]}

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        res = s.get(f"/messaging/threads/{tutor.pk}/messages", params)
        assert res.status_code == 200, res.content
        body = res.json()
        seen += [m["id"] for m in body["items"]]
        times = [m["created_at"] for m in body["items"]]
        assert times == sorted(times, reverse=True)
        pages += 1
        # new messages arrive between pages (newer than everything already seen)
        send(client_for(tutor), student, f"live {pages}")
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)), "a message was repeated"
    assert set(seen) == expected, "a message was skipped"
    assert pages == 12
    assert s.get(f"/messaging/threads/{tutor.pk}/messages", {"cursor": "not-a-cursor"}).status_code == 400


def test_lists_run_a_fixed_number_of_queries(pair, make_user, bookings, client_for, django_assert_num_queries, settings):
    settings.PUBLIC_READ_CACHE = False  # the view's own queries (the cache has its own tests)
    student, tutor = pair
    s = client_for(student)
    send(client_for(tutor), student, "one")
    s.get("/messaging/threads")  # warm caches (session, content types)

    def count(path):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert s.get(path).status_code == 200
        return len(ctx)

    one_thread = count("/messaging/threads")
    one_history = count(f"/messaging/threads/{tutor.pk}/messages")
    for _ in range(6):
        t = make_user("tutor")
        bookings.book(student, t)
        send(client_for(t), student, "hi")
        send(s, t, "hello back")
    for i in range(15):
        send(client_for(tutor), student, f"more {i}")
    with django_assert_num_queries(one_thread):
        assert len(s.get("/messaging/threads").json()["items"]) == 7
    with django_assert_num_queries(one_history):
        assert len(s.get(f"/messaging/threads/{tutor.pk}/messages").json()["items"]) == 16
    assert (one_thread, one_history) == (1, 3), (one_thread, one_history)  # the caller comes from the cache


def test_message_sent_event_is_published(pair, client_for, events):
    student, tutor = pair
    mid = send(client_for(student), tutor, "hi").json()["id"]
    sent = [e for e in events if e.event_type == "messaging.message_sent.v1"]
    assert len(sent) == 1 and str(sent[0].message_id) == mid and sent[0].recipient_id == tutor.pk


def test_a_conversation_asks_the_contact_policy_once_a_while_and_never_remembers_a_no(
    student, tutor, bookings, client_for, monkeypatch
):
    from modules.messaging import services

    monkeypatch.setattr(services, "CONTACT_GRANT_SECONDS", 0.5)
    s = client_for(student)
    assert send(s, tutor).status_code == 403
    bookings.book(student, tutor)
    assert send(s, tutor).status_code == 201  # the refusal was not kept: contact opens at once
    asked = bookings.calls
    assert all(send(s, tutor, f"more {i}").status_code == 201 for i in range(3))
    assert bookings.calls == asked  # the yes is remembered between messages

    bookings.pairs.clear()  # the granting module withdraws it (an enrolment refunded)
    time.sleep(0.6)
    res = send(s, tutor, "still there?")
    assert res.status_code == 403 and res.json()["code"] == "contact_not_allowed"
