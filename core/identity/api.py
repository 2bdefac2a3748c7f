"""/api/v1/me (the caller's own profile) and /api/v1/utils (reference lists)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from functools import cache

import pycountry
from django.http import HttpRequest
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from pydantic import field_validator

from core.api.errors import error_responses
from core.api.schemas import WriteSchema
from core.identity import services
from core.identity.validators import CURRENCIES, available_timezones, validate_currency, validate_locale, validate_timezone
from core.models import User
from core.permissions import current_user
from core.ratelimit import limited

router = Router(tags=["me"])
utils_router = Router(tags=["utils"])


class MeOut(Schema):
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    full_name: str
    role: str
    timezone: str
    locale: str
    currency: str
    avatar_url: str | None
    email_verified: bool
    terms_version: str
    terms_accepted_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def build(user: User) -> MeOut:
        from allauth.account.models import EmailAddress

        verified = EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
        return MeOut(
            id=user.id,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            full_name=user.full_name,
            role=user.role,
            timezone=user.timezone,
            locale=user.locale,
            currency=user.currency,
            avatar_url=user.avatar.url if user.avatar else None,
            email_verified=verified,
            terms_version=user.terms_version,
            terms_accepted_at=user.terms_accepted_at,
            created_at=user.created_at,
        )


class MePatch(WriteSchema):
    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    timezone: str | None = Field(None, max_length=64, description="IANA time zone, e.g. Europe/Berlin")
    locale: str | None = Field(None, max_length=16, description="Language tag, e.g. en-GB")
    currency: str | None = Field(None, min_length=3, max_length=3, description="ISO 4217 code")
    terms_version: str | None = Field(None, min_length=1, max_length=32, description="The terms version the user accepts now")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            _django_to_value_error(validate_timezone, v)
        return v

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str | None) -> str | None:
        if v is not None:
            _django_to_value_error(validate_locale, v)
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is not None:
            v = v.upper()
            _django_to_value_error(validate_currency, v)
        return v


def _django_to_value_error(check: object, value: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        check(value)  # type: ignore[operator]
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from exc


@router.get("", response={200: MeOut, **error_responses(401)})
def get_me(request: HttpRequest) -> MeOut:
    return MeOut.build(current_user(request))


@router.patch("", response={200: MeOut, **error_responses(401, 422)})
def update_me(request: HttpRequest, data: MePatch) -> MeOut:
    user = services.update_profile(
        user=current_user(request), changes=data.model_dump(exclude_unset=True, exclude_none=True), request=request
    )
    return MeOut.build(user)


@router.post("/avatar", response={200: MeOut, **error_responses(400, 401, 413, 415, 422, 429)}, throttle=limited("uploads"))
def upload_avatar(request: HttpRequest, file: File[UploadedFile]) -> MeOut:
    return MeOut.build(services.set_avatar(user=current_user(request), upload=file, request=request))


@router.delete("/avatar", response={200: MeOut, **error_responses(401)})
def delete_avatar(request: HttpRequest) -> MeOut:
    return MeOut.build(services.delete_avatar(user=current_user(request), request=request))


class CodeName(Schema):
    code: str
    name: str


class CurrencyOut(CodeName):
    minor_units: int


class TimezoneOut(Schema):
    name: str
    utc_offset: str


@cache
def _countries() -> list[CodeName]:
    return sorted(
        (CodeName(code=c.alpha_2, name=getattr(c, "common_name", c.name)) for c in pycountry.countries), key=lambda c: c.name
    )


@cache
def _languages() -> list[CodeName]:
    return sorted(
        (CodeName(code=lang.alpha_2, name=lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")),
        key=lambda c: c.name,
    )


class Pong(Schema):
    pong: bool


@utils_router.get("/ping", auth=None, response=Pong)
def ping(request: HttpRequest) -> Pong:
    """A trivial endpoint: the benchmark's floor (same process, middleware and API stack)."""
    return Pong(pong=True)


@utils_router.get("/countries", auth=None, response=list[CodeName])
def list_countries(request: HttpRequest) -> list[CodeName]:
    return _countries()


@utils_router.get("/languages", auth=None, response=list[CodeName])
def list_languages(request: HttpRequest) -> list[CodeName]:
    return _languages()


@utils_router.get("/currencies", auth=None, response=list[CurrencyOut])
def list_currencies(request: HttpRequest) -> list[CurrencyOut]:
    return [CurrencyOut(code=code, name=name, minor_units=exp) for code, (name, exp) in sorted(CURRENCIES.items())]


@utils_router.get("/timezones", auth=None, response=list[TimezoneOut])
def list_timezones(request: HttpRequest) -> list[TimezoneOut]:
    now = dt.datetime.now(dt.UTC)
    out = []
    for name in sorted(available_timezones()):
        if name.startswith(("Etc/", "SystemV/")) or "/" not in name and name != "UTC":
            continue
        offset = now.astimezone(zoneinfo.ZoneInfo(name)).strftime("%z")
        out.append(TimezoneOut(name=name, utc_offset=f"{offset[:3]}:{offset[3:]}"))
    return out


users_router = Router(tags=["users"])


class UserCard(Schema):
    id: uuid.UUID
    full_name: str
    role: str
    avatar_url: str | None
    timezone: str


@users_router.get("/{user_id}", response={200: UserCard, **error_responses(401, 404, 422)})
def get_user_card(request: HttpRequest, user_id: uuid.UUID) -> UserCard:
    """A user's card. Visible to the user and to admins; anyone else gets 404."""
    from core.errors import NotFound

    caller = current_user(request)
    if caller.pk != user_id and not caller.is_admin:
        raise NotFound("No user with that id, or you may not see it")
    user = User.alive.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No user with that id, or you may not see it")
    return UserCard(
        id=user.id,
        full_name=user.full_name,
        role=user.role,
        avatar_url=user.avatar.url if user.avatar else None,
        timezone=user.timezone,
    )
