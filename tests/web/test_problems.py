"""Problem details (RFC 9457) and what the OpenAPI document declares of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.web.app import create_app
from dinhdanh.web.limits import limit_for
from dinhdanh.wiring import Container


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as tc:
        yield tc


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("TRACE", "/token", "POST"), ("DELETE", "/api/v1/clients", "GET, POST")],
)
def test_a_wrong_method_is_405_with_allow(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    """RFC 9110 section 15.5.6: a 405 names the methods the resource supports."""
    resp = client.request(method, path)
    assert resp.status_code == 405
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "method_not_allowed"
    assert resp.headers["allow"] == allowed


def test_every_operation_with_a_body_declares_the_413_it_may_answer(client: TestClient) -> None:
    """web/limits.py answers 413 before any route runs: in RFC 6749's format on the OAuth
    endpoints, as a problem elsewhere. The document says which, for every operation."""
    document = client.get("/openapi.json").json()
    bodies = 0
    for path, item in document["paths"].items():
        for operation in item.values():
            if "requestBody" not in operation:
                continue
            bodies += 1
            declared = operation["responses"]["413"]["content"]
            oauth = limit_for(path, upload_bytes=1).oauth
            expected = "application/json" if oauth else "application/problem+json"
            schema = "OAuthError" if oauth else "Problem"
            assert list(declared) == [expected], path
            assert declared[expected]["schema"]["$ref"] == f"#/components/schemas/{schema}"
    assert bodies >= 10
    assert {"Problem", "OAuthError"} <= set(document["components"]["schemas"])


def test_a_nul_in_a_text_value_is_a_400_not_a_500(client: TestClient, container: Container) -> None:
    """PostgreSQL refuses a NUL in a text value (SQLite stores it): the database error was a
    500 on any endpoint, to anyone. Now a 400 in the endpoint's format, on both databases."""
    with container.unit_of_work() as s:
        _, admin = create_api_key(s, "admin", Role.ADMIN, container.clock(), owner="test org")
    bearer = {"Authorization": f"Bearer {admin}"}
    oauth = [
        client.post("/token", data={"grant_type": "client_credentials", "client_id": "a\x00"}),
        client.post("/introspect", data={"token": "t"}, auth=("a\x00", "s")),
        client.get("/authorize", params={"client_id": "a\x00"}),
        client.get("/logout", params={"client_id": "a\x00"}),
    ]
    for resp in oauth:
        assert resp.status_code in (400, 401), resp.text
        if resp.headers["content-type"].startswith("application/json"):
            assert resp.json()["error"] in ("invalid_request", "invalid_client")
    api = [
        client.post("/api/v1/clients", json={"name": "a\x00", "redirect_uris": []}, headers=bearer),
        client.post("/api/v1/clients/a%00/disable", headers=bearer),
        client.get("/api/v1/carriers/A%00B/actions", headers=bearer),
    ]
    for resp in api:
        assert resp.status_code < 500, resp.text
        assert resp.status_code != 400 or resp.json()["code"] == "invalid_data"
