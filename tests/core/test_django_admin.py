"""The Django admin: platform admins only, a second factor when they have one (always in production)."""

from __future__ import annotations

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.test import Client, override_settings

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(email: str, otp: str = "") -> Client:
    client = Client()
    client.post("/admin/login/?next=/admin/", {"username": email, "password": PASSWORD, "otp": otp, "next": "/admin/"})
    return client


def test_students_and_tutors_cannot_use_the_admin(student, tutor):
    for user in (student, tutor):
        user.is_staff = True  # even a stray staff flag is not enough
        user.save()
        assert login(user.email).get("/admin/").status_code == 302


def test_admin_without_mfa_gets_in_outside_production(admin_user):
    client = login(admin_user.email)
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/modules/")
    assert page.status_code == 200 and b"ENABLED_MODULES" in page.content


@override_settings(ADMIN_REQUIRE_MFA=True)
def test_mfa_is_required_when_configured(admin_user):
    assert login(admin_user.email).get("/admin/").status_code == 302
    codes = RecoveryCodes.activate(admin_user).generate_codes()
    assert login(admin_user.email, otp="wrong-code").get("/admin/").status_code == 302
    assert login(admin_user.email, otp=codes[0]).get("/admin/").status_code == 200


def test_audit_log_is_read_only_in_the_admin(admin_user):
    from core.audit import audit

    entry = audit("test.entry", actor=admin_user)
    client = login(admin_user.email)
    assert client.get(f"/admin/core/auditlog/{entry.pk}/change/").status_code == 200
    assert client.get(f"/admin/core/auditlog/{entry.pk}/delete/").status_code == 403
    assert client.get("/admin/core/auditlog/add/").status_code == 403
