"""Authorisation helpers used by every router.

Objects the caller may not see answer 404 (not 403), so ids cannot be probed. Roles that may not act
answer 403. Admins may override ownership where the caller says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from core.errors import NotFound, PermissionDenied
from core.models import Role, User

M = TypeVar("M", bound=Model)
F = TypeVar("F", bound=Callable[..., Any])


def current_user(request: HttpRequest) -> User:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if not isinstance(user, User):
        from core.errors import NotAuthenticated

        raise NotAuthenticated()
    return user


def require_role(request: HttpRequest, *roles: str) -> User:
    user = current_user(request)
    if user.role not in roles:
        allowed = " or ".join(roles)
        raise PermissionDenied(f"Only a user with the role {allowed} may do this", code="role_required")
    return user


def roles(*allowed: str) -> Callable[[F], F]:
    """Decorator for ninja operations: ``@roles(Role.TUTOR)``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            require_role(request, *allowed)
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def require_admin(request: HttpRequest) -> User:
    return require_role(request, Role.ADMIN)


def get_owned(
    queryset: QuerySet[M],
    *,
    user: User,
    owner_fields: Iterable[str] = ("user",),
    admin_override: bool = False,
    **lookup: Any,
) -> M:
    """Fetch one object the user owns through any of ``owner_fields``; 404 otherwise.

    ``owner_fields`` names foreign keys (or ``<fk>_id``) to the user; an object matches when any of
    them is the user. Admins see everything when ``admin_override`` is set.
    """
    from django.db.models import Q

    qs = queryset.filter(**lookup)
    if not (admin_override and user.role == Role.ADMIN):
        cond = Q()
        for field in owner_fields:
            cond |= Q(**{field: user})
        qs = qs.filter(cond)
    obj = qs.first()
    if obj is None:
        raise NotFound(f"No {queryset.model._meta.verbose_name} with that id, or you may not see it")
    return obj
