"""Strict input (OWASP API3, API4, API8): unknown fields refused, no boolean coercion, no mass assignment,
body size limits answered as 413 problems, page sizes capped, every text field of a request bounded.

The schema walks cover every operation, so a new write schema or list is held to the same rules.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django import db
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from core.api.pagination import MAX_PAGE_SIZE
from core.api.site import api
from core.models import User
from core.ratelimit import reset_local_state
from core.testing import ApiClient
from tests.security.world import build_world, model, snapshot

pytestmark = pytest.mark.django_db

SCHEMA: dict[str, Any] = api.get_openapi_schema()
COMPONENTS: dict[str, Any] = SCHEMA["components"]["schemas"]
WRITES = ("post", "put", "patch", "delete")
PRIVILEGED_FIELDS = {
    "role": "admin",
    "is_staff": True,
    "is_superuser": True,
    "status": "approved",
    "rating": 5,
    "rating_avg": 5,
    "balance": 10**9,
    "balance_minor": 10**9,
    "approved": True,
    "approval": "approved",
    "user_id": str(uuid.uuid4()),
}
# String properties of request bodies with no maxLength, and what bounds them instead.
_DECIMAL = "a decimal number as a string: bounded by max_digits/decimal_places"
_QUERY = "a query filter compared for equality; bounded by the server's request-line limit"
UNBOUNDED_STRINGS_ALLOWED: dict[str, str] = {
    "PATCH /api/v1/tracker/preferences (application/json).target_gpa": _DECIMAL,
    "PUT /api/v1/tracker/grading-scale (application/json).bands[].min": _DECIMAL,
    "PUT /api/v1/tracker/grading-scale (application/json).bands[].points": _DECIMAL,
    "POST /api/v1/tracker/results (application/json).score": _DECIMAL,
    "POST /api/v1/tracker/results (application/json).max_score": _DECIMAL,
    "POST /api/v1/tracker/results (application/json).weight": _DECIMAL,
    "PATCH /api/v1/tracker/results/{result_id} (application/json).score": _DECIMAL,
    "PATCH /api/v1/tracker/results/{result_id} (application/json).max_score": _DECIMAL,
    "PATCH /api/v1/tracker/results/{result_id} (application/json).weight": _DECIMAL,
    "POST /api/v1/messaging/messages/with-attachment (multipart/form-data).body": "checked by the service (MAX_BODY), 422",
    "GET /api/v1/tracker/courses/{course_id}/standing (query target)": "a letter or a percentage, parsed; 422 otherwise",
    "GET /api/v1/tracker/timetable/current (query semester)": _QUERY,
}
# Paged lists whose size parameter is capped in the view rather than refused.
CAPPED_IN_VIEW = {"/api/v1/tracker/dashboard/upcoming-classes", "/api/v1/tracker/dashboard/activities"}
BOUNDED_FORMATS = {"uuid", "date", "date-time", "partial-time", "time", "email", "binary", "duration"}


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """The schema a reference or an optional (anyOf [X, null]) stands for."""
    while True:
        if "$ref" in node:
            node = COMPONENTS[node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node and len([o for o in node["anyOf"] if o.get("type") != "null"]) == 1:
            node = next(o for o in node["anyOf"] if o.get("type") != "null")
        else:
            return node


def body_schemas() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for path, item in SCHEMA["paths"].items():
        for method, op in item.items():
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                yield method.upper(), path, media, resolve(content["schema"])


def json_bodies() -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, s) for m, p, media, s in body_schemas() if media == "application/json"]


def string_properties(node: dict[str, Any], where: str, seen: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
        node = COMPONENTS[name]
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key, []):
            yield from string_properties(option, where, seen)
    if node.get("type") == "string":
        yield where, node
    if node.get("type") == "array" and "items" in node:
        yield from string_properties(node["items"], where + "[]", seen)
    for name, prop in node.get("properties", {}).items():
        yield from string_properties(prop, f"{where}.{name}", seen)
    if isinstance(node.get("additionalProperties"), dict):
        yield from string_properties(node["additionalProperties"], where + "{}", seen)


def url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "x" if m.group(1) == "token" else str(uuid.uuid4()), path)


def send(client: ApiClient, method: str, path: str, body: Any) -> Any:
    cache.clear()  # throttle counters live in the cache: no limit answers first
    reset_local_state()  # nor a counter held in this process while an earlier test had Redis down
    return getattr(client, method.lower())(url(path), body)


# --- strict write schemas -----------------------------------------------------------------------------


def test_every_json_write_schema_refuses_unknown_fields_in_the_schema() -> None:
    bodies = json_bodies()
    assert len(bodies) >= 55
    open_schemas = [(m, p) for m, p, s in bodies if s.get("additionalProperties") is not False]
    assert not open_schemas, f"write schemas must derive from core.api.schemas.WriteSchema: {open_schemas}"


def test_privileged_fields_are_refused_by_every_write_operation(admin_user: User) -> None:
    client = ApiClient(admin_user)
    wrong = []
    for method, path, schema in json_bodies():
        known = set(schema.get("properties", {}))
        for field, value in PRIVILEGED_FIELDS.items():
            if field in known:
                continue
            res = send(client, method, path, {field: value})
            fields = {e["field"] for e in res.json().get("errors") or []} if res.status_code == 422 else set()
            if field not in fields:
                wrong.append((method, path, field, res.status_code))
    assert not wrong, wrong


def test_booleans_are_not_coerced_from_strings_or_numbers(admin_user: User) -> None:
    client = ApiClient(admin_user)
    checked, wrong = 0, []
    for method, path, schema in json_bodies():
        for name, prop in schema.get("properties", {}).items():
            types = {prop.get("type")} | {o.get("type") for o in prop.get("anyOf", [])}
            if "boolean" not in types:
                continue
            for value in ("1", "yes", "true", 1):
                res = send(client, method, path, {name: value})
                errors = res.json().get("errors") or [] if res.status_code == 422 else []
                checked += 1
                if not any(e["field"] == name and e["type"] == "bool_type" for e in errors):
                    wrong.append((method, path, name, value, res.status_code))
    assert checked >= 40 and not wrong, wrong


def test_mass_assignment_on_me_changes_nothing(student: User) -> None:
    client = ApiClient(student)
    before = snapshot(student)
    for field in ("role", "is_staff", "is_superuser", "is_active", "email", "deleted_at", "password"):
        res = client.patch("/me", {field: "admin" if field == "role" else True, "first_name": "Mallory"})
        assert res.status_code == 422, (field, res.content)
    assert snapshot(student) == before


def test_mass_assignment_on_owned_objects_changes_nothing() -> None:
    world = build_world()
    tutor, student = world.client(world.tutor), world.client(world.student)
    profile = model("marketplace.TutorProfile").objects.get(user=world.tutor)
    tracker_course = model("tracker.Course").objects.filter(user=world.student).first()
    course = model("courses.Course").objects.filter(tutor=world.tutor).first()
    withdrawal = model("payments.Withdrawal").objects.filter(tutor=world.tutor).first()
    cases = [
        (
            tutor,
            "/marketplace/tutors/me",
            profile,
            ["status", "rating_avg", "rating_count", "approved_at", "user_id", "is_featured"],
        ),
        (student, f"/tracker/courses/{tracker_course.pk}", tracker_course, ["user_id", "user", "gpa"]),
        (tutor, f"/courses/{course.pk}", course, ["tutor_id", "tutor", "rating", "enrolment_count"]),
    ]
    for client, path, obj, fields in cases:
        before = snapshot(obj)
        for field in fields:
            res = client.patch(path, {field: str(uuid.uuid4()) if field.endswith("_id") else "approved"})
            assert res.status_code == 422, (path, field, res.content)
        assert snapshot(obj) == before, path
    before = snapshot(withdrawal)
    res = tutor.post("/payments/withdrawals", {"amount_minor": 1, "currency": "USD", "status": "paid"})
    assert res.status_code == 422
    assert snapshot(withdrawal) == before
    assert model("payments.Withdrawal").objects.filter(tutor=world.tutor).count() == 1


# --- size limits -------------------------------------------------------------------------------------


def test_every_text_field_of_a_request_has_a_maximum_length() -> None:
    unbounded = []
    for method, path, media, schema in body_schemas():
        for where, prop in string_properties(schema, f"{method} {path} ({media})", set()):
            if "maxLength" in prop or "enum" in prop or "const" in prop or prop.get("format") in BOUNDED_FORMATS:
                continue
            if where not in UNBOUNDED_STRINGS_ALLOWED:
                unbounded.append(where)
    for path, item in SCHEMA["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                prop = resolve(param.get("schema", {}))
                options = prop.get("anyOf", [prop])
                for option in options:
                    if option.get("type") == "string" and not (
                        "maxLength" in option or "enum" in option or option.get("format") in BOUNDED_FORMATS
                    ):
                        where = f"{method.upper()} {path} ({param['in']} {param['name']})"
                        if param["in"] != "path" and where not in UNBOUNDED_STRINGS_ALLOWED:
                            unbounded.append(where)
    assert not unbounded, "string fields without maxLength:\n" + "\n".join(unbounded)


def test_every_paged_list_caps_its_page_size(admin_user: User) -> None:
    client = ApiClient(admin_user)
    paged, wrong = 0, []
    for path, item in SCHEMA["paths"].items():
        for op in item.values():
            for param in op.get("parameters", []):
                if param["in"] != "query" or param["name"] not in ("page_size", "limit"):
                    continue
                paged += 1
                schema = resolve(param["schema"])
                if path in CAPPED_IN_VIEW:
                    items = client.get(path, {param["name"]: 1000}).json()
                    if len(items) > MAX_PAGE_SIZE:
                        wrong.append((path, param["name"], len(items)))
                    continue
                if schema.get("maximum", 10**9) > MAX_PAGE_SIZE:
                    wrong.append((path, param["name"], schema.get("maximum")))
                    continue
                if "{" in path:
                    continue
                res = client.get(path, {param["name"]: MAX_PAGE_SIZE + 1})
                if res.status_code != 422:
                    wrong.append((path, param["name"], res.status_code))
    assert paged >= 25 and not wrong, wrong


def test_an_oversized_json_body_is_a_413_problem(student: User, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = ApiClient(student)
    res = client.patch("/me", {"first_name": "x" * 20_000})
    assert res.status_code == 413, res.content
    assert res["Content-Type"] == "application/problem+json" and res.json()["code"] == "payload_too_large"


def test_an_oversized_multipart_form_is_a_413_problem(student: User, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = ApiClient(student)
    upload = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10, content_type="image/png")
    res = client.post("/me/avatar", {"note": "x" * 20_000}, files={"file": upload})
    assert res.status_code == 413, res.content
    assert res["Content-Type"] == "application/problem+json"


def test_too_many_form_fields_is_a_problem_not_a_500(student: User, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    client = ApiClient(student)
    upload = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    res = client.post("/me/avatar", {f"f{i}": "x" for i in range(50)}, files={"file": upload})
    assert res.status_code == 413, res.content
    assert res["Content-Type"] == "application/problem+json"


def test_an_oversized_upload_is_a_413_problem(student: User) -> None:
    client = ApiClient(student)
    upload = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * (11 * 1024 * 1024), content_type="image/png")
    res = client.post("/me/avatar", files={"file": upload})
    assert res.status_code in (413, 415), res.content
    assert res["Content-Type"] == "application/problem+json"


# --- values PostgreSQL cannot take --------------------------------------------------------------------
# Before these were refused, a NUL character reached psycopg (a DataError with no SQLSTATE), which the
# database-error handler took for a lost connection: 503 on PostgreSQL, stored as is on SQLite.

NUL_TEXT = "a\x00b"
# Integers with no bound in the schema, and what bounds them instead.
UNBOUNDED_INTEGERS_ALLOWED: dict[str, str] = {
    "POST /api/v1/courses/{course_id}/lessons body.questions[].correct[]": "an index into options, checked by QuestionIn",
    "PATCH /api/v1/courses/{course_id}/lessons/{lesson_id} body.questions[].correct[]": "an index into options, checked by QuestionIn",
    "GET /api/v1/tracker/dashboard/upcoming-classes query days": "capped in the view",
    "GET /api/v1/tracker/dashboard/upcoming-classes query limit": "capped in the view",
    "GET /api/v1/tracker/dashboard/activities query limit": "capped in the view",
}


def integer_properties(node: dict[str, Any], where: str, seen: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
        node = COMPONENTS[name]
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key, []):
            yield from integer_properties(option, where, seen)
    if node.get("type") == "integer":
        yield where, node
    if node.get("type") == "array" and "items" in node:
        yield from integer_properties(node["items"], where + "[]", seen)
    for name, prop in node.get("properties", {}).items():
        yield from integer_properties(prop, f"{where}.{name}", seen)


def string_query_parameters() -> list[tuple[str, str]]:
    found = []
    for path, item in SCHEMA["paths"].items():
        for param in item.get("get", {}).get("parameters", []):
            prop = resolve(param.get("schema", {}))
            types = {prop.get("type")} | {o.get("type") for o in prop.get("anyOf", [])}
            if param["in"] == "query" and "string" in types:
                found.append((path, param["name"]))
    return found


def test_a_nul_character_in_any_json_body_field_is_refused_with_a_422(admin_user: User) -> None:
    client = ApiClient(admin_user)
    checked, wrong = 0, []
    for method, path, schema in json_bodies():
        for name, prop in schema.get("properties", {}).items():
            if "string" not in {prop.get("type")} | {o.get("type") for o in resolve(prop).get("anyOf", [prop])}:
                continue
            res = send(client, method, path, {name: NUL_TEXT})
            errors = res.json().get("errors") or [] if res.status_code == 422 else []
            checked += 1
            # nul_character, or a field's own format check (a time, an enum) that ran first
            if not any(e["field"] == name for e in errors):
                wrong.append((method, path, name, res.status_code))
    assert checked >= 100 and not wrong, wrong


def test_a_nul_character_in_any_query_parameter_is_refused_with_a_422(admin_user: User) -> None:
    client = ApiClient(admin_user)
    params = string_query_parameters()
    wrong = []
    for path, name in params:
        cache.clear()
        res = client.get(url(path), {name: NUL_TEXT})
        if res.status_code != 422 or res["Content-Type"] != "application/problem+json":
            wrong.append((path, name, res.status_code))
    assert len(params) >= 20 and not wrong, wrong


def test_a_nul_character_changes_nothing_and_the_next_request_works(student: User) -> None:
    client = ApiClient(student)
    before = snapshot(student)
    res = client.patch("/me", {"first_name": NUL_TEXT, "last_name": "Fine"})
    assert res.status_code == 422, res.content
    assert [e["field"] for e in res.json()["errors"]] == ["first_name"]
    assert snapshot(student) == before
    assert client.get("/tracker/courses", {"semester": NUL_TEXT}).status_code == 422
    assert client.patch("/me", {"first_name": "Ana"}).status_code == 200
    assert client.get("/me").json()["first_name"] == "Ana"


def test_every_integer_of_a_request_is_bounded() -> None:
    unbounded = []
    for method, path, _media, schema in body_schemas():
        for where, prop in integer_properties(schema, f"{method} {path} body", set()):
            if "enum" in prop or "const" in prop:
                continue
            if ("maximum" not in prop and "exclusiveMaximum" not in prop) and where not in UNBOUNDED_INTEGERS_ALLOWED:
                unbounded.append(where)
    for path, item in SCHEMA["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    continue
                for where, prop in integer_properties(
                    param.get("schema", {}), f"{method.upper()} {path} {param['in']} {param['name']}", set()
                ):
                    if "maximum" not in prop and "enum" not in prop and where not in UNBOUNDED_INTEGERS_ALLOWED:
                        unbounded.append(where)
    assert not unbounded, "integers without maximum:\n" + "\n".join(unbounded)


def test_an_integer_beyond_the_column_range_is_a_422(student: User) -> None:
    client = ApiClient(student)
    for path in ("/marketplace/tutors", "/courses"):
        res = client.get(path, {"min_price": 2**31})
        assert res.status_code == 422 and res.json()["errors"][0]["field"] == "min_price", (path, res.content)


class FakeDriverError(Exception):
    """Stands for psycopg's error under Django's wrapper: it carries the SQLSTATE (or None)."""

    def __init__(self, code: str | None) -> None:
        super().__init__(f"driver error {code}")
        self.sqlstate = code


def wrapped(cls: type[Exception], code: str | None) -> Exception:
    try:
        try:
            raise FakeDriverError(code)
        except FakeDriverError as driver_error:
            raise cls("database said no") from driver_error
    except cls as exc:
        return exc


@pytest.mark.parametrize(
    ("cls", "code", "status", "problem"),
    [
        # 22xxx data exceptions: the input is wrong, not the database.
        ("DataError", "22003", 422, "invalid_value"),  # integer out of range
        ("DataError", "22001", 422, "invalid_value"),  # value too long for type character varying
        ("DataError", "22P02", 422, "invalid_value"),  # invalid input syntax (uuid, integer)
        ("DataError", "22008", 422, "invalid_value"),  # datetime field overflow
        ("DataError", "22021", 422, "invalid_value"),  # character not in repertoire (NUL)
        ("DataError", None, 422, "invalid_value"),  # psycopg: text fields cannot contain NUL bytes
        # A lost connection, or a database that cannot serve now.
        ("OperationalError", None, 503, "service_unavailable"),  # psycopg: the connection is closed
        ("InterfaceError", None, 503, "service_unavailable"),
        ("OperationalError", "08006", 503, "service_unavailable"),
        ("OperationalError", "57P01", 503, "service_unavailable"),  # admin shutdown (backend terminated)
        ("OperationalError", "53300", 503, "service_unavailable"),  # too many connections
        ("OperationalError", "57014", 503, "service_unavailable"),  # statement timeout
        # A race lost.
        ("OperationalError", "40001", 409, "conflict"),
        ("OperationalError", "55P03", 409, "conflict"),
        # Anything else is a bug: logged, 500, never a 503 that blames the database.
        ("ProgrammingError", "42P01", 500, "internal_error"),
        ("DatabaseError", None, 500, "internal_error"),
    ],
)
def test_database_errors_are_answered_by_what_they_mean(cls: str, code: str | None, status: int, problem: str, rf: Any) -> None:
    exc = wrapped(getattr(db, cls), code)
    res = api.on_exception(rf.get("/api/v1/me"), exc)
    assert res.status_code == status, res.content
    assert res["Content-Type"] == "application/problem+json"
    body = json.loads(res.content)
    assert body["code"] == problem
    assert ("Retry-After" in res) == (status == 503)
