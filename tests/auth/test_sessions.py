"""Browser sessions: cookie attributes, CSRF, idle and absolute timeouts (injected clock), and
"log out everywhere". Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dinhdanh.auth import totp
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.oidc.conftest import PASSWORD, TOTP_SECRET, Citizen, csrf_of, log_in
from tests.support import Clock

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(container: Container) -> Clock:
    clock = Clock(T0)
    container.clock = clock
    return clock


@pytest.fixture
def tc(container: Container, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="https://testserver") as client:
        yield client


def _code(at: datetime) -> str:
    return totp.totp_at(TOTP_SECRET, int(at.timestamp()))


def _logged_in(tc: TestClient) -> bool:
    resp = tc.get("/account", follow_redirects=False)
    assert resp.status_code in (200, 303)
    return resp.status_code == 200


def test_session_cookie_attributes(tc: TestClient, citizen: Citizen) -> None:
    page = tc.get("/login")
    csrf_cookie = page.headers["set-cookie"]
    resp = tc.post(
        "/login",
        data={"id_number": citizen.id_number, "password": PASSWORD, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    for header in (csrf_cookie, resp.headers["set-cookie"]):
        name = header.split("=", 1)[0]
        assert name.startswith("__Host-")
        attrs = {a.strip().lower() for a in header.split(";")[1:]}
        assert {"secure", "httponly", "path=/", "samesite=lax"} <= attrs
        assert not any(a.startswith("domain") for a in attrs)


def test_csrf_is_required_on_every_form(tc: TestClient, citizen: Citizen) -> None:
    tc.get("/login")
    for token in ("", "forged"):
        resp = tc.post(
            "/login",
            data={"id_number": citizen.id_number, "password": PASSWORD, "csrf": token},
            follow_redirects=False,
        )
        assert resp.status_code == 400
    log_in(tc, citizen, _code(T0))
    resp = tc.post("/account/logout-everywhere", data={"csrf": "forged"})
    assert resp.status_code == 400
    assert _logged_in(tc)


def test_idle_timeout(tc: TestClient, citizen: Citizen, clock: Clock) -> None:
    log_in(tc, citizen, _code(T0))
    clock.now = T0 + timedelta(minutes=29)
    assert _logged_in(tc)  # and the session is touched
    clock.now += timedelta(minutes=29)
    assert _logged_in(tc)
    clock.now += timedelta(minutes=31)
    assert not _logged_in(tc)


def test_absolute_timeout(tc: TestClient, citizen: Citizen, clock: Clock) -> None:
    log_in(tc, citizen, _code(T0))
    while clock.now + timedelta(minutes=20) < T0 + timedelta(hours=12):
        clock.now += timedelta(minutes=20)
        assert _logged_in(tc), clock.now
    clock.now = T0 + timedelta(hours=12)
    assert not _logged_in(tc)


def test_log_out_everywhere(
    container: Container, tc: TestClient, citizen: Citizen, clock: Clock
) -> None:
    log_in(tc, citizen, _code(T0))
    with TestClient(create_app(container), base_url="https://testserver") as other:
        clock.now = T0 + timedelta(seconds=30)  # a TOTP code is never accepted twice
        log_in(other, citizen, _code(clock.now))
        assert _logged_in(other)
        page = tc.get("/account")
        resp = tc.post(
            "/account/logout-everywhere", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert resp.status_code == 303
        assert not _logged_in(other)
        assert not _logged_in(tc)


def test_second_factor_is_needed_before_the_account(tc: TestClient, citizen: Citizen) -> None:
    page = tc.get("/login")
    tc.post(
        "/login",
        data={"id_number": citizen.id_number, "password": PASSWORD, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert not _logged_in(tc)
