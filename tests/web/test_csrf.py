"""What the pages share (web/browser.py): the CSRF check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container

# One non-ASCII character: hmac.compare_digest refuses to compare such a str (TypeError).
FORGED = "\u00e9"


@pytest.fixture
def tc(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="https://testserver") as client:
        client.get("/login")  # the CSRF cookie
        yield client


def test_a_non_ascii_csrf_field_is_a_failed_check_not_a_500(tc: TestClient) -> None:
    """Found by Schemathesis (tests/web/test_fuzz.py) on POST /logout."""
    resp = tc.post("/logout", data={"csrf": FORGED})
    assert resp.status_code == 200  # not confirmed: the confirmation page again
    assert "csrf" in resp.text
    resp = tc.post("/login", data={"id_number": "1", "password": "x", "csrf": FORGED})
    assert resp.status_code == 400


def test_a_non_ascii_csrf_header_is_a_failed_check_not_a_500(tc: TestClient) -> None:
    header = {"X-CSRF-Token": FORGED.encode("latin-1")}  # what a server reads as latin-1
    resp = tc.post("/api/v1/me/numbers/0912345678:disown", headers=header)
    assert (resp.status_code, resp.json()["code"]) == (403, "csrf_failed")
