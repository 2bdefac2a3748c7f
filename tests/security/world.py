"""A seeded world for the security tests: the demo data plus one object of every kind a route can name.

Owners: ``student1`` and ``tutor1`` (A) own everything; ``student2`` and ``tutor2`` (B) are the
strangers. ``OBJECT_FACTORIES`` maps (route prefix, last path parameter) to a function returning the
path parameters and the database row an object route acts on, owned by A. A new object route needs a
factory here: the authorisation sweep fails with a message naming the route until it has one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.utils import timezone

from core.demo import seed_demo
from core.models import User
from core.testing import ApiClient


def model(label: str) -> Any:
    return apps.get_model(label)


@dataclass
class World:
    admin: User
    student: User  # A, student side
    tutor: User  # A, tutor side
    student2: User  # B
    tutor2: User  # B
    clients: dict[str, ApiClient] = field(default_factory=dict)

    def client(self, user: User) -> ApiClient:
        key = str(user.pk)
        if key not in self.clients:
            self.clients[key] = ApiClient(user)
        return self.clients[key]

    def by_role(self, role: str) -> User:
        return {"student": self.student, "tutor": self.tutor, "admin": self.admin}[role]


@dataclass
class Target:
    """What an object route acts on: its path parameters and the row whose snapshot must not change."""

    params: dict[str, str]
    obj: Model
    owner: User


def snapshot(obj: Model) -> dict[str, Any] | None:
    return type(obj)._default_manager.filter(pk=obj.pk).values().first()


def build_world() -> World:
    seed_demo()
    users = {u.email: u for u in User.objects.filter(email__endswith="@demo.local")}
    world = World(
        admin=users["admin@demo.local"],
        student=users["student1@demo.local"],
        tutor=users["tutor1@demo.local"],
        student2=users["student2@demo.local"],
        tutor2=users["tutor2@demo.local"],
    )
    _extras(world)
    return world


def _first(label: str, **filters: Any) -> Any:
    obj = model(label)._default_manager.filter(**filters).order_by("pk").first()
    assert obj is not None, f"the seeded world has no {label} with {filters}: extend tests/security/world.py"
    return obj


def _extras(world: World) -> None:
    """Objects the demo data does not make, made for A (and a few for B, so lists are not empty)."""
    s, t = world.student, world.tutor
    if not apps.is_installed("modules.marketplace"):
        return
    profile = _first("marketplace.TutorProfile", user=t)
    booking = _first("marketplace.Booking", student=s, tutor_user=t)
    model("marketplace.AvailabilityException").objects.create(
        profile=profile, date=timezone.now().date() + dt.timedelta(days=30), kind="off"
    )
    package = _first("marketplace.Package", tutor=profile)
    model("marketplace.PackagePurchase").objects.create(
        package=package,
        student=s,
        tutor=profile,
        sessions_total=package.session_count,
        credits_remaining=package.session_count,
        duration_minutes=package.duration_minutes,
        price_minor=package.price_minor,
        currency=package.currency,
        validity_days=90,
    )
    if apps.is_installed("modules.messaging"):
        res = world.client(s).post("/messaging/messages", {"recipient_id": str(t.pk), "body": "Hello from A"})
        assert res.status_code == 201, res.content
    if apps.is_installed("modules.notifications"):
        for user in (s, t, world.student2):
            model("notifications.Notification").objects.create(
                user=user, type="system.test", category="system", title="Seeded notice"
            )
    if apps.is_installed("modules.payments"):
        model("payments.Payment").objects.create(
            kind="booking",
            object_id=booking.pk,
            payer=s,
            payee=t,
            amount_minor=6000,
            currency="USD",
            provider="offline",
        )
        model("payments.Withdrawal").objects.create(tutor=t, amount_minor=1000, currency="USD")
    if apps.is_installed("modules.coach"):
        assert world.client(s).post("/coach/sessions", {"title": "Seeded"}).status_code == 201
    if apps.is_installed("modules.tracker"):
        assert world.client(s).post("/tracker/reports/generate", {}).status_code == 201
    if apps.is_installed("modules.timetable_import"):
        job = model("timetable_import.TimetableImport").objects.create(user=s, file_kind="image")
        model("timetable_import.Proposal").objects.create(
            job=job, day_of_week=0, start_time=dt.time(9), end_time=dt.time(10), course_name="Maths"
        )


def _booking(w: World) -> Target:
    b = _first("marketplace.Booking", student=w.student, tutor_user=w.tutor)
    return Target({"booking_id": str(b.pk)}, b, w.student)


def _tracker(label: str, param: str) -> Callable[[World], Target]:
    def make(w: World) -> Target:
        obj = _first(label, user=w.student)
        return Target({param: str(obj.pk)}, obj, w.student)

    return make


def _tracker_class(w: World) -> Target:
    obj = _first("tracker.TimetableClass", timetable__user=w.student)
    return Target({"class_id": str(obj.pk)}, obj, w.student)


def _course(w: World) -> Target:
    """An unpublished course of A (a published one is readable by everyone, by design)."""
    obj = model("courses.Course").objects.filter(tutor=w.tutor, published=False).first() or _unpublished_course(w)
    return Target({"course_id": str(obj.pk)}, obj, w.tutor)


def _unpublished_course(w: World) -> Any:
    res = w.client(w.tutor).post(
        "/courses", {"title": "Private draft", "subject": "Maths", "description": "", "price_minor": 0, "currency": "USD"}
    )
    assert res.status_code == 201, res.content
    return model("courses.Course").objects.get(pk=res.json()["id"])


def _lesson(w: World) -> Target:
    course = _course(w).obj
    lesson = model("courses.Lesson").objects.filter(course=course).first()
    if lesson is None:
        res = w.client(w.tutor).post(f"/courses/{course.pk}/lessons", {"title": "Draft lesson", "content_type": "text"})
        assert res.status_code == 201, res.content
        lesson = model("courses.Lesson").objects.get(pk=res.json()["id"])
    return Target({"course_id": str(course.pk), "lesson_id": str(lesson.pk)}, lesson, w.tutor)


def _profile_child(label: str, param: str) -> Callable[[World], Target]:
    def make(w: World) -> Target:
        obj = _first(label, profile__user=w.tutor)
        return Target({param: str(obj.pk)}, obj, w.tutor)

    return make


def _package(w: World) -> Target:
    obj = _first("marketplace.Package", tutor__user=w.tutor)
    return Target({"package_id": str(obj.pk)}, obj, w.tutor)


def _review(w: World) -> Target:
    obj = _first("marketplace.Review", tutor__user=w.tutor)
    return Target({"review_id": str(obj.pk)}, obj, w.tutor)


def _message(w: World) -> Target:
    obj = _first("messaging.Message", sender=w.student)
    return Target({"message_id": str(obj.pk)}, obj, w.student)


def _attachment(w: World) -> Target:
    msg = _first("messaging.Message", sender=w.student)
    obj = model("messaging.Attachment").objects.create(
        message=msg, file="attachments/none.txt", original_name="a.txt", mime="text/plain", size=1
    )
    return Target({"attachment_id": str(obj.pk)}, obj, w.student)


def _notification(w: World) -> Target:
    obj = _first("notifications.Notification", user=w.student)
    return Target({"notification_id": str(obj.pk)}, obj, w.student)


def _payment(w: World) -> Target:
    obj = _first("payments.Payment", payer=w.student)
    return Target({"payment_id": str(obj.pk)}, obj, w.student)


def _withdrawal(w: World) -> Target:
    obj = _first("payments.Withdrawal", tutor=w.tutor)
    return Target({"withdrawal_id": str(obj.pk)}, obj, w.tutor)


def _coach_session(w: World) -> Target:
    obj = _first("coach.CoachSession", user=w.student)
    return Target({"session_id": str(obj.pk)}, obj, w.student)


def _import(w: World) -> Target:
    obj = _first("timetable_import.TimetableImport", user=w.student)
    return Target({"import_id": str(obj.pk)}, obj, w.student)


def _proposal(w: World) -> Target:
    obj = _first("timetable_import.Proposal", job__user=w.student)
    return Target({"import_id": str(obj.job_id), "proposal_id": str(obj.pk)}, obj, w.student)


def _purchase(w: World) -> Target:
    obj = _first("marketplace.PackagePurchase", student=w.student)
    return Target({"purchase_id": str(obj.pk)}, obj, w.student)


def _tutor_profile(w: World) -> Target:
    obj = _first("marketplace.TutorProfile", user=w.tutor)
    return Target({"tutor_id": str(obj.pk)}, obj, w.tutor)


def _subject(w: World) -> Target:
    obj = _first("marketplace.Subject")
    return Target({"subject_id": str(obj.pk)}, obj, w.admin)


def _user(w: World) -> Target:
    return Target({"user_id": str(w.student.pk)}, w.student, w.student)


# (first path segment under /api/v1, last path parameter) -> the object a route acts on, owned by A.
OBJECT_FACTORIES: dict[tuple[str, str], Callable[[World], Target]] = {
    ("admin", "user_id"): _user,
    ("users", "user_id"): _user,
    ("coach", "session_id"): _coach_session,
    ("courses", "course_id"): _course,
    ("courses", "lesson_id"): _lesson,
    ("marketplace", "booking_id"): _booking,
    ("marketplace", "purchase_id"): _purchase,
    ("marketplace", "review_id"): _review,
    ("marketplace", "tutor_id"): _tutor_profile,
    ("marketplace", "exception_id"): _profile_child("marketplace.AvailabilityException", "exception_id"),
    ("marketplace", "rule_id"): _profile_child("marketplace.AvailabilityRule", "rule_id"),
    ("marketplace", "package_id"): _package,
    ("marketplace", "subject_id"): _subject,
    ("messaging", "attachment_id"): _attachment,
    ("messaging", "message_id"): _message,
    ("messaging", "user_id"): _user,
    ("notifications", "notification_id"): _notification,
    ("payments", "payment_id"): _payment,
    ("payments", "withdrawal_id"): _withdrawal,
    ("timetable-import", "import_id"): _import,
    ("timetable-import", "proposal_id"): _proposal,
    ("tracker", "assignment_id"): _tracker("tracker.Assignment", "assignment_id"),
    ("tracker", "class_id"): _tracker_class,
    ("tracker", "course_id"): _tracker("tracker.Course", "course_id"),
    ("tracker", "plan_id"): _tracker("tracker.StudyPlan", "plan_id"),
    ("tracker", "report_id"): _tracker("tracker.WeeklyReport", "report_id"),
    ("tracker", "result_id"): _tracker("tracker.Result", "result_id"),
    ("tracker", "session_id"): _tracker("tracker.StudySession", "session_id"),
    ("tracker", "timetable_id"): _tracker("tracker.Timetable", "timetable_id"),
}


def random_uuid() -> str:
    return str(uuid.uuid4())
