"""Bearer authentication with allauth's JWT access tokens, declared as an http bearer scheme."""

from __future__ import annotations

import contextlib
import contextvars
import time
import uuid
from collections.abc import Callable, Iterator
from functools import cache as cache_fn
from functools import lru_cache
from importlib import import_module
from typing import Any

from allauth.headless.tokens.strategies.jwt.internal import decode_token, session_key_from_sid
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from ninja.security import HttpBearer

from core.db import db_uuid, from_db_row, select_columns
from core.models import User


def token_user(result: Any) -> Any:
    """The user of allauth's validate_access_token() result: a (user, payload) tuple before 65.22, an
    AccessTokenValidationResult with ``.user`` since (pyproject allows both)."""
    if result is None:
        return None
    return result.user if hasattr(result, "user") else result[0]


USER_CACHE_TTL = 60  # seconds; saves invalidate at once (core.signals), the TTL bounds any race


def user_cache_key(user_id: Any) -> str:
    return f"authuser:{user_id}"


# User rows already read during this write request (the caller, rows a service loaded with what it
# changed), so the handlers that run on its commit (notifications) need not read them again: a booking
# request's tutor row was a cache miss, a SELECT and a SET on every request. Set up around write
# requests by core.api.public_cache; outside one, remember_users does nothing.
_request_users: contextvars.ContextVar[dict[uuid.UUID, User] | None] = contextvars.ContextVar("request_users", default=None)


@contextlib.contextmanager
def request_user_rows() -> Iterator[None]:
    token = _request_users.set({})
    try:
        yield
    finally:
        _request_users.reset(token)


def remember_users(*users: User | None) -> None:
    known = _request_users.get()
    if known is not None:
        for user in users:
            if user is not None:
                known[user.pk] = user


def cached_user(user_id: Any) -> User | None:
    """The user row read earlier in this request, else the auth cache (dropped on every save), else
    the database; None if gone.

    For code that only reads a user (handlers that notify someone); never lock or save it."""
    if user_id is None:
        return None
    uid = uuid.UUID(str(user_id))
    known = _request_users.get()
    if known and uid in known:
        return known[uid]
    key = user_cache_key(uid)
    return cache.get(key) or _load_user(user_id, key)


def _load_user(user_id: Any, key: str) -> User | None:
    """The row from the database, put in the auth cache (a miss of cached_user or of the MGET). A
    plain prepared statement: a tutor confirming one booking after signing in misses the cache, and
    the ORM query cost a sixth of that confirmation's CPU."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select_columns(User, 'u')} FROM {User._meta.db_table} u WHERE u.id = %s",
            [db_uuid(uuid.UUID(str(user_id)))],
        )
        row = cursor.fetchone()
    user = from_db_row(User, row) if row is not None else None
    if user is not None:
        cache.set(key, user, USER_CACHE_TTL)
    return user


def forget_cached_user(user_id: Any) -> None:
    cache.delete(user_cache_key(user_id))
    known = _request_users.get()
    if known:
        known.pop(uuid.UUID(str(user_id)), None)


def _session_data(
    session_key: str, user_key: str, extra_keys: list[str]
) -> tuple[dict[str, Any] | None, User | None, dict[str, Any]]:
    """The session's data, the cached user and ``extra_keys`` in one cache round trip (cached_db
    sessions)."""
    store = _session_store()(session_key)
    cache_key = getattr(store, "cache_key", None)
    found = cache.get_many([cache_key, user_key, *extra_keys] if cache_key else [user_key, *extra_keys])
    data = found.get(cache_key) if cache_key else None
    if data is None:
        data = store.load()  # the database (and refills the cache); {} and no key when gone or expired
        if not store.session_key:
            return None, None, {}
    return data, found.get(user_key), {k: found[k] for k in extra_keys if k in found}


@lru_cache(maxsize=4096)
def _access_claims(token: str) -> tuple[float, str, uuid.UUID] | None:
    """(expiry, session key, subject) of a well-signed access token, or None; remembered per process.

    The signature check is the same for the same token string every time, and PyJWT's decode cost
    ~70 us a request (a per-character check of each segment plus the RSA verify). A client sends the
    same token on every request until it expires, so each worker checks it once. Expiry is compared on
    every use by the caller; revocation (logout, password change) is the session check, never cached.
    """
    try:
        payload = decode_token(token, "access")
        if payload is None:
            return None
        session_key = session_key_from_sid(payload["sid"])
        if not session_key:
            return None
        return float(payload["exp"]), session_key, uuid.UUID(payload["sub"])
    except Exception:  # noqa: BLE001 - any malformed token is simply not a login
        return None


def user_from_access_token(token: str) -> User | None:
    """The usable user a JWT access token stands for, or None (bad, expired, revoked, inactive)."""
    return authenticate_token(token)[0]


def authenticate_token(
    token: str, extra_keys: Callable[[uuid.UUID], list[str]] | None = None
) -> tuple[User | None, dict[str, Any]]:
    """The usable user a JWT access token stands for (or None), and the cache values of
    ``extra_keys(subject)`` read in the same round trip (core.api.public_cache: the version keys of
    the caller's cached reads). Those values are meaningless when the user is None.

    What allauth's stateful validation checks, in one cache round trip instead of a session read
    plus a user query: the signature and expiry, the session the token names still existing (logout
    and revocation delete it), the session's user being the token's subject, and the session's
    password hash still matching (a password change ends it). The user row is cached for a minute
    and dropped on every save.
    """
    claims = _access_claims(token)
    if claims is None or claims[0] <= time.time():  # unknown, malformed or expired
        return None, {}
    _, session_key, subject = claims
    user_key = user_cache_key(subject)
    data, user, extra = _session_data(session_key, user_key, extra_keys(subject) if extra_keys else [])
    if not data:
        return None, {}
    try:
        if uuid.UUID(str(data.get(SESSION_KEY))) != subject:
            return None, {}
    except ValueError:
        return None, {}
    user = user or _load_user(subject, user_key)
    if user is None:
        return None, {}
    session_hash = data.get(HASH_SESSION_KEY) or ""
    if not session_hash or not (
        constant_time_compare(session_hash, user.get_session_auth_hash())
        or any(constant_time_compare(session_hash, h) for h in user.get_session_auth_fallback_hash())
    ):
        return None, {}
    if not user.is_usable:
        return None, {}
    return user, extra


@cache_fn
def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


class JWTBearer(HttpBearer):
    """``Authorization: Bearer <allauth access token>``. Sets request.user; refuses inactive users."""

    openapi_bearerFormat = "JWT"

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        earlier = getattr(request, "_bearer_auth", None)  # the private-read cache checked it already
        user = earlier[1] if earlier is not None and earlier[0] == token else user_from_access_token(token)
        if user is not None:
            request.user = user
            request._api_user_id = user.pk  # type: ignore[attr-defined] - core.api.public_cache
            remember_users(user)
        return user


jwt_auth = JWTBearer()
