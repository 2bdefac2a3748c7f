"""The operator console and data protection: admin-only routes, audit immutability, export, erasure."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
import zipfile

import pytest
from django.apps import apps
from django.core import mail
from django.db import DatabaseError, connection, models, transaction
from django.test import Client
from django.utils import timezone

from core.audit import audit
from core.console.admin_api import router as admin_router
from core.console.services import purge_deleted_users
from core.models import AuditLog, DataExport, User
from tests.conftest import PASSWORD, postgres_only

pytestmark = pytest.mark.django_db


def admin_routes() -> list[tuple[str, str]]:
    """Every (method, path) the admin router registers: a route added later is covered automatically."""
    routes = []
    for path, view in admin_router.path_operations.items():
        for op in view.operations:
            for method in op.methods:
                routes.append((method, "/admin" + re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)))
    return routes


def test_every_admin_route_is_403_for_students_and_tutors(student, tutor, client_for):
    routes = admin_routes()
    assert len(routes) >= 10
    for user in (student, tutor):
        api = client_for(user)
        for method, path in routes:
            res = getattr(api, method.lower())(path)
            assert res.status_code == 403, (user.role, method, path, res.status_code, res.content[:200])


def test_every_admin_route_is_401_without_a_token(anon):
    for method, path in admin_routes():
        assert getattr(anon, method.lower())(path).status_code == 401, (method, path)


def test_admin_lists_filters_and_changes_users(admin_user, make_user, client_for):
    tutor = make_user("tutor", first_name="Zelda")
    api = client_for(admin_user)
    page = api.get("/admin/users", {"role": "tutor", "q": "zelda"}).json()
    assert [u["id"] for u in page["items"]] == [str(tutor.pk)] and page["total"] == 1
    res = api.patch(f"/admin/users/{tutor.pk}", {"role": "student", "is_active": False})
    assert res.status_code == 200, res.content
    assert res.json()["role"] == "student" and res.json()["is_active"] is False
    actions = set(AuditLog.objects.filter(target_id=str(tutor.pk)).values_list("action", flat=True))
    assert {"user.role_changed", "user.active_changed"} <= actions
    assert api.patch(f"/admin/users/{tutor.pk}", {"is_staff": True}).status_code == 422  # mass assignment refused


def test_last_admin_cannot_demote_or_delete_themselves(admin_user, client_for):
    api = client_for(admin_user)
    assert api.patch(f"/admin/users/{admin_user.pk}", {"role": "student"}).status_code == 409
    assert api.delete(f"/admin/users/{admin_user.pk}").status_code == 409
    admin_user.refresh_from_db()
    assert admin_user.role == "admin" and admin_user.deleted_at is None


def test_audit_list_pages_by_cursor_and_exports_csv(admin_user, client_for):
    for i in range(25):
        audit("test.event", target_type="thing", target_id=str(i))
    api = client_for(admin_user)
    first = api.get("/admin/audit", {"action": "test.event", "limit": 10}).json()
    second = api.get("/admin/audit", {"action": "test.event", "limit": 10, "cursor": first["next_cursor"]}).json()
    third = api.get("/admin/audit", {"action": "test.event", "limit": 10, "cursor": second["next_cursor"]}).json()
    ids = [r["target_id"] for page in (first, second, third) for r in page["items"]]
    assert sorted(ids, key=int) == [str(i) for i in range(25)] and third["next_cursor"] is None
    csv_text = api.get("/admin/audit/export", {"action": "test.event"}).content.decode()
    assert csv_text.count("test.event") == 25


def test_dashboard_has_core_figures_and_is_cached(admin_user, client_for, django_assert_max_num_queries):
    api = client_for(admin_user)
    first = api.get("/admin/dashboard", {"months": 3}).json()
    assert first["core"]["users_by_role"]["admin"] == 1
    User.objects.create_user("late@example.test", "x" * 12)
    with django_assert_max_num_queries(2):  # authenticating the caller only (token session, user)
        assert api.get("/admin/dashboard", {"months": 3}).json() == first  # cached for a minute
    assert api.get("/admin/dashboard", {"months": 25}).status_code == 422


def test_modules_listing(admin_user, client_for):
    rows = client_for(admin_user).get("/admin/modules").json()
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) >= {"label", "enabled", "requires", "routes", "schedules"}


@postgres_only
def test_audit_rows_cannot_be_changed_or_deleted_on_postgres(student):
    entry = audit("test.immutable", actor=student)
    for attempt in (
        lambda: AuditLog.objects.filter(pk=entry.pk).update(action="forged"),
        lambda: AuditLog.objects.filter(pk=entry.pk).delete(),
        lambda: connection.cursor().execute("UPDATE core_auditlog SET action = 'x' WHERE id = %s", [entry.pk]),
        lambda: connection.cursor().execute("DELETE FROM core_auditlog WHERE id = %s", [entry.pk]),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    entry.refresh_from_db()
    assert entry.action == "test.immutable"


# --- data protection -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_export_zip_holds_the_users_data_only(make_user, client_for):
    alice = make_user("student", first_name="Alice")
    bob = make_user("student", first_name="Bobbington")
    audit("test.by_bob", actor=bob)
    api = client_for(alice)
    res = api.post("/me/export")
    assert res.status_code == 202, res.content
    export = DataExport.objects.get(id=res.json()["id"])
    assert export.status == "ready"  # tasks run inline in tests
    link = re.search(r"(/api/v1/me/exports/download\?token=\S+)", mail.outbox[-1].body).group(1)
    download = Client().get(link)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    zf = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = set(zf.namelist())
    assert {"core.json", "README.txt"} <= names
    from core.registry import HOOKS, hooks

    assert {f"{owner}.json" for owner, _ in hooks.entries(HOOKS.USER_EXPORT)} <= names
    everything = "".join(zf.read(n).decode(errors="ignore") for n in names)
    assert alice.email in everything
    assert bob.email not in everything and "Bobbington" not in everything
    assert Client().get(link.replace("token=", "token=x")).status_code == 404
    assert [e["id"] for e in api.get("/me/exports").json()] == [str(export.id)]


def test_delete_me_needs_password_and_the_word(student, client_for):
    api = client_for(student)
    assert api.delete("/me", {"password": PASSWORD, "confirm": "yes"}).status_code == 422
    assert api.delete("/me", {"password": "wrong-password-1", "confirm": "DELETE"}).status_code == 403
    student.refresh_from_db()
    assert student.deleted_at is None
    res = api.delete("/me", {"password": PASSWORD, "confirm": "DELETE"})
    assert res.status_code == 202, res.content
    assert api.get("/me").status_code == 401  # tokens revoked at once


def test_deletion_can_be_cancelled_within_the_grace_period(student, client_for):
    client_for(student).delete("/me", {"password": PASSWORD, "confirm": "DELETE"})
    fresh = client_for(student)  # the user logs in again
    assert fresh.get("/me").status_code == 401
    assert fresh.post("/me/deletion/cancel").status_code == 200
    student.refresh_from_db()
    assert student.deleted_at is None
    assert fresh.get("/me").status_code == 200


def _text_columns() -> list[tuple[type[models.Model], str]]:
    cols = []
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            for field in model._meta.concrete_fields:
                if isinstance(field, models.CharField | models.TextField | models.EmailField | models.JSONField):
                    cols.append((model, field.attname))
    return cols


def test_purge_leaves_no_personal_data_anywhere(make_user, client_for, admin_user):
    victim = make_user("student", email="victim.person@example.test", first_name="Vexillo", last_name="Quarrington")
    other = make_user("student", email="other.person@example.test", first_name="Keepme")
    api = client_for(victim)
    api.patch("/me", {"timezone": "Europe/Paris"})
    Client().post(
        "/_allauth/app/v1/auth/login",
        data={"email": victim.email, "password": "wrong-password-9"},
        content_type="application/json",
    )
    client_for(admin_user).delete(f"/admin/users/{victim.pk}")
    assert purge_deleted_users() == 0  # inside the grace period
    User.objects.filter(pk=victim.pk).update(deleted_at=timezone.now() - dt.timedelta(days=31))
    assert purge_deleted_users() == 1
    needles = ["victim.person@example.test", "Vexillo", "Quarrington"]
    found = []
    for model, col in _text_columns():
        for value in model._default_manager.values_list(col, flat=True):
            text = json.dumps(value) if not isinstance(value, str) else value
            found += [f"{model._meta.label}.{col}" for n in needles if text and n in text]
    assert found == []
    other.refresh_from_db()
    assert other.email == "other.person@example.test" and other.first_name == "Keepme"
    assert User.objects.filter(pk=victim.pk, is_active=False).exists()  # the row stays, anonymised


def test_switched_off_modules_have_no_figures_or_checks(admin_user, client_for, settings):
    """In every module subset CI runs this: a disabled module's figures are absent, not zero, and nothing errors."""
    from core.registry import is_enabled

    api = client_for(admin_user)
    dashboard = api.get("/admin/dashboard", {"months": 2})
    assert dashboard.status_code == 200, dashboard.content
    integrity = api.get("/admin/integrity")
    assert integrity.status_code == 200, integrity.content
    checked_modules = {f["module"] for f in integrity.json()}
    for label in settings.AVAILABLE_MODULES:
        if not is_enabled(label):
            assert label not in dashboard.json() and label not in checked_modules


