"""Bearer authentication with allauth's JWT access tokens, declared as an http bearer scheme."""

from __future__ import annotations

from typing import Any

from allauth.headless.tokens.strategies.jwt.internal import validate_access_token
from django.http import HttpRequest
from ninja.security import HttpBearer

from core.models import User


def token_user(result: Any) -> Any:
    """The user of allauth's validate_access_token() result: a (user, payload) tuple before 65.22, an
    AccessTokenValidationResult with ``.user`` since (pyproject allows both)."""
    if result is None:
        return None
    return result.user if hasattr(result, "user") else result[0]


def user_from_access_token(token: str) -> User | None:
    """The usable user a JWT access token stands for, or None (bad, expired, revoked, inactive)."""
    try:
        result = validate_access_token(token)
    except Exception:  # noqa: BLE001 - any malformed token is simply not a login
        return None
    user: Any = token_user(result)
    if not getattr(user, "is_authenticated", False) or not user.is_usable:
        return None
    return user


class JWTBearer(HttpBearer):
    """``Authorization: Bearer <allauth access token>``. Sets request.user; refuses inactive users."""

    openapi_bearerFormat = "JWT"

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_from_access_token(token)
        if user is not None:
            request.user = user
        return user


jwt_auth = JWTBearer()
