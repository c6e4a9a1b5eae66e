"""Problem details (RFC 9457) and what the OpenAPI document declares of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dinhdanh.web.app import create_app
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
