"""Export and erasure of a user with data in EVERY module, built through the modules' HTTP APIs.

These run when all modules are enabled (the default deployment); a subset run skips them (the core-only
variants in test_console.py run in every subset). Models are imported inside functions only, so a
switched-off module's code is never imported at collection.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from PIL import Image

from core.console.services import purge_deleted_users
from core.models import Role, User
from core.registry import HOOKS, hooks, is_enabled
from core.testing import ApiClient
from tests.conftest import PASSWORD

ALL = ("marketplace", "payments", "courses", "messaging", "notifications", "tracker", "timetable_import", "coach")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not all(is_enabled(m) for m in ALL), reason="needs every module enabled"),
]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media_and_ocr(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.OCR_ENGINE = "fake"
    settings.OCR_ENGINES = {"fake": "tests.modules.timetable_import.fakes:FakeEngine"}


def ok(res: Any, status: int = 201) -> Any:
    assert res.status_code == status, (res.status_code, res.content[:500])
    return res.json() if res.content else None


def png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (seed % 256, (seed * 7) % 256, 99)).save(out, format="PNG")
    return out.getvalue()


@dataclass
class World:
    subject_id: str
    tutor: User  # Tom, an approved tutor both students book and write to
    admin: User
    marker: dict[str, str] = field(default_factory=dict)  # user email -> the text marker of their data
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # user email -> what -> uploaded bytes
    days_ahead: int = 2


def make_world(make_user: Callable[..., User]) -> World:
    from modules.marketplace.models import AvailabilityRule, Subject, TutorProfile, TutorStatus

    subject = Subject.objects.create(name="Mathematics", category="STEM")
    tom = make_user(Role.TUTOR, email="tom.tutor@example.test", first_name="Tomasz", last_name="Teachwell")
    profile = TutorProfile.objects.create(
        user=tom, title="Maths", headline="Maths help", bio="Algebra.", hourly_rate_minor=6000, currency="USD"
    )
    profile.subjects.add(subject)
    profile.status = TutorStatus.APPROVED
    profile.save()
    AvailabilityRule.objects.bulk_create(
        [AvailabilityRule(profile=profile, weekday=d, start_time=dt.time(8), end_time=dt.time(20)) for d in range(7)]
    )
    return World(subject_id=str(subject.id), tutor=tom, admin=make_user(Role.ADMIN))


def populate(world: World, user: User, marker: str) -> None:
    """Give ``user`` (a student at first) data in every module through the APIs; later they become a
    tutor too (admin role change) with a profile, a course and a lesson document."""
    from modules.marketplace.models import Booking, TutorProfile

    api, tom_api = ApiClient(user), ApiClient(world.tutor)
    tom_profile = TutorProfile.objects.get(user=world.tutor)
    world.marker[user.email] = marker
    files = world.files.setdefault(user.email, {})

    # marketplace + payments: a paid, confirmed, completed booking; a review; a favourite
    world.days_ahead += 1  # one slot per populated user
    day = timezone.now().date() + dt.timedelta(days=world.days_ahead)
    starts = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
    booking = ok(
        api.post(
            "/marketplace/bookings",
            {
                "tutor_id": str(tom_profile.id),
                "subject_id": world.subject_id,
                "starts_at": starts.isoformat().replace("+00:00", "Z"),
                "duration_minutes": 60,
                "notes": f"{marker} booking notes",
            },
        )
    )
    ok(api.post("/payments/checkout", {"kind": "booking", "object_id": booking["id"]}))
    ok(tom_api.post(f"/marketplace/bookings/{booking['id']}/confirm"), 200)
    past = timezone.now() - dt.timedelta(hours=3)
    Booking.objects.filter(pk=booking["id"]).update(  # the session took place (time passes)
        starts_at=past, ends_at=past + dt.timedelta(hours=1), blocked_until=past + dt.timedelta(hours=1)
    )
    assert ok(tom_api.post(f"/marketplace/bookings/{booking['id']}/complete"), 200)["status"] == "completed"
    ok(api.post("/marketplace/reviews", {"booking_id": booking["id"], "rating": 5, "comment": f"{marker} review"}))
    ok(api.post(f"/marketplace/favourites/{tom_profile.id}"))

    # courses: Tom's free course, enrolled
    course = ok(tom_api.post("/courses", {"title": f"Tom course {marker[-4:]}", "subject": "Maths", "published": True}))
    ok(api.post(f"/courses/{course['id']}/enrol"))

    # messaging: a message with an attachment, and Tom's reply
    files["attachment"] = f"{marker} attachment\n".encode()
    ok(
        api.post(
            "/messaging/messages/with-attachment",
            {"recipient_id": str(world.tutor.pk), "body": f"{marker} message"},
            files={"file": SimpleUploadedFile("notes.txt", files["attachment"])},
        )
    )
    ok(tom_api.post("/messaging/messages", {"recipient_id": str(user.pk), "body": f"Tom answers {marker[-4:]}"}))

    # tracker: a course, a result, a plan
    tcourse = ok(api.post("/tracker/courses", {"code": "NET301", "name": f"{marker} networks", "credits": 4, "semester": "S1"}))
    ok(
        api.post(
            "/tracker/results",
            {
                "course_id": tcourse["id"],
                "assessment_type": "midterm",
                "name": f"{marker} midterm",
                "score": "71",
                "max_score": "100",
                "date": (timezone.now().date() - dt.timedelta(days=5)).isoformat(),
            },
        )
    )
    ok(
        api.post(
            "/tracker/plans",
            {
                "course_id": tcourse["id"],
                "topic": f"{marker} routing",
                "date": (timezone.now().date() + dt.timedelta(days=2)).isoformat(),
                "start_time": "16:00",
                "planned_minutes": 60,
            },
        )
    )

    # timetable_import: an uploaded photo (kept while the import waits for review)
    files["timetable"] = png(len(marker) * 31 + ord(marker[-1]))
    upload = SimpleUploadedFile("my-timetable.png", files["timetable"])
    ok(api.post("/timetable-import/imports", {}, files={"file": upload}), 202)

    # coach: a session with a question
    session = ok(api.post("/coach/sessions", {"title": f"{marker} coaching"}))
    ok(api.post(f"/coach/sessions/{session['id']}/messages", {"text": f"{marker} how do I improve?"}), 200)

    # later the user becomes a tutor: a profile with a photo, a course with a lesson document
    ok(ApiClient(world.admin).patch(f"/admin/users/{user.pk}", {"role": "tutor"}), 200)
    user.refresh_from_db()
    api = ApiClient(user)
    ok(api.patch("/marketplace/tutors/me", {"title": "Physics", "bio": f"{marker} tutor bio"}), 200)
    ok(api.post("/marketplace/tutors/me/photo", {}, files={"file": SimpleUploadedFile("me.png", png(7))}), 200)
    own = ok(api.post("/courses", {"title": "Optics", "subject": "Physics", "published": True}))
    lesson = ok(api.post(f"/courses/{own['id']}/lessons", {"title": "Worksheet", "content_type": "document"}))
    files["document"] = PDF + marker.encode() + b"\n"
    ok(
        api.post(
            f"/courses/{own['id']}/lessons/{lesson['id']}/document",
            {},
            files={"file": SimpleUploadedFile("worksheet.pdf", files["document"])},
        ),
        200,
    )


def download_export(user: User) -> zipfile.ZipFile:
    mail.outbox.clear()
    ok(ApiClient(user).post("/me/export"), 202)
    link = re.search(r"(/api/v1/me/exports/download\?token=\S+)", mail.outbox[-1].body).group(1)
    res = Client().get(link)
    assert res.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(res.streaming_content)))


def test_export_of_a_user_with_data_in_every_module(make_user):
    world = make_world(make_user)
    alice = make_user(Role.STUDENT, email="alice.export@example.test", first_name="Alicia", last_name="Exportova")
    bob = make_user(Role.STUDENT, email="bob.other@example.test", first_name="Bobbington", last_name="Otherstone")
    populate(world, alice, "ALICE-7f3a")
    populate(world, bob, "BOBBY-9c2e")

    zf = download_export(alice)
    names = set(zf.namelist())
    exporters = {owner for owner, _ in hooks.entries(HOOKS.USER_EXPORT)}
    assert set(ALL) <= exporters
    assert {"core.json", "README.txt"} | {f"{m}.json" for m in exporters} <= names

    data = {m: json.loads(zf.read(f"{m}.json")) for m in exporters}
    assert data["marketplace"]["bookings"] and data["marketplace"]["reviews_written"]
    assert data["marketplace"]["favourite_tutor_ids"] and data["marketplace"]["tutor_profile"]["bio"] == "ALICE-7f3a tutor bio"
    assert data["payments"]["payments"][0]["role"] == "payer"
    assert data["courses"]["enrolments"] and data["courses"]["courses_taught"][0]["title"] == "Optics"
    assert [m["direction"] for m in data["messaging"]["messages"]] == ["sent", "received"]
    assert data["notifications"]["notifications"]
    assert data["tracker"]["courses"] and data["tracker"]["results"] and data["tracker"]["study_plans"]
    assert data["timetable_import"]["imports"][0]["original_name"] == "my-timetable.png"
    assert data["coach"]["sessions"] and data["coach"]["messages"]

    # the uploaded files, under files/<module>/, with their bytes, and listed in the README
    by_module: dict[str, list[str]] = {}
    for name in names:
        if name.startswith("files/"):
            by_module.setdefault(name.split("/")[1], []).append(name)
    mine = world.files[alice.email]
    (attachment,) = by_module["messaging"]
    assert attachment.endswith("notes.txt") and zf.read(attachment) == mine["attachment"]
    (document,) = by_module["courses"]
    assert document.endswith("worksheet.pdf") and zf.read(document) == mine["document"]
    (timetable,) = by_module["timetable_import"]
    assert timetable.endswith("my-timetable.png") and zf.read(timetable) == mine["timetable"]
    (photo,) = by_module["marketplace"]
    assert Image.open(io.BytesIO(zf.read(photo))).size == (40, 30)  # re-encoded on upload: same picture
    readme = zf.read("README.txt").decode()
    for name in (attachment, document, timetable, photo, *(f"{m}.json" for m in exporters)):
        assert name in readme

    # nothing of Bob: his e-mail, names, his text, his files
    blob = b"\n".join(zf.read(n) for n in names)
    for needle in (bob.email, "Bobbington", "Otherstone", "BOBBY-9c2e", "BOBBY"):
        assert needle.encode() not in blob, needle
    for content in world.files[bob.email].values():
        assert content not in blob
    assert alice.email.encode() in blob


def _rows_of(user: User) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that points at ``user`` by a foreign key, by model and field."""
    out: dict[str, list[dict[str, Any]]] = {"core.User": list(User.objects.filter(pk=user.pk).values())}
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and f.related_model is User:
                rows = model._default_manager.filter(**{f.name: user}).order_by("pk").values()
                out[f"{model._meta.label}.{f.name}"] = list(rows)
    return out


