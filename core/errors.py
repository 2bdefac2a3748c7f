"""Domain errors that services raise; the API maps each to an RFC 9457 problem response."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self, detail: str = "", *, code: str | None = None, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code:
            self.code = code
        self.errors = errors
        self.extra = extra


class BadRequest(DomainError):
    status, code, title = 400, "bad_request", "Bad request"


class ValidationFailed(DomainError):
    status, code, title = 422, "validation_error", "Validation failed"


class NotAuthenticated(DomainError):
    status, code, title = 401, "not_authenticated", "Authentication required"


class PermissionDenied(DomainError):
    status, code, title = 403, "permission_denied", "Permission denied"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class Throttled(DomainError):
    status, code, title = 429, "throttled", "Too many requests"

    def __init__(self, detail: str = "", *, retry_after: int = 60, **kw: Any) -> None:
        super().__init__(detail or "Too many requests; try again later", **kw)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service_unavailable", "Service unavailable"

    def __init__(self, detail: str = "", *, retry_after: int | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.retry_after = retry_after
