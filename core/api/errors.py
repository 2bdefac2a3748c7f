"""RFC 9457 problem details for every error the API can answer."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.errors import Throttled as NinjaThrottled

from core.db import classify, sqlstate
from core.errors import DomainError, ServiceUnavailable, Throttled
from core.observability import request_id_var

logger = logging.getLogger(__name__)
PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(Schema):
    field: str
    loc: list[str | int]
    message: str
    type: str


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


def problem_response(
    request: HttpRequest,
    status: int,
    detail: str,
    *,
    code: str,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"https://errors.tutoring.example/{code}",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.path,
        "request_id": request_id_var.get(),
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _field_errors(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for err in raw:
        # Drop the leading location ("body", "query", ...) only: a field may itself be called "body".
        loc = list(err.get("loc", []))
        if len(loc) > 1 and loc[0] in ("body", "payload", "query", "path", "form", "file"):
            loc = loc[1:]
        # ninja nests the body under the parameter name; drop it so "field" is what the client sent.
        if len(loc) > 1 and isinstance(loc[0], str) and loc[0] in ("data", "payload", "body", "filters", "params"):
            loc = loc[1:]
        out.append(
            {
                "field": ".".join(str(p) for p in loc) or "__all__",
                "loc": list(err.get("loc", [])),
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "invalid"),
            }
        )
    return out


def _database_problem(request: HttpRequest, exc: DatabaseError | InterfaceError) -> HttpResponse:
    """What a database error means (core.db.classify): a race lost (deadlock, serialization failure,
    lock timeout) answers 409; a value the database refuses (22xxx data exception: out of range, too
    long, a NUL character) 422, for it is the input that is wrong; a database that went away (backend
    terminated, connection lost) 503 with Retry-After; anything else is a bug, 500."""
    kind = classify(exc)
    if kind == "conflict":
        logger.info("database conflict answered as 409: %s (%s)", sqlstate(exc), exc)
        return problem_response(request, 409, "A concurrent change won; retry", code="conflict")
    if kind == "invalid":
        logger.warning("database refused a value, answered as 422 (sqlstate %s): %s", sqlstate(exc), exc)
        return problem_response(request, 422, "A value in the request is out of range or cannot be stored", code="invalid_value")
    if kind == "unavailable":
        logger.exception("database unavailable (sqlstate %s)", sqlstate(exc))
        return problem_response(
            request, 503, "The database is unavailable; retry shortly", code="service_unavailable", headers={"Retry-After": "5"}
        )
    logger.exception("database error (sqlstate %s)", sqlstate(exc))
    return problem_response(request, 500, "An unexpected error occurred; it has been logged", code="internal_error")


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _field_errors(exc.errors)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(request, 422, summary or "The request is not valid", code="validation_error", errors=errors)

    @api.exception_handler(DomainError)
    def on_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        headers: dict[str, str] = {}
        if isinstance(exc, Throttled | ServiceUnavailable) and getattr(exc, "retry_after", None):
            headers["Retry-After"] = str(exc.retry_after)
        return problem_response(
            request, exc.status, exc.detail, code=exc.code, title=exc.title, errors=exc.errors, headers=headers, extra=exc.extra
        )

    @api.exception_handler(AuthenticationError)
    def on_authn(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            request,
            401,
            "A valid access token is required (Authorization: Bearer <token>)",
            code="not_authenticated",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )

    @api.exception_handler(AuthorizationError)
    def on_authz(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return problem_response(request, 403, str(exc) or "You may not do this", code="permission_denied")

    @api.exception_handler(NinjaThrottled)
    def on_throttled(request: HttpRequest, exc: NinjaThrottled) -> HttpResponse:
        wait = int(exc.wait) + 1 if getattr(exc, "wait", None) else 60
        return problem_response(
            request, 429, "Too many requests; try again later", code="throttled", headers={"Retry-After": str(wait)}
        )

    @api.exception_handler(HttpError)
    def on_http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        detail = str(exc.message if hasattr(exc, "message") else exc)
        code = {
            400: "bad_request",
            401: "not_authenticated",
            403: "permission_denied",
            404: "not_found",
            409: "conflict",
            413: "payload_too_large",
            415: "unsupported_media_type",
        }.get(status, "error")
        if status == 400 and "parse" in detail.lower():
            detail, code = "The request body is not valid JSON", "malformed_body"
        return problem_response(request, status, detail, code=code)

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # DATA_UPLOAD_MAX_MEMORY_SIZE (JSON bodies, non-file form data); Django would answer an HTML 400.
        limit = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
        return problem_response(request, 413, f"The request body is larger than {limit} bytes", code="payload_too_large")

    @api.exception_handler(TooManyFieldsSent)
    def on_too_many_fields(request: HttpRequest, exc: TooManyFieldsSent) -> HttpResponse:
        return problem_response(request, 413, "The form has too many fields", code="payload_too_large")

    @api.exception_handler(TooManyFilesSent)
    def on_too_many_files(request: HttpRequest, exc: TooManyFilesSent) -> HttpResponse:
        return problem_response(request, 413, "The form has too many files", code="payload_too_large")

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(request, 404, "No such object, or you may not see it", code="not_found")

    @api.exception_handler(ObjectDoesNotExist)
    def on_missing(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return problem_response(request, 404, "No such object, or you may not see it", code="not_found")

    @api.exception_handler(DjangoPermissionDenied)
    def on_perm(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        return problem_response(request, 403, str(exc) or "You may not do this", code="permission_denied")

    @api.exception_handler(DjangoValidationError)
    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors = []
        if hasattr(exc, "error_dict"):
            for field, errs in exc.message_dict.items():
                for msg in errs:
                    errors.append({"field": field, "loc": [field], "message": msg, "type": "invalid"})
        else:
            errors = [{"field": "__all__", "loc": [], "message": m, "type": "invalid"} for m in exc.messages]
        return problem_response(request, 422, "; ".join(e["message"] for e in errors[:5]), code="validation_error", errors=errors)

    @api.exception_handler(IntegrityError)
    def on_integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # Constraint races that a service did not translate itself: a conflict of state, never a 500.
        logger.info("integrity error answered as 409: %s", exc)
        return problem_response(request, 409, "The change conflicts with the current state; reload and retry", code="conflict")

    @api.exception_handler(OperationalError)
    def on_operational(request: HttpRequest, exc: OperationalError) -> HttpResponse:
        return _database_problem(request, exc)

    @api.exception_handler(DatabaseError)
    def on_database(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
        return _database_problem(request, exc)

    @api.exception_handler(InterfaceError)
    def on_interface(request: HttpRequest, exc: InterfaceError) -> HttpResponse:
        # Not a DatabaseError: the driver's own refusal to use a connection (already closed).
        return _database_problem(request, exc)

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled error in API")
        return problem_response(request, 500, "An unexpected error occurred; it has been logged", code="internal_error")


def error_responses(*codes: int) -> dict[int, type[Problem]]:
    """Declare an operation's documented error responses: ``response={200: Out, **error_responses(404)}``."""
    return {code: Problem for code in codes}
