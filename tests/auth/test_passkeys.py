"""Passkeys: the ceremonies' options, listing and revoking (the full ceremony with a real
authenticator is in tests/browser/test_login.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dinhdanh.auth.passkeys import PasskeyFailed
from dinhdanh.store import Base
from dinhdanh.wiring import Container
from tests.auth.factories import add_passkey
from tests.auth.softkey import SoftPasskey
from tests.oidc.conftest import Citizen, csrf_of, log_in

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_options_ask_for_a_discoverable_passkey_with_user_verification(
    container: Container, citizen: Citizen
) -> None:
    c = container
    with c.unit_of_work() as s:
        account = c.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        reg = c.auth.passkeys.begin_registration(s, account, "me", T0)
    login = c.auth.passkeys.begin_login(T0)
    assert reg.options["rp"]["id"] == c.auth.rp_id == "127.0.0.1"
    assert reg.options["authenticatorSelection"]["residentKey"] == "required"
    assert reg.options["authenticatorSelection"]["userVerification"] == "required"
    assert login.options["userVerification"] == "required"
    with c.unit_of_work() as s, pytest.raises(PasskeyFailed):
        c.auth.passkeys.finish_login(s, login.handle, {"id": "nope"}, T0)
    with c.unit_of_work() as s, pytest.raises(PasskeyFailed):  # expired
        c.auth.passkeys.finish_login(s, login.handle, {"id": "nope"}, T0 + timedelta(minutes=5))


def test_login_options_write_nothing(container: Container, app_client: TestClient) -> None:
    # Anyone may ask for login options, without an account: that must cost no row.
    def rows() -> int:
        with container.unit_of_work() as s:
            return sum(
                int(s.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            )

    csrf = csrf_of(app_client.get("/login").text)
    before = rows()
    handles = set()
    for _ in range(20):
        resp = app_client.post("/login/passkey/options", headers={"X-CSRF-Token": csrf})
        assert resp.status_code == 200
        handles.add(resp.json()["handle"])
    assert len(handles) == 20
    assert rows() == before


def test_a_passkey_answer_is_accepted_once(container: Container, citizen: Citizen) -> None:
    c = container
    key = SoftPasskey()
    key.register(c, citizen.account_id, T0)
    ceremony = c.auth.passkeys.begin_login(T0)
    answer = key.answer(ceremony.options, c.auth.passkeys.origin)
    with c.unit_of_work() as s:
        cred = c.auth.passkeys.finish_login(s, ceremony.handle, answer, T0)
        assert cred.account_id == citizen.account_id
    with c.unit_of_work() as s, pytest.raises(PasskeyFailed, match="already used"):
        c.auth.passkeys.finish_login(s, ceremony.handle, answer, T0)


def test_list_and_revoke_on_my_account(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    add_passkey(container, citizen.account_id, "cred-1")
    log_in(app_client, citizen)
    page = app_client.get("/account")
    assert "Laptop" in page.text
    csrf = csrf_of(page.text)
    assert app_client.post("/account/passkeys/cred-1/revoke", data={"csrf": "x"}).status_code == 400
    resp = app_client.post(
        "/account/passkeys/cred-1/revoke", data={"csrf": csrf}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert "Laptop" not in app_client.get("/account").text
    # JSON endpoints need the CSRF header and answer with problem details.
    resp = app_client.post("/account/passkeys/options")
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("application/problem+json")
    ok = app_client.post("/account/passkeys/options", headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200
    assert re.fullmatch(r"[A-Za-z0-9_-]+", ok.json()["handle"])
