"""The OAuth endpoints' form bodies: form-encoded only, no parameter twice (RFC 6749 3.1)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_the_same_body_with_and_without_a_repeated_parameter(
    app_client: TestClient, machine: tuple[str, str]
) -> None:
    once = app_client.post(
        "/token", content="grant_type=client_credentials", headers=FORM, auth=machine
    )
    assert once.status_code == 200, once.text
    assert once.json()["token_type"] == "Bearer"
    twice = app_client.post(
        "/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers=FORM,
        auth=machine,
    )
    assert twice.status_code == 400
    assert twice.json()["error"] == "invalid_request"
    assert twice.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("endpoint", ["/token", "/par", "/revoke", "/introspect"])
def test_a_body_that_is_not_a_form_is_invalid_request(
    app_client: TestClient, machine: tuple[str, str], endpoint: str
) -> None:
    resp = app_client.post(endpoint, json={"grant_type": "client_credentials"}, auth=machine)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"


def test_a_body_that_is_not_utf8_is_invalid_request(
    app_client: TestClient, machine: tuple[str, str]
) -> None:
    resp = app_client.post("/token", content=b"grant_type=\xff\xfe", headers=FORM, auth=machine)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"


def test_the_form_may_name_its_charset(app_client: TestClient, machine: tuple[str, str]) -> None:
    resp = app_client.post(
        "/token",
        content="grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded; charset=UTF-8"},
        auth=machine,
    )
    assert resp.status_code == 200, resp.text
