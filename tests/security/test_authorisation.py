"""The authorisation sweep (OWASP API1, API5), built from the URL resolver and the OpenAPI schema.

A route added later is covered without editing this file: without a token it must answer 401 unless
it is in PUBLIC; an admin route must answer 403 to a student and a tutor; an object route (a path
parameter naming an object) must answer 404 to a stranger for every method, and leave the object's
row exactly as it was. An object route with no factory in tests/security/world.py fails the sweep.
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis.errors import NonInteractiveExampleWarning

from core.api.site import api
from core.testing import ApiClient
from tests.security.world import OBJECT_FACTORIES, World, build_world, snapshot

pytestmark = pytest.mark.django_db

API_PREFIX = "/api/v1/"
SCHEMA: dict[str, Any] = api.get_openapi_schema()
METHODS = ("get", "post", "put", "patch", "delete")

# Routes anyone may call without a token, and why.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "courses"): "the course catalogue (published courses only)",
    ("GET", "marketplace/subjects"): "the subject catalogue",
    ("GET", "marketplace/tutors"): "tutor search",
    ("GET", "marketplace/tutors/{tutor_id}"): "a public tutor profile",
    ("GET", "marketplace/tutors/{tutor_id}/packages"): "a tutor's public packages",
    ("GET", "marketplace/tutors/{tutor_id}/reviews"): "a tutor's public reviews",
    ("GET", "marketplace/tutors/{tutor_id}/slots"): "a tutor's free slots",
    ("GET", "marketplace/calendar/{token}.ics"): "iCalendar feed, authorised by its secret token",
    ("GET", "tracker/calendar/{token}.ics"): "iCalendar feed, authorised by its secret token",
    ("GET", "me/exports/download"): "data export download, authorised by its signed one-time token",
    ("POST", "payments/webhooks/stripe"): "Stripe webhook, authorised by its signature",
    ("GET", "utils/countries"): "reference data",
    ("GET", "utils/currencies"): "reference data",
    ("GET", "utils/languages"): "reference data",
    ("GET", "utils/ping"): "liveness",
    ("GET", "utils/timezones"): "reference data",
}
# Resolver routes that are not operations (documentation).
NOT_OPERATIONS = {"", "openapi.json", "docs"}  # "" is the API root (ninja answers 404)
# Admin-only routes outside an /admin/ segment.
ADMIN_ONLY_EXTRA = {
    ("POST", "marketplace/subjects"),
    ("PATCH", "marketplace/subjects/{subject_id}"),
    ("DELETE", "marketplace/subjects/{subject_id}"),
    ("POST", "payments/withdrawals/{withdrawal_id}/approve"),
    ("POST", "payments/withdrawals/{withdrawal_id}/reject"),
    ("GET", "notifications/email-log"),
}
# Object routes whose path parameter names something a stranger may legitimately use, and why.
SHARED_BY_DESIGN: dict[tuple[str, str], str] = {
    ("GET", "users/{user_id}"): "a user's public card (name, avatar) for anyone they may meet",
    ("GET", "messaging/threads/{user_id}/messages"): "user_id is the other party: B reads B's own thread",
    ("POST", "messaging/threads/{user_id}/read"): "user_id is the other party: B marks B's own thread",
    ("DELETE", "messaging/blocks/{user_id}"): "user_id is the other party: B unblocks in B's own list",
    ("POST", "marketplace/favourites/{tutor_id}"): "tutors are public; B favourites in B's own list",
    ("DELETE", "marketplace/favourites/{tutor_id}"): "tutors are public; B's own list",
    ("POST", "marketplace/packages/{package_id}/purchase"): "an active package is on sale to every student",
}


def _resolver_routes() -> Iterator[str]:
    """Every route the URL resolver serves under /api/v1/, as ninja route strings."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    for route in walk(get_resolver().url_patterns, ""):
        if route.startswith("api/v1/"):
            yield re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", route.removeprefix("api/v1/"))


def operations() -> list[tuple[str, str]]:
    paths = {p.removeprefix(API_PREFIX): item for p, item in SCHEMA["paths"].items()}
    ops = []
    for route in sorted(set(_resolver_routes())):
        if route in NOT_OPERATIONS:
            continue
        assert route in paths, f"{route} is served but not in the OpenAPI schema: document it or add it to NOT_OPERATIONS"
        ops += [(m.upper(), route) for m in METHODS if m in paths[route]]
    return ops


OPERATIONS = operations()


def fill(route: str, params: dict[str, str] | None = None) -> str:
    params = params or {}
    return re.sub(r"\{(\w+)\}", lambda m: params.get(m.group(1), "x" if m.group(1) == "token" else str(uuid.uuid4())), route)


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def is_multipart(method: str, route: str) -> bool:
    op = SCHEMA["paths"][API_PREFIX + route][method.lower()]
    return "multipart/form-data" in op.get("requestBody", {}).get("content", {})


def call(client: ApiClient, method: str, route: str, body: Any = None, *, template: str | None = None) -> Any:
    """One request; the cache (where throttle counters live) is emptied first so no limit answers."""
    cache.clear()
    path = "/" + route
    if method == "GET":
        return client.get(path)
    if template and is_multipart(method, template):
        return client.post(path, files={"file": SimpleUploadedFile("a.png", PNG, content_type="image/png")})
    return getattr(client, method.lower())(path, body if body is not None else {})


