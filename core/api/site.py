"""The one NinjaAPI at /api/v1/: core's routers plus every enabled module's, mounted by the registry."""

from __future__ import annotations

import re
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.conf import settings
from ninja import NinjaAPI, Router

from core.api.auth import jwt_auth
from core.api.errors import install_error_handlers
from core.api.throttling import FixedWindowThrottle
from core.registry import enabled_modules

if TYPE_CHECKING:
    from ninja.operation import Operation

_TAG_RE = re.compile(r"[^a-z0-9]+")


class PlatformAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # "<tag>_<function>": stable, readable, and unique (checked when the API is built).
        tag = (operation.tags or ["api"])[0]
        return f"{_TAG_RE.sub('_', tag.lower()).strip('_')}_{operation.view_func.__name__}"


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
