"""The notification centre is cached per user; a new notification and the user's own changes reach it at once."""

from __future__ import annotations

from tests.modules.notifications.test_centre import make


def test_new_notifications_and_reads_reach_the_cached_centre(student, client_for, django_assert_num_queries):
    c = client_for(student)
    make(student, 1)
    assert len(c.get("/notifications").json()["items"]) == 1
    with django_assert_num_queries(0):
        assert c.get("/notifications")["X-Cache"] == "hit"
    make(student, 3)  # keys k-...-0 (already there), 1 and 2: two new ones
    assert len(c.get("/notifications").json()["items"]) == 3
    assert c.get("/notifications/unread-count").json()["unread_count"] == 3
    assert c.post("/notifications/read-all").status_code in (200, 204)
    assert c.get("/notifications/unread-count").json()["unread_count"] == 0