# Inputs the generator rarely gets past a custom validator with.
VALID_INPUT: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "payments/admin/revenue"): {"year": 2026},
    ("POST", "courses/{course_id}/lessons"): {"title": "A lesson", "content_type": "text"},
    ("POST", "timetable-import/imports/{import_id}/proposals"): {
        "day_of_week": 0,
        "start_time": "09:00",
        "end_time": "10:00",
        "course_name": "Maths",
    },
}


def call_validly(client: ApiClient, method: str, template: str, path: str, tries: int = 8) -> Any:
    """Call with generated bodies until one passes validation (422 comes before any lookup)."""
    if (method, template) in VALID_INPUT:
        cache.clear()
        data = VALID_INPUT[(method, template)]
        return client.get("/" + path, data) if method == "GET" else getattr(client, method.lower())("/" + path, data)
    res = None
    for _ in range(tries):
        body = example_body(method, template) if method in ("POST", "PUT", "PATCH") else None
        res = call(client, method, path, body, template=template)
        if res.status_code != 422:
            break
    return res


def is_admin_route(method: str, route: str) -> bool:
    return route.startswith("admin/") or "/admin/" in route or (method, route) in ADMIN_ONLY_EXTRA


def test_the_sweep_sees_every_operation() -> None:
    assert len(OPERATIONS) == sum(1 for item in SCHEMA["paths"].values() for m in item if m in METHODS)
    assert len(OPERATIONS) >= 200
    for key in [*PUBLIC, *ADMIN_ONLY_EXTRA, *SHARED_BY_DESIGN]:
        assert key in OPERATIONS, f"{key} is listed in the sweep but no longer exists: remove it"


def test_every_route_without_a_token_is_401_unless_public(anon: ApiClient) -> None:
    wrong = []
    for method, route in OPERATIONS:
        if (method, route) in PUBLIC:
            continue
        res = call(anon, method, fill(route))
        if res.status_code != 401 or res["Content-Type"] != "application/problem+json":
            wrong.append((method, route, res.status_code))
    assert not wrong, f"answered without a token (add to PUBLIC only if that is intended): {wrong}"


def test_public_routes_are_really_public_in_the_schema() -> None:
    for (method, route), _why in PUBLIC.items():
        op = SCHEMA["paths"][API_PREFIX + route][method.lower()]
        assert not op.get("security"), (method, route)


def test_every_admin_route_is_403_for_students_and_tutors(make_user: Any) -> None:
    admin_ops = [(m, r) for m, r in OPERATIONS if is_admin_route(m, r)]
    assert len(admin_ops) >= 25
    wrong = []
    for role in ("student", "tutor"):
        client = ApiClient(make_user(role))
        for method, route in admin_ops:
            res = call_validly(client, method, route, fill(route))
            if res.status_code != 403:
                wrong.append((role, method, route, res.status_code))
    assert not wrong, wrong


def object_operations() -> list[tuple[str, str]]:
    return [
        (m, r)
        for m, r in OPERATIONS
        if "{" in r and (m, r) not in PUBLIC and not is_admin_route(m, r) and (m, r) not in SHARED_BY_DESIGN
    ]


def example_body(method: str, route: str) -> Any:
    """A body valid for the operation's schema (from schemathesis), so validation cannot answer first."""
    import schemathesis

    from tests.security.test_contract import SCHEMA as FUZZ_SCHEMA

    op = FUZZ_SCHEMA[API_PREFIX + route][method]
    if "requestBody" not in SCHEMA["paths"][API_PREFIX + route][method.lower()]:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        case = op.as_strategy(schemathesis.GenerationMode.POSITIVE).example()
    return case.body if isinstance(case.body, dict | list) else None


def test_objects_of_one_user_are_404_to_another_and_unchanged() -> None:
    """A stranger of the same role gets 404; a stranger whose role may never use the route may get
    403 role_required instead (the answer does not depend on the object)."""
    world: World = build_world()
    ops = object_operations()
    assert len(ops) >= 60
    missing, wrong, checked = [], [], 0
    for method, route in ops:
        prefix = route.split("/", 1)[0]
        param = re.findall(r"\{(\w+)\}", route)[-1]
        factory = OBJECT_FACTORIES.get((prefix, param))
        if factory is None:
            missing.append(f"{method} {route}: add a factory for ({prefix!r}, {param!r}) to tests/security/world.py")
            continue
        target = factory(world)
        before = snapshot(target.obj)
        assert before is not None
        path = fill(route, target.params)
        for stranger in (world.student2, world.tutor2):
            res = call_validly(world.client(stranger), method, route, path)
            checked += 1
            role_refused = res.status_code == 403 and res.json().get("code") == "role_required"
            if res.status_code != 404 and not role_refused:
                wrong.append((stranger.role, method, path, res.status_code, res.content[:160]))
        after = snapshot(target.obj)
        if after != before:
            wrong.append(("changed", method, route, before, after))
    assert not missing, "\n".join(missing)
    assert not wrong, "\n".join(map(str, wrong))
    assert checked >= 120
