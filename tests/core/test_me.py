from __future__ import annotations

import pytest

from core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_me_requires_a_token(anon):
    res = anon.get("/me")
    assert res.status_code == 401
    assert res["Content-Type"] == "application/problem+json"
    assert res.json()["code"] == "not_authenticated"


def test_me_returns_the_callers_profile(student, client_for):
    res = client_for(student).get("/me")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["email"] == student.email
    assert body["role"] == "student"
    assert body["email_verified"] is True


def test_patch_me_changes_profile_and_audits(student, client_for):
    res = client_for(student).patch("/me", {"timezone": "Asia/Tokyo", "first_name": "Kei", "currency": "jpy"})
    assert res.status_code == 200, res.content
    assert res.json()["timezone"] == "Asia/Tokyo"
    assert res.json()["currency"] == "JPY"
    student.refresh_from_db()
    assert student.first_name == "Kei"
    assert AuditLog.objects.filter(action="user.profile_updated", target_id=str(student.pk)).exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"currency": "XXX1"}, "currency"),
        ({"locale": "english!"}, "locale"),
        ({"role": "admin"}, "role"),
        ({"first_name": 5}, "first_name"),
    ],
)
def test_patch_me_refuses_bad_input_and_changes_nothing(student, client_for, body, field):
    res = client_for(student).patch("/me", body)
    assert res.status_code == 422, res.content
    problem = res.json()
    assert res["Content-Type"] == "application/problem+json"
    assert problem["status"] == 422
    assert any(e["field"] == field for e in problem["errors"]), problem
    student.refresh_from_db()
    assert student.role == "student" and student.timezone == "UTC"


def test_malformed_json_answers_problem_details(student, client_for):
    res = client_for(student).patch("/me", '{"first_name": ')
    assert res.status_code in (400, 422)
    assert res["Content-Type"] == "application/problem+json"
    assert res.json()["status"] == res.status_code


def test_utils_lists_are_public(anon):
    tz = anon.get("/utils/timezones").json()
    assert any(z["name"] == "America/New_York" for z in tz)
    assert any(c["code"] == "JPY" and c["minor_units"] == 0 for c in anon.get("/utils/currencies").json())
    assert any(c["code"] == "DE" for c in anon.get("/utils/countries").json())
    assert any(c["code"] == "fr" for c in anon.get("/utils/languages").json())


def test_accepting_a_new_terms_version_is_stored_with_its_time_and_audited(student, client_for):
    res = client_for(student).patch("/me", {"terms_version": "2026-11"})
    assert res.status_code == 200, res.content
    assert res.json()["terms_version"] == "2026-11" and res.json()["terms_accepted_at"]
    entry = AuditLog.objects.get(action="user.terms_accepted", target_id=str(student.pk))
    assert entry.details["new"] == "2026-11"
