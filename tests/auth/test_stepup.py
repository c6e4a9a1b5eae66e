"""Step-up before changing authenticators (issue 8, finding 1): setting up or replacing TOTP,
new recovery codes, adding or revoking a passkey need the current second factor within
DINHDANH_STEP_UP_SECONDS (300). The rule, then the pages with the container's clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dinhdanh.auth.models import WebAuthnCredential
from dinhdanh.auth.stepup import is_fresh
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.auth.factories import add_passkey
from tests.auth.test_account_recovery import T0, Clock, clock, totp_now, victim
from tests.oidc.conftest import PASSWORD, Citizen, csrf_of

__all__ = ["clock", "victim"]  # fixtures shared with the recovery tests
WINDOW = timedelta(minutes=5)


@pytest.mark.parametrize(
    ("amr", "age", "has_factor", "fresh"),
    [
        (("pwd", "otp", "mfa"), timedelta(minutes=4), True, True),
        (("pwd", "recovery", "mfa"), timedelta(0), True, True),
        (("hwk", "user", "mfa"), timedelta(minutes=5), True, True),
        (("pwd", "otp", "mfa"), timedelta(minutes=5, seconds=1), True, False),
        (("pwd", "sms"), timedelta(0), True, False),  # an SMS code is not the account's factor
        (("pwd", "sms", "mfa"), timedelta(0), True, False),  # what old enrolments wrote
        (("pwd",), timedelta(0), True, False),
        (("pwd", "sms"), timedelta(minutes=1), False, True),  # first-time setup
        (("pwd",), timedelta(minutes=6), False, False),
    ],
)
def test_the_rule(amr: tuple[str, ...], age: timedelta, has_factor: bool, fresh: bool) -> None:
    assert is_fresh(amr, T0 - age, has_factor, T0, WINDOW) is fresh


@pytest.fixture
def tc(container: Container, clock: Clock, victim: Citizen) -> Iterator[TestClient]:
    """The victim logged in with password and TOTP at T0."""
    with TestClient(create_app(container), base_url="https://testserver") as client:
        csrf = csrf_of(client.get("/login").text)
        form = {"id_number": victim.id_number, "password": PASSWORD, "csrf": csrf}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        second = {"code": totp_now(clock), "csrf": csrf}
        assert client.post("/login/second-factor", data=second).status_code == 200
        yield client


def _revoked(c: Container) -> bool:
    with c.unit_of_work() as s:
        cred = s.get(WebAuthnCredential, "cred-1")
        return cred is not None and cred.revoked_at is not None


def test_authenticator_changes_need_a_recent_second_factor(
    container: Container, clock: Clock, victim: Citizen, tc: TestClient
) -> None:
    c = container
    add_passkey(c, victim.account_id)
    csrf = csrf_of(tc.get("/account").text)
    clock.now = T0 + timedelta(minutes=1)
    assert tc.get("/account/totp").status_code == 200  # fresh: allowed
    clock.now = T0 + timedelta(minutes=6)
    step_up = "/account/step-up?"
    page = tc.get("/account/totp", follow_redirects=False)
    assert page.headers["location"].startswith(step_up)
    codes = tc.post("/account/recovery-codes", data={"csrf": csrf}, follow_redirects=False)
    assert codes.headers["location"].startswith(step_up)
    options = tc.post("/account/passkeys/options", headers={"X-CSRF-Token": csrf})
    assert options.status_code == 403
    assert options.json()["code"] == "step_up_required"
    revoke = tc.post("/account/passkeys/cred-1/revoke", data={"csrf": csrf}, follow_redirects=False)
    assert revoke.headers["location"].startswith(step_up)
    assert not _revoked(c)

    # Step-up with the current TOTP code (a later time step than the login's).
    assert tc.get("/account/step-up").status_code == 200
    wrong = tc.post("/account/step-up", data={"code": "000000", "csrf": csrf})
    assert wrong.status_code == 401
    ok = tc.post(
        "/account/step-up",
        data={"code": totp_now(clock), "csrf": csrf, "next": "/account/totp"},
        follow_redirects=False,
    )
    assert ok.headers["location"] == "/account/totp"
    assert tc.get("/account/totp").status_code == 200
    assert tc.post("/account/recovery-codes", data={"csrf": csrf}).status_code == 200
    assert tc.post("/account/passkeys/options", headers={"X-CSRF-Token": csrf}).status_code == 200
    tc.post("/account/passkeys/cred-1/revoke", data={"csrf": csrf})
    assert _revoked(c)
