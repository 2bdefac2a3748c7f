"""The notification centre through the API, its live push, and the clean-up schedules."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.notify import PORT, notify
from core.registry import ports
from core.testing import ApiClient, issue_access_token
from modules.notifications import tasks
from modules.notifications.models import EmailLog, Notification
from modules.notifications.services import notify_user
from settings.asgi import application


def make(user, n: int = 1, category: str = "payments") -> None:
    for i in range(n):
        notify(
            user,
            category,
            "notifications.payment_received",
            {"amount": f"{i}.00 USD", "data": {"i": i}},
            key=f"k-{user.pk}-{category}-{i}",
        )


@pytest.mark.django_db
def test_the_module_replaces_cores_notify_port():
    assert ports.get(PORT) is notify_user


@pytest.mark.django_db
def test_list_read_delete_and_counts(student, make_user, client_for):
    make(student, 3)
    c = client_for(student)
    items = c.get("/notifications").json()["items"]
    assert [i["title"] for i in items] == [
        "Payment received: 2.00 USD",
        "Payment received: 1.00 USD",
        "Payment received: 0.00 USD",
    ]
    first = items[0]
    assert first["type"] == "notifications.payment_received" and first["category"] == "payments"
    assert first["data"] == {"i": 2} and first["is_read"] is False and "2.00 USD" in first["body"]
    assert c.get("/notifications/unread-count").json() == {"unread_count": 3}

    res = c.post(f"/notifications/{first['id']}/read")
    assert res.status_code == 200 and res.json()["is_read"] is True
    assert [i["id"] for i in c.get("/notifications", {"unread": "true"}).json()["items"]] == [items[1]["id"], items[2]["id"]]
    assert [i["id"] for i in c.get("/notifications", {"unread": "false"}).json()["items"]] == [first["id"]]

    other = client_for(make_user("student"))
    assert other.post(f"/notifications/{first['id']}/read").status_code == 404
    assert other.delete(f"/notifications/{first['id']}").status_code == 404

    assert c.post("/notifications/read-all").json() == {"marked_read": 2}
    assert c.get("/notifications/unread-count").json() == {"unread_count": 0}
    assert c.delete(f"/notifications/{first['id']}").status_code == 204
    assert len(c.get("/notifications").json()["items"]) == 2
    assert c.delete(f"/notifications/{first['id']}").status_code == 404


@pytest.mark.django_db
def test_the_same_key_notifies_once(student, client_for):
    make(student, 1)
    make(student, 1)
    assert len(client_for(student).get("/notifications").json()["items"]) == 1


@pytest.mark.django_db
def test_a_notification_and_its_email_are_written_together_once_per_key(student, django_assert_num_queries):
    """The preferences read, then the notification with its e-mail delivery: one statement on
    PostgreSQL (no transaction round trips), in one transaction elsewhere. The key again writes
    neither row, so a redelivered event never mails twice."""
    from modules.notifications.models import Delivery

    with CaptureQueriesContext(connection) as ctx:
        first = notify_user(student, "payments", "notifications.payment_received", {"amount": "1.00 USD"}, key="once")
    assert first is not None
    if connection.vendor == "postgresql":
        assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["SELECT", "WITH"]
    delivery = Delivery.objects.get(notification=first)
    assert (delivery.channel, delivery.status, delivery.subject) == ("email", "pending", first.title)
    again = notify_user(student, "payments", "notifications.payment_received", {"amount": "2.00 USD"}, key="once")
    assert again is None
    assert Notification.objects.filter(user=student).count() == 1 and Delivery.objects.count() == 1


@pytest.mark.django_db
def test_cursor_paging_has_no_gaps_or_repeats_while_new_ones_arrive(student, client_for):
    make(student, 45)
    original = set(Notification.objects.values_list("pk", flat=True))
    c = client_for(student)
    seen, cursor, page = [], None, 0
    while True:
        body = c.get("/notifications", {"limit": 10, **({"cursor": cursor} if cursor else {})}).json()
        seen += [i["id"] for i in body["items"]]
        page += 1
        notify(student, "system", "core.generic", {"subject": f"news {page}", "body": "x"}, key=f"live-{page}")
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)), "repeated"
    assert {str(pk) for pk in original} == set(seen), "a gap, or a late arrival inside the pages"
    assert page == 5


@pytest.mark.django_db
def test_list_runs_a_fixed_number_of_queries(student, client_for, django_assert_num_queries, settings):
    settings.PUBLIC_READ_CACHE = False  # the view's own queries (the cache has its own tests)
    c = client_for(student)
    make(student, 1)
    c.get("/notifications")
    with CaptureQueriesContext(connection) as one:
        assert len(c.get("/notifications").json()["items"]) == 1
    make(student, 30, category="reviews")
    with django_assert_num_queries(len(one)):
        assert len(c.get("/notifications", {"limit": 25}).json()["items"]) == 25
    assert len(one) == 1  # the page; the caller comes from the cache


@pytest.mark.django_db
def test_email_log_is_for_admins_only(student, admin_user, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make(student, 2)
    assert client_for(student).get("/notifications/email-log").status_code == 403
    body = client_for(admin_user).get("/notifications/email-log").json()
    assert body["total"] == 2 and {r["recipient"] for r in body["items"]} == {student.email}
    assert all(r["status"] == "sent" for r in body["items"])


@pytest.mark.django_db
def test_clean_up_removes_old_notifications_and_email_logs(student):
    make(student, 2)
    old = timezone.now() - dt.timedelta(days=91)
    Notification.objects.filter(pk=Notification.objects.order_by("created_at").first().pk).update(created_at=old)
    EmailLog.objects.create(
        type="x", recipient="a@example.test", status="sent", created_at=timezone.now() - dt.timedelta(days=181)
    )
    EmailLog.objects.create(
        type="x", recipient="b@example.test", status="sent", created_at=timezone.now() - dt.timedelta(days=179)
    )
    assert tasks.purge_old_notifications() == 1
    assert Notification.objects.count() == 1
    assert tasks.purge_email_logs() == 1
    assert list(EmailLog.objects.values_list("recipient", flat=True)) == ["b@example.test"]


@pytest.mark.django_db
def test_schedules_are_declared():
    from django.apps import apps

    funcs = {s.func: s.cron for s in apps.get_app_config("notifications").schedules}
    assert funcs["modules.notifications.tasks.purge_old_notifications"].count(" ") == 4
    assert "modules.notifications.tasks.purge_email_logs" in funcs
    assert funcs["modules.notifications.tasks.scan_unread_messages"] == "* * * * *"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_new_notification_is_pushed_live_to_the_users_sockets_only(make_user):
    user = await sync_to_async(make_user)("student")
    other = await sync_to_async(make_user)("student")
    socks = []
    for u in (user, other):
        comm = WebsocketCommunicator(application, f"/ws/?token={await sync_to_async(issue_access_token)(u)}")
        assert (await comm.connect())[0]
        assert json.loads(await comm.receive_from(timeout=2))["type"] == "ready"
        socks.append(comm)
    await sync_to_async(make)(user, 1)
    evt = json.loads(await socks[0].receive_from(timeout=2))
    assert evt["type"] == "notification" and evt["data"]["title"] == "Payment received: 0.00 USD"
    assert await socks[1].receive_nothing(timeout=0.3)
    client = await sync_to_async(ApiClient)(user)
    assert (await sync_to_async(client.get)("/notifications/unread-count")).json() == {"unread_count": 1}
    for comm in socks:
        await comm.disconnect()
