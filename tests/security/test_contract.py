"""Contract fuzzing with schemathesis against /api/v1/openapi.json (OWASP API3, API8).

Every operation, as a student, a tutor and an admin of a seeded world, gets a bounded number of
generated requests (valid and invalid), half of the valid ones aimed at real objects. Each answer must
be no 5xx and exactly as the schema documents: a declared status code, its content type and its body
schema; invalid input must be refused with a 4xx. ``CONTRACT_EXAMPLES`` (default 2) sets the number of
examples per operation, role and generation mode (valid, invalid). It runs only when CONTRACT_EXAMPLES
is set (about 3 minutes on two workers with 2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from core.api.site import api
from core.testing import issue_access_token
from tests.security.world import OBJECT_FACTORIES, World, build_world

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "2"))
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "CONTRACT_EXAMPLES" not in os.environ,
        reason="set CONTRACT_EXAMPLES=2 to run (CI runs it on PostgreSQL with Redis: .ci/run)",
    ),
]
ROLES = ("student", "tutor", "admin")
SCHEMA_DICT: dict[str, Any] = api.get_openapi_schema()
SCHEMA = schemathesis.openapi.from_dict(SCHEMA_DICT)
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in SCHEMA_DICT["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
)
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]
API_PREFIX = "/api/v1/"


def in_test_transaction(handler: WSGIHandler) -> Callable[..., Iterable[bytes]]:
    """The WSGI app for the fuzz: Django's handler without close_old_connections around each request.

    A bare WSGIHandler sends request_started/request_finished, whose close_old_connections drops a
    connection left with autocommit off: inside the test's transaction every later query then fails
    with "the connection is closed" (PostgreSQL; SQLite's in-memory test database ignores the close).
    Django's test Client detaches it the same way, for each request."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = handler(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()  # sends request_finished
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]

    return app


def real_path_parameters(world: World, path: str) -> dict[str, str]:
    """Path parameters naming seeded objects for this route (owned by student1/tutor1), if known."""
    rest = path.removeprefix(API_PREFIX)
    prefix = rest.split("/", 1)[0]
    names = [part[1:-1] for part in rest.split("/") if part.startswith("{")]
    if not names or (prefix, names[-1]) not in OBJECT_FACTORIES:
        return {}
    target = OBJECT_FACTORIES[(prefix, names[-1])](world)
    return {k: v for k, v in target.params.items() if k in names}


def test_every_operation_is_fuzzed() -> None:
    assert len(OPERATIONS) >= 200, len(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p.removeprefix(API_PREFIX)}" for m, p in OPERATIONS])
def test_operation_conforms_to_its_schema(method: str, path: str) -> None:
    world = build_world()
    operation = SCHEMA[path][method]
    app = in_test_transaction(WSGIHandler())
    real = real_path_parameters(world, path)
    strategies = {mode: operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)}

    for role in ROLES:
        headers = {"Authorization": f"Bearer {issue_access_token(world.by_role(role))}"}
        for mode, strategy in strategies.items():
            fuzz(strategy, mode, headers, real, app)


def fuzz(strategy: Any, mode: GenerationMode, headers: dict[str, str], real: dict[str, str], app: Callable[..., Any]) -> None:
    checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else POSITIVE_CHECKS

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy, aim_at_real=st.booleans())
    def check(case: Any, aim_at_real: bool) -> None:
        if real and aim_at_real and mode is GenerationMode.POSITIVE:
            case.path_parameters = {**(case.path_parameters or {}), **real}
        # The case itself carries the caller's token: a negative case that only left Authorization out
        # is then judged by what was sent (the checks read case.headers, not the transport's extras).
        case.headers = {**(case.headers or {}), **headers}
        case.call_and_validate(app=app, checks=checks)

    try:
        check()
    except Unsatisfiable:
        # Nothing in this operation can be made invalid (no parameters, no body): no negative cases.
        assert mode is GenerationMode.NEGATIVE