def test_check_integrity_command_runs(admin_user):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("check_integrity", stdout=out)
    assert "finding(s)" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_export_hook_files_land_under_files_module_and_plain_dicts_still_work(make_user, client_for):
    """A hook may return UserExport(data, files); a plain dict (the original contract) still works."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from core.registry import HOOKS, UserExport, hooks

    alice = make_user("student")
    stored = default_storage.save("tests/alice-notes.txt", ContentFile(b"alice's notes"))
    hooks.register(
        HOOKS.USER_EXPORT,
        "test_files",
        lambda user: UserExport(
            {"n": 1},
            files=[
                ("notes.txt", stored),
                ("../../escape.bin", b"\x00\x01"),
                ("notes.txt", b"dup"),
                ("gone.pdf", "tests/nope.pdf"),
            ],
        ),
    )
    hooks.register(HOOKS.USER_EXPORT, "test_plain", lambda user: {"plain": True})
    try:
        client_for(alice).post("/me/export")
        export = DataExport.objects.get(user=alice)
        with default_storage.open(export.file, "rb") as fh:
            zf = zipfile.ZipFile(io.BytesIO(fh.read()))
    finally:
        for owner in ("test_files", "test_plain"):
            hooks._hooks[HOOKS.USER_EXPORT] = [(o, f) for o, f in hooks.entries(HOOKS.USER_EXPORT) if o != owner]
        default_storage.delete(stored)
    assert json.loads(zf.read("test_files.json")) == {"n": 1} and json.loads(zf.read("test_plain.json")) == {"plain": True}
    assert zf.read("files/test_files/notes.txt") == b"alice's notes"
    assert zf.read("files/test_files/notes-2.txt") == b"dup"
    assert zf.read("files/test_files/escape.bin") == b"\x00\x01"
    assert all(not n.startswith(("/", "..")) and "/../" not in n for n in zf.namelist())
    readme = zf.read("README.txt").decode()
    assert "files/test_files/notes.txt" in readme and "test_plain.json" in readme
    assert "files/test_files/gone.pdf" in readme.split("no longer in storage")[1]