def _text_columns() -> list[tuple[type[models.Model], str]]:
    cols = []
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            for f in model._meta.concrete_fields:
                if isinstance(f, models.CharField | models.TextField | models.EmailField | models.JSONField):
                    cols.append((model, f.attname))
    return cols


def _ledger_state() -> tuple[list[tuple[Any, ...]], dict[Any, int]]:
    from modules.payments.models import LedgerEntry

    entries = list(
        LedgerEntry.objects.order_by("id").values_list("id", "transaction_id", "account_id", "amount_minor", "currency")
    )
    balances = {
        (r["account__kind"], r["account__owner_id"], r["currency"]): r["total"]
        for r in LedgerEntry.objects.values("account__kind", "account__owner_id", "currency").annotate(total=Sum("amount_minor"))
    }
    return entries, balances


def test_purge_of_a_user_with_data_everywhere_keeps_the_ledger_and_other_users(make_user):
    from modules.payments.models import LedgerEntry

    world = make_world(make_user)
    victim = make_user(Role.STUDENT, email="victim.everywhere@example.test", first_name="Vexillo", last_name="Quarrington")
    bob = make_user(Role.STUDENT, email="bob.keeps@example.test", first_name="Bobbington", last_name="Otherstone")
    populate(world, victim, "VICTIM-51d0")
    populate(world, bob, "BOBBY-9c2e")
    assert LedgerEntry.objects.filter(account__owner=world.tutor).exists()  # the victim paid Tom
    from modules.marketplace.models import TutorProfile

    photo = TutorProfile.objects.get(user=victim).photo
    assert photo and default_storage.exists(photo)
    entries_before, balances_before = _ledger_state()
    bob_before = _rows_of(bob)
    bob_files = {n: default_storage.open(n).read() for n in _storage_names() if _belongs_to(n, world.files[bob.email])}
    assert len(bob_files) == 3  # attachment, timetable upload, lesson document

    ok(ApiClient(victim).delete("/me", {"password": PASSWORD, "confirm": "DELETE"}), 202)
    assert purge_deleted_users() == 0  # inside the grace period
    User.objects.filter(pk=victim.pk).update(deleted_at=timezone.now() - dt.timedelta(days=31))
    assert purge_deleted_users() == 1

    # 1. none of the victim's personal data in any text or JSON column of any table
    needles = [victim.email, "Vexillo", "Quarrington", "VICTIM-51d0"]
    found = []
    for model, col in _text_columns():
        for value in model._default_manager.values_list(col, flat=True):
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            found += [f"{model._meta.label}.{col}: {n}" for n in needles if text and n in text]
    assert sorted(set(found)) == []
    # ... nor their uploaded files in storage
    for what, content in world.files[victim.email].items():
        if what == "document":
            continue  # lesson documents stay with the course, kept for the students who enrolled
        assert not any(_belongs_to(n, {what: content}) for n in _storage_names()), what

    assert not default_storage.exists(photo)  # the tutor photo too

    # 2. the ledger still balances, and no entry changed: every balance derived from it is the same
    entries_after, balances_after = _ledger_state()
    assert entries_after == entries_before and balances_after == balances_before
    unbalanced = LedgerEntry.objects.values("transaction_id", "currency").annotate(t=Sum("amount_minor")).exclude(t=0)
    assert list(unbalanced) == []

    # 3. the other user is untouched: same rows, same content, same files
    assert _rows_of(bob) == bob_before
    assert {n: default_storage.open(n).read() for n in bob_files} == bob_files
    assert User.objects.filter(pk=victim.pk, is_active=False, email__endswith="@erased.invalid").exists()


