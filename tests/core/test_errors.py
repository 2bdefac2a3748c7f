"""Every error the API gives is an RFC 9457 problem document; nothing leaks a stack trace."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def assert_problem(res, status: int) -> dict:
    assert res.status_code == status, res.content
    assert res["Content-Type"] == PROBLEM
    body = res.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("https://")
    assert "Traceback" not in res.content.decode()
    return body


def test_malformed_json_body(student, client_for):
    body = assert_problem(client_for(student).patch("/me", "{not json"), 400)
    assert body["code"] == "malformed_body"


def test_wrong_type_names_the_field(student, client_for):
    body = assert_problem(client_for(student).patch("/me", {"last_name": ["a", "list"]}), 422)
    assert body["errors"][0]["field"] == "last_name"


def test_unknown_id_is_404(student, client_for):
    body = assert_problem(client_for(student).get(f"/users/{uuid.uuid4()}"), 404)
    assert body["code"] == "not_found"


def test_bad_id_format_is_422(student, client_for):
    assert_problem(client_for(student).get("/users/not-a-uuid"), 422)


def test_another_users_card_is_404_but_own_and_admin_see_it(student, make_user, admin_user, client_for):
    other = make_user("tutor")
    assert_problem(client_for(student).get(f"/users/{other.pk}"), 404)
    assert client_for(student).get(f"/users/{student.pk}").status_code == 200
    assert client_for(admin_user).get(f"/users/{other.pk}").json()["role"] == "tutor"


def test_unknown_route_is_problem_404(anon):
    body = assert_problem(anon.get("/api/v1/no/such/route"), 404)
    assert body["code"] == "route_not_found"


def test_missing_token_is_401_with_www_authenticate(anon):
    res = anon.get("/me")
    assert_problem(res, 401)
    assert res["WWW-Authenticate"].startswith("Bearer")


def test_request_id_is_echoed_and_in_problems(anon):
    res = anon.get("/me", headers={"X-Request-ID": "abc-123"})
    assert res["X-Request-ID"] == "abc-123"
    assert res.json()["request_id"] == "abc-123"
    res = anon.get("/me", headers={"X-Request-ID": "bad id with spaces\n"})
    assert res["X-Request-ID"] != "bad id with spaces\n" and len(res["X-Request-ID"]) == 32


def test_openapi_is_a_contract(anon):
    schema = anon.get("/api/v1/openapi.json").json()
    op_ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(op_ids) == len(set(op_ids))
    assert schema["components"]["securitySchemes"]["JWTBearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    me = schema["paths"]["/api/v1/me"]["get"]
    assert "401" in me["responses"] and me["tags"] == ["me"]


def test_docs_are_served_without_a_cdn(anon):
    res = anon.get("/api/v1/docs")
    assert res.status_code == 200
    html = res.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
