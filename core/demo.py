"""Demo data: core's users, then every enabled module's contribution (hook "demo_data")."""

from __future__ import annotations

from core.identity.bootstrap import ensure_user
from core.models import Role, User
from core.registry import hooks

DEMO_PASSWORD = "demo-pass-2024!"
DEMO_USERS = [
    ("admin@demo.local", Role.ADMIN, "Ada", "Admin", "UTC"),
    ("tutor1@demo.local", Role.TUTOR, "Tomas", "Turing", "Europe/London"),
    ("tutor2@demo.local", Role.TUTOR, "Nadia", "Noether", "America/New_York"),
    ("student1@demo.local", Role.STUDENT, "Sam", "Student", "Europe/Berlin"),
    ("student2@demo.local", Role.STUDENT, "Lee", "Learner", "Asia/Tokyo"),
]


def seed_demo() -> list[str]:
    lines = []
    users: dict[str, User] = {}
    for email, role, first, last, tz in DEMO_USERS:
        user, created = ensure_user(email, DEMO_PASSWORD, role=role, first_name=first, last_name=last, timezone=tz)
        users[email] = user
        lines.append(f"{role:<8} {email} ({'created' if created else 'present'})")
    for owner, result in hooks.call("demo_data", users=users).items():
        lines.append(f"{owner}: {result or 'done'}")
    lines.append(f"demo password for every account: {DEMO_PASSWORD}")
    return lines
