"""Health, readiness, metrics, notify's default e-mail, role changes and audit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from core.errors import Conflict
from core.identity.services import change_role
from core.models import AuditLog, EffectKey
from core.notify import notify

pytestmark = pytest.mark.django_db


def test_liveness(anon):
    res = anon.get("/health")
    assert res.status_code == 200 and res.json() == {"status": "ok"}


def test_readiness_reports_each_dependency(anon):
    res = anon.get("/health/ready")
    assert res.status_code == 200, res.content
    checks = res.json()["checks"]
    assert set(checks) >= {"database", "cache", "channel_layer", "broker"}
    assert all(c["status"] == "ok" for c in checks.values())


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readiness_is_503_when_a_required_service_is_down(anon):
    res = anon.get("/health/ready")
    assert res.status_code == 503
    assert res.json()["checks"]["cache"]["status"] == "down"


def test_metrics_count_requests_by_route(anon):
    anon.get("/health")
    text = anon.get("/metrics").content.decode()
    assert 'http_requests_total{method="GET",route="health",status="200"}' in text
    assert "http_request_duration_seconds_bucket" in text


@override_settings(METRICS_TOKEN="s3cret")
def test_metrics_can_require_a_token(anon):
    assert anon.get("/metrics").status_code == 401
    assert anon.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.fixture
def core_notifier():
    """Core's own notify implementation, even when the notifications module has replaced it."""
    from core.notify import PORT
    from core.registry import ports

    replaced = ports._impls.pop(PORT, None)
    yield
    if replaced is not None:
        ports.register(PORT, replaced)


@pytest.mark.django_db(transaction=True)
def test_default_notify_sends_one_email_per_key(student, core_notifier):
    mail.outbox.clear()
    for _ in range(2):
        notify(student, "system", "core.generic", {"subject": "Hello there", "body": "Your account is ready."}, key="welcome:1")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Hello there" and mail.outbox[0].to == [student.email]
    assert "Your account is ready." in mail.outbox[0].body
    assert EffectKey.objects.filter(key="email:welcome:1").exists()


def test_role_change_is_audited_and_last_admin_cannot_be_demoted(admin_user, student):
    change_role(actor=admin_user, user=student, role="tutor")
    entry = AuditLog.objects.get(action="user.role_changed")
    assert entry.details == {"old": "student", "new": "tutor"} and entry.actor == admin_user
    with pytest.raises(Conflict):
        change_role(actor=admin_user, user=admin_user, role="student")
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"


def test_query_count_header_when_enabled(student, client_for, settings):
    assert "X-DB-Queries" not in client_for(student).get("/me")
    settings.QUERY_COUNT_HEADER = True
    res = client_for(student).get("/me")
    assert int(res["X-DB-Queries"]) >= 1
    assert client_for(None).get("/utils/ping").json() == {"pong": True}
