"""The one NinjaAPI at /api/v1/: core's routers plus every enabled module's, mounted by the registry."""

from __future__ import annotations

import re
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import URLPattern, URLResolver, include
from django.urls import path as url_path
from ninja import NinjaAPI, Router

from core.api.auth import jwt_auth
from core.api.errors import PROBLEM_CONTENT_TYPE, TITLES, FieldError, Problem, install_error_handlers
from core.api.throttling import FixedWindowThrottle
from core.registry import enabled_modules

if TYPE_CHECKING:
    from ninja.operation import Operation

_TAG_RE = re.compile(r"[^a-z0-9]+")


_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_WRITES = ("put", "post", "patch", "delete")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_CONTENT_TYPE: {"schema": dict(PROBLEM_REF)}}


def implied_error_statuses(path: str, method: str, op: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer because of its shape, whatever its view does.

    Every operation is throttled (429). Authenticated ones answer 401 (no or bad token) and 403 (a
    role or state that may not). Path parameters can name an object the caller may not see (404) or
    fail to parse (422); query parameters and bodies can fail validation (422); a body can be
    malformed (400) or too large (413), a form a wrong media type (415); writes can conflict (409).
    """
    statuses = {429}
    params = op.get("parameters", [])
    if op.get("security"):
        statuses |= {401, 403}
    if any(p.get("in") == "path" for p in params):
        statuses |= {404, 422}
    if any(p.get("in") == "query" for p in params):
        statuses |= {400, 422}
    body = op.get("requestBody")
    if body:
        statuses |= {400, 413, 415, 422}
    if method in _WRITES:
        statuses |= {409}
    return statuses


_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _local_times(node: Any) -> None:
    """A time of day here is a local wall-clock time ("09:30:00", RFC 3339 partial-time); JSON Schema's
    "time" format demands an offset, so say what the API really takes and gives."""
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            node["format"] = "partial-time"
            node.setdefault("pattern", _TIME_PATTERN)
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare every operation's implied error responses, each as RFC 9457 application/problem+json."""
    _local_times(schema)
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method not in _METHODS or not isinstance(op, dict):
                continue
            # ninja keys responses by int; keep one key type so no status appears twice in the JSON.
            responses = {int(k) if str(k).isdigit() else k: v for k, v in op.get("responses", {}).items()}
            for status in sorted(implied_error_statuses(path, method, op)):
                responses.setdefault(status, {"description": TITLES.get(status, "Error")})
            for status, response in responses.items():
                if isinstance(status, int) and status >= 400:
                    response["content"] = _problem_content()
            op["responses"] = dict(sorted(responses.items(), key=lambda kv: str(kv[0])))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, FieldError):
        if model.__name__ not in components:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in model_schema.pop("$defs", {}).items():
                components.setdefault(name, sub)
            components[model.__name__] = model_schema
    return schema


class PlatformAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # "<tag>_<function>": stable, readable, and unique (checked when the API is built).
        tag = (operation.tags or ["api"])[0]
        return f"{_TAG_RE.sub('_', tag.lower()).strip('_')}_{operation.view_func.__name__}"

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        return document_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


def load_router(dotted: str) -> Router:
    module_path, _, attr = dotted.partition(":")
    router = getattr(import_module(module_path), attr or "router")
    if not isinstance(router, Router):
        raise TypeError(f"{dotted} is not a ninja Router")
    return router


def build_api() -> NinjaAPI:
    api = PlatformAPI(
        title=settings.PLATFORM_NAME + " API",
        version="1.0.0",
        description=(
            "Tutoring marketplace and study tracker. Authenticate through /_allauth/app/v1/ (django-allauth "
            "headless, app client) and send the access token as `Authorization: Bearer <token>`. Errors are "
            "RFC 9457 problem details. Money is integer minor units with an ISO 4217 currency; times are ISO 8601 UTC."
        ),
        urls_namespace="api",
        auth=jwt_auth,
        throttle=FixedWindowThrottle(anon_setting="API_THROTTLE_ANON", user_setting="API_THROTTLE_USER"),
    )
    install_error_handlers(api)

    from core.identity.api import router as me_router
    from core.identity.api import users_router, utils_router

    api.add_router("/me", me_router)
    api.add_router("/utils", utils_router)
    api.add_router("/users", users_router)
    import core.console.privacy_api  # noqa: F401 - adds /me/export, DELETE /me, ... to the /me router
    from core.console.admin_api import router as admin_router

    api.add_router("/admin", admin_router)

    for module in enabled_modules():
        for prefix, dotted in module.routers.items():
            router = load_router(dotted)
            if not router.tags:
                router.tags = [module.label]
            api.add_router(f"/{prefix.strip('/')}", router)
    return api


def check_operation_ids(api: NinjaAPI) -> list[str]:
    """Duplicate operationIds in the schema (a contract for generated clients): must be empty."""
    seen: dict[str, int] = {}
    schema: dict[str, Any] = api.get_openapi_schema()
    for path_item in schema.get("paths", {}).values():
        for op in path_item.values():
            if isinstance(op, dict) and "operationId" in op:
                seen[op["operationId"]] = seen.get(op["operationId"], 0) + 1
    return [op_id for op_id, n in seen.items() if n > 1]


api = build_api()


def grouped_urls(ninja_api: NinjaAPI) -> tuple[list[URLPattern | URLResolver], str, str]:
    """``ninja_api.urls`` with the routes nested under their first path segment (``marketplace/``,
    ``tracker/``, ...). Ninja gives one flat list (218 routes), which Django's resolver tries in order,
    so a route late in it paid for every failed match before it (resolving a booking, thread or
    notification route took 51-58 us; nested, 18-30 us). A request tries the ~20 heads, then its own
    module's routes. Order within a head is kept; should any route's head hold a converter (which could
    match another head), the list stays flat, so the same route always wins."""
    patterns, app_name, namespace = ninja_api.urls
    if any("<" in str(p.pattern).partition("/")[0] or not isinstance(p, URLPattern) for p in patterns):
        return patterns, app_name, namespace
    grouped: list[URLPattern | URLResolver | tuple[str, list[URLPattern]]] = []
    heads: dict[str, list[URLPattern]] = {}
    for pattern in patterns:
        head, slash, rest = str(pattern.pattern).partition("/")
        if not slash:
            grouped.append(pattern)
            continue
        if head not in heads:
            heads[head] = []
            grouped.append((head, heads[head]))
        heads[head].append(url_path(rest, pattern.callback, pattern.default_args, pattern.name))
    urls = [url_path(f"{item[0]}/", include(item[1])) if isinstance(item, tuple) else item for item in grouped]
    return urls, app_name, namespace
