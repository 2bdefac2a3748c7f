"""E-mail through a real SMTP server on loopback (aiosmtpd): delivery, retries, the e-mail log."""

from __future__ import annotations

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from modules.notifications import tasks
from modules.notifications.models import Delivery, EmailLog, Notification

from .conftest import free_port

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self, answer: str = "250 OK") -> None:
        self.answer = answer
        self.messages: list[email.message.EmailMessage] = []
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
        self.attempts += 1
        if self.answer.startswith("250"):
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return self.answer


def smtp_settings(port: int):
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_TIMEOUT=5,
        NOTIFICATIONS_EMAIL_BACKOFF_SECONDS=0.01,
    )


@pytest.fixture
def smtp_server():
    servers = []

    def start(answer: str = "250 OK") -> tuple[Recorder, int]:
        recorder = Recorder(answer)
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return recorder, port

    yield start
    for controller in servers:
        controller.stop()


def test_booking_confirmation_reaches_a_real_smtp_server_as_text_and_html(student, tutor, emit, booking_fields, smtp_server):
    recorder, port = smtp_server()
    with smtp_settings(port):
        emit("marketplace.booking_confirmed.v1", **booking_fields())

    assert sorted(m["To"] for m in recorder.messages) == sorted([student.email, tutor.email])
    to_student = next(m for m in recorder.messages if m["To"] == student.email)
    assert to_student["Subject"] == f"Booking confirmed with {tutor.full_name}"
    text = to_student.get_body(preferencelist=("plain",)).get_content()
    html = to_student.get_body(preferencelist=("html",)).get_content()
    assert "Monday 04 March 2030, 15:00" in text and tutor.full_name in text
    assert "<strong>" in html and tutor.full_name in html
    logs = EmailLog.objects.filter(type="notifications.booking_confirmed")
    assert sorted(logs.values_list("recipient", flat=True)) == sorted([student.email, tutor.email])
    assert all(log.status == "sent" and log.sent_at and log.attempts == 1 and not log.error for log in logs)


def test_a_delivery_is_sent_at_most_once(student, emit, booking_fields, smtp_server):
    recorder, port = smtp_server()
    with smtp_settings(port):
        emit("marketplace.booking_confirmed.v1", **booking_fields())
        delivery = Delivery.objects.get(notification__user=student, channel="email")
        assert tasks.deliver_email(delivery.pk) is False  # the broker delivered the task twice
    assert len([m for m in recorder.messages if m["To"] == student.email]) == 1
    assert EmailLog.objects.filter(delivery=delivery).count() == 1


@pytest.mark.parametrize("answer", ["554 5.7.1 Transaction failed", "451 4.3.0 Try again later"])
def test_a_failing_smtp_server_is_retried_three_times_then_logged_as_failed(
    student, tutor, emit, booking_fields, smtp_server, answer
):
    recorder, port = smtp_server(answer)
    with smtp_settings(port):
        emit("marketplace.booking_confirmed.v1", **booking_fields())  # no exception reaches the caller

    assert recorder.attempts == 6  # 3 tries for each of the two recipients
    logs = list(EmailLog.objects.filter(recipient=student.email))
    assert len(logs) == 1
    log = logs[0]
    assert log.status == "failed" and log.attempts == 3 and log.sent_at is None
    assert answer.split()[0] in log.error
    assert Delivery.objects.get(notification__user=student, channel="email").status == "failed"
    # the in-app notification is there regardless
    assert Notification.objects.filter(user=student, type="notifications.booking_confirmed", in_app=True).exists()


def test_nothing_listening_is_a_failed_log_row_not_a_crash(student, emit, booking_fields):
    with smtp_settings(free_port()):
        emit("marketplace.booking_confirmed.v1", **booking_fields())
    log = EmailLog.objects.get(recipient=student.email)
    assert log.status == "failed" and log.attempts == 3
    assert "Connection" in log.error or "refused" in log.error.lower()
