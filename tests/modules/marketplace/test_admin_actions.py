"""Operators approve and reject tutor profiles from the Django admin, through the same service."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import AuditLog
from modules.marketplace.models import TutorProfile, TutorStatus
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_admin_actions_approve_and_reject_pending_profiles(make_tutor, admin_user, events):
    pending = make_tutor(status=TutorStatus.PENDING)
    other = make_tutor(status=TutorStatus.PENDING)
    client = Client()
    assert client.login(username=admin_user.email, password=PASSWORD)
    url = "/admin/marketplace/tutorprofile/"
    assert client.post(url, {"action": "approve_profiles", "_selected_action": [pending.pk]}).status_code == 302
    assert client.post(url, {"action": "reject_profiles", "_selected_action": [other.pk]}).status_code == 302
    assert TutorProfile.objects.get(pk=pending.pk).status == TutorStatus.APPROVED
    rejected = TutorProfile.objects.get(pk=other.pk)
    assert rejected.status == TutorStatus.REJECTED and rejected.rejection_reason
    assert {"marketplace.tutor_approved.v1", "marketplace.tutor_rejected.v1"} <= {e.event_type for e in events}
    assert AuditLog.objects.filter(action="marketplace.tutor_approved", target_id=str(pending.pk)).exists()
