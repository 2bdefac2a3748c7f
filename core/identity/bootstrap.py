"""Creating accounts outside signup: the first admin, demo users."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from core.models import Role, User


@transaction.atomic
def ensure_user(
    email: str, password: str, *, role: str, first_name: str = "", last_name: str = "", timezone: str = "UTC"
) -> tuple[User, bool]:
    """Create a verified user if missing (idempotent); returns (user, created)."""
    email = email.lower()
    user = User.objects.filter(email=email).first()
    created = user is None
    if user is None:
        maker = User.objects.create_superuser if role == Role.ADMIN else User.objects.create_user
        user = (
            maker(email, password, first_name=first_name, last_name=last_name, timezone=timezone)
            if role == Role.ADMIN
            else maker(email, password, role=role, first_name=first_name, last_name=last_name, timezone=timezone)
        )
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user, created


def ensure_admin(email: str, password: str) -> tuple[User, bool]:
    return ensure_user(email, password, role=Role.ADMIN, first_name="Platform", last_name="Admin")
