"""Helpers of the provider tests: logging in through the real pages, registered clients."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dinhdanh.auth import totp
from dinhdanh.wiring import Container

# Used here, and imported from here by many provider and auth tests.
from tests.support import PASSWORD, TOTP_SECRET, Citizen, make_citizen  # noqa: F401

REDIRECT = "https://rp.example/cb"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def machine(container: Container) -> tuple[str, str]:
    """A client_credentials client: (client_id, client_secret)."""
    with container.unit_of_work() as s:
        info, secret = container.auth.clients.create(
            s,
            name="M",
            redirect_uris=[],
            grant_types=("client_credentials",),
            now=container.clock(),
        )
    assert secret is not None
    return info.client_id, secret


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def current_totp() -> str:
    return totp.totp_at(TOTP_SECRET, int(time.time()))


def log_in(tc: TestClient, citizen: Citizen, code: str | None = None) -> None:
    log_in_with(tc, citizen.id_number, PASSWORD, code or current_totp())


def demo_totp(person: dict[str, Any]) -> str:
    """The current TOTP code of a citizen printed by ``dinhdanh demo --json``."""
    b32 = person["totp_secret"]
    return totp.totp_at(base64.b32decode(b32 + "=" * (-len(b32) % 8)), int(time.time()))


def log_in_with(tc: TestClient, id_number: str, password: str, code: str) -> None:
    """Password then TOTP through the real pages."""
    page = tc.get("/login")
    resp = tc.post(
        "/login",
        data={
            "id_number": id_number,
            "password": password,
            "csrf": csrf_of(page.text),
            "next": "/account",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"].startswith("/login/second-factor")
    page = tc.get(resp.headers["location"])
    resp = tc.post(
        "/login/second-factor",
        data={"code": code, "csrf": csrf_of(page.text), "next": "/account"},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