def _storage_names() -> list[str]:
    root = settings.MEDIA_ROOT
    return [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]


def _belongs_to(name: str, contents: dict[str, bytes]) -> bool:
    data = default_storage.open(name).read()
    return data in contents.values()


# --- the admin dashboard ----------------------------------------------------------------------------

DASHBOARD_MAX_QUERIES = 40  # auth + core figures + every module's figures, whatever the data volume


def _dashboard_queries(api: ApiClient) -> tuple[int, dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        res = api.get("/admin/dashboard", {"months": 12})
    assert res.status_code == 200, res.content
    return len(ctx.captured_queries), res.json()


def test_admin_dashboard_runs_a_bounded_number_of_queries_and_is_cached(make_user, django_assert_max_num_queries):
    from django.core.cache import cache

    world = make_world(make_user)
    admin_api = ApiClient(world.admin)
    counts = []
    for n in (1, 10):  # 1x, then 10x the data (every module has rows for each populated user)
        while len(world.marker) < n:
            user = make_user(Role.STUDENT)
            populate(world, user, f"LOAD-{len(world.marker):04d}")
        cache.clear()
        with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES):
            count, data = _dashboard_queries(admin_api)
        counts.append(count)
        assert set(ALL) - {"timetable_import"} <= set(data)  # timetable_import registers no figures
        assert data["marketplace"]["session_metrics"]["completed_sessions"] == n
    assert counts[0] == counts[1], counts  # the count does not grow with the data

    # within the minute, the same dashboard comes from the cache: only authenticating the caller (the
    # token's session and the user)
    with django_assert_max_num_queries(2):
        _, cached = _dashboard_queries(admin_api)
    assert cached == data
    make_user(Role.STUDENT)
    assert _dashboard_queries(admin_api)[1] == data  # new users show after the minute, not at once
