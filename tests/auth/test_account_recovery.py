"""Re-enrolment of an account that has a second factor (issue 8, finding 1): an SMS code
alone never resets the password nor yields a session; the user proves the second factor, or
the reset waits (notice to every number, old factors kept, a login with them cancels it).
Through the real pages, with the container's clock moved by hand. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from dinhdanh.auth import totp
from dinhdanh.auth.login import LoginFailed
from dinhdanh.auth.models import AccountRecovery, WebAuthnCredential
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.auth.factories import add_passkey, subscribe
from tests.oidc.conftest import PASSWORD, TOTP_SECRET, Citizen, csrf_of, make_citizen
from tests.support import Clock

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "sông Hồng chảy qua Hà Nội 7"


@pytest.fixture
def clock(container: Container) -> Clock:
    clock = Clock(T0)
    container.clock = clock
    return clock


@pytest.fixture
def victim(container: Container) -> Citizen:
    """A citizen whose account has a password and TOTP, and a number a carrier listed."""
    p = make_citizen(container)
    subscribe(container, p, p.phone, "VNP")
    return p


@pytest.fixture
def tc(container: Container, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="https://testserver") as client:
        yield client


def totp_now(clock: Clock) -> str:
    return totp.totp_at(TOTP_SECRET, int(clock.now.timestamp()))


def last_code(c: Container) -> str:
    with c.unit_of_work() as s:
        m = re.search(r"\b(\d{6})\b", c.auth.outbox.messages(s, limit=1)[0].text)
    assert m
    return m.group(1)


def enrol_again(tc: TestClient, c: Container, p: Citizen) -> tuple[Response, str]:
    """Identity, SMS code, new password through the pages: the answer to the password step
    and the CSRF value."""
    csrf = csrf_of(tc.get("/enrol").text)
    identity = {"id_number": p.id_number, "full_name": p.full_name, "csrf": csrf}
    assert tc.post("/enrol", data=identity | {"date_of_birth": p.date_of_birth.isoformat()})
    assert tc.post("/enrol/code", data={"code": last_code(c), "csrf": csrf}).status_code == 200
    answer = tc.post(
        "/enrol/password", data={"password": NEW_PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    return answer, csrf


def password_login(c: Container, p: Citizen, password: str, now: datetime) -> bool | None:
    """None: refused; else whether the second factor is due."""
    try:
        result = c.auth.login.password(
            c.unit_of_work, p.id_number, password, ip="10.9.9.9", user_agent="t", now=now
        )
    except LoginFailed:
        return None
    return result.mfa_pending


def pending(c: Container, p: Citizen) -> AccountRecovery | None:
    with c.unit_of_work() as s:
        return c.auth.recoveries.pending(s, p.account_id)


def test_an_sms_code_alone_gives_no_session_and_changes_nothing(
    container: Container, clock: Clock, victim: Citizen, tc: TestClient
) -> None:
    c = container
    answer, csrf = enrol_again(tc, c, victim)
    # No session: the page asks for the second factor instead.
    assert answer.status_code == 200
    assert "/enrol/factor" in answer.text
    assert "__Host-dd_session" not in answer.headers.get("set-cookie", "")
    # Nothing that changes authenticators is reachable.
    assert tc.get("/account/totp", follow_redirects=False).headers["location"].startswith("/login")
    recovery = tc.post("/account/recovery-codes", data={"csrf": csrf}, follow_redirects=False)
    assert recovery.headers["location"].startswith("/login")
    options = tc.post("/account/passkeys/options", headers={"X-CSRF-Token": csrf})
    assert options.status_code == 401
    # The old password still works, the new one does not; TOTP is still due.
    assert password_login(c, victim, PASSWORD, clock.now) is True
    assert password_login(c, victim, NEW_PASSWORD, clock.now) is None


@pytest.mark.parametrize("factor", ["otp", "recovery"])
def test_the_citizen_proves_the_second_factor_and_gets_a_full_session(
    container: Container, clock: Clock, victim: Citizen, tc: TestClient, factor: str
) -> None:
    c = container
    code = totp_now(clock)
    if factor == "recovery":
        with c.unit_of_work() as s:
            account = c.auth.accounts.get(s, victim.account_id)
            assert account is not None
            code = c.auth.accounts.new_recovery_codes(s, account)[0]
    _, csrf = enrol_again(tc, c, victim)
    wrong = tc.post("/enrol/factor", data={"code": "000000", "csrf": csrf})
    assert wrong.status_code == 401
    done = tc.post("/enrol/factor", data={"code": code, "csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text
    with c.unit_of_work() as s:
        view = c.auth.sessions.resolve(s, tc.cookies.get("__Host-dd_session"), clock.now)
    assert view is not None
    assert view.amr == ("pwd", "sms", factor, "mfa")
    assert view.acr == 1
    clock.now += timedelta(seconds=40)
    assert password_login(c, victim, NEW_PASSWORD, clock.now) is True
    assert password_login(c, victim, PASSWORD, clock.now) is None


def test_the_reset_waits_then_applies_and_removes_the_old_factors(
    container: Container, clock: Clock, victim: Citizen, tc: TestClient
) -> None:
    c = container
    add_passkey(c, victim.account_id, "cred-old")
    _, csrf = enrol_again(tc, c, victim)
    waiting = tc.post("/enrol/wait", data={"csrf": csrf})
    assert waiting.status_code == 200
    assert 'id="recovery-waiting"' in waiting.text
    assert "__Host-dd_session" not in waiting.headers.get("set-cookie", "")
    # Every number the telecom registry lists is told, with the date.
    with c.unit_of_work() as s:
        notice = c.auth.outbox.messages(s, limit=1)[0]
    assert notice.to == victim.phone
    assert "2025-03-04 09:00" in notice.text
    # During the wait the old password (and TOTP) keep working; the new one does not.
    clock.now = T0 + timedelta(hours=71)
    assert password_login(c, victim, PASSWORD, clock.now) is True
    assert password_login(c, victim, NEW_PASSWORD, clock.now) is None
    # After the wait: the new password, at level 0 (no second factor any more).
    clock.now = T0 + timedelta(hours=72, minutes=1)
    assert password_login(c, victim, NEW_PASSWORD, clock.now) is False
    assert password_login(c, victim, PASSWORD, clock.now) is None
    with c.unit_of_work() as s:
        account = c.auth.accounts.get(s, victim.account_id)
        assert account is not None
        assert account.totp_sealed is None
        cred = s.get(WebAuthnCredential, "cred-old")
        assert cred is not None
        assert cred.revoked_at is not None
        states = list(s.scalars(select(AccountRecovery.state)))
        assert "was reset" in c.auth.outbox.messages(s, limit=1)[0].text
    assert states == ["applied"]


def test_a_login_with_the_old_factors_cancels_the_reset(
    container: Container, clock: Clock, victim: Citizen, tc: TestClient
) -> None:
    c = container
    _, csrf = enrol_again(tc, c, victim)
    assert tc.post("/enrol/wait", data={"csrf": csrf}).status_code == 200
    assert pending(c, victim) is not None
    # The citizen logs in with password and TOTP a day later (another browser).
    clock.now = T0 + timedelta(days=1)
    with TestClient(create_app(c), base_url="https://testserver") as citizen:
        page_csrf = csrf_of(citizen.get("/login").text)
        form = {"id_number": victim.id_number, "password": PASSWORD, "csrf": page_csrf}
        assert citizen.post("/login", data=form, follow_redirects=False).status_code == 303
        second = {"code": totp_now(clock), "csrf": page_csrf}
        ok = citizen.post("/login/second-factor", data=second, follow_redirects=False)
        assert ok.status_code == 303
    assert pending(c, victim) is None
    with c.unit_of_work() as s:
        assert "cancelled" in c.auth.outbox.messages(s, limit=1)[0].text
    clock.now = T0 + timedelta(days=4)
    assert password_login(c, victim, NEW_PASSWORD, clock.now) is None
    assert password_login(c, victim, PASSWORD, clock.now) is True


def test_an_account_without_a_second_factor_gets_pwd_sms_at_level_1(
    container: Container, clock: Clock, tc: TestClient
) -> None:
    c = container
    p = make_citizen(c, with_account=False)
    subscribe(c, p, p.phone, "VNP")
    answer, _ = enrol_again(tc, c, p)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/account/totp")
    with c.unit_of_work() as s:
        view = c.auth.sessions.resolve(s, tc.cookies.get("__Host-dd_session"), clock.now)
    assert view is not None
    assert (view.amr, view.acr) == (("pwd", "sms"), 1)
    # First-time TOTP setup is allowed right after (a fresh password).
    assert tc.get("/account/totp").status_code == 200
