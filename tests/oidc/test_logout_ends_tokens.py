"""Ending a browser session ends the platform tokens issued from it: RP-initiated logout (with
and without id_token_hint), revoking one session on /account, "log out everywhere", and a
code issued before the logout. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dinhdanh.auth.clients import ClientInfo
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.oidc.conftest import REDIRECT, Citizen, csrf_of, log_in
from tests.oidc.test_flow import _code, _token, code_flow, register, rp

LOGOUT_TO = "https://rp.example/bye"
REVOKE_FORM = re.compile(r'action="/account/sessions/([^"]+)/revoke"')


def _status(tc: TestClient, info: ClientInfo, secret: str, token: dict[str, Any]) -> list[bool]:
    """Are the access token and the refresh token live: introspection of each, and userinfo."""
    auth = (info.client_id, secret)
    access = tc.post("/introspect", data={"token": token["access_token"]}, auth=auth).json()
    refresh = tc.post("/introspect", data={"token": token["refresh_token"]}, auth=auth).json()
    info_resp = tc.get("/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info_resp.status_code in (200, 401)
    return [access["active"], refresh["active"], info_resp.status_code == 200]


def _assert_ended(tc: TestClient, info: ClientInfo, secret: str, token: dict[str, Any]) -> None:
    assert _status(tc, info, secret, token) == [False, False, False]
    userinfo = tc.get("/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert userinfo.json()["error"] == "invalid_token"
    refreshed = _token(
        tc, info, secret, grant_type="refresh_token", refresh_token=token["refresh_token"]
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def _logged_in(tc: TestClient) -> bool:
    return tc.get("/account", follow_redirects=False).status_code == 200


@pytest.fixture
def second_code(container: Container, citizen: Citizen) -> str:
    """A recovery code: a second browser can't log in with the TOTP code the first just used."""
    with container.unit_of_work() as s:
        account = container.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        codes = container.auth.accounts.new_recovery_codes(s, account)
    return codes[0]


def test_rp_initiated_logout_with_hint_ends_the_sessions_tokens(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    info, secret = register(container, post_logout_redirect_uris=[LOGOUT_TO])
    log_in(tc, citizen)
    token, _ = code_flow(tc, rp(tc, info, secret))
    assert _status(tc, info, secret, token) == [True, True, True]
    resp = tc.get(
        "/logout",
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": LOGOUT_TO},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert not _logged_in(tc)
    _assert_ended(tc, info, secret, token)


def test_confirmed_logout_without_hint_ends_the_sessions_tokens(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    info, secret = register(container)
    log_in(tc, citizen)
    token, _ = code_flow(tc, rp(tc, info, secret))
    page = tc.get("/logout")
    assert _status(tc, info, secret, token) == [True, True, True]  # a GET ends nothing
    assert tc.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 200
    _assert_ended(tc, info, secret, token)


def test_revoking_a_session_ends_its_tokens_only(
    container: Container, app_client: TestClient, citizen: Citizen, second_code: str
) -> None:
    info, secret = register(container)
    here = app_client
    log_in(here, citizen)
    mine, _ = code_flow(here, rp(here, info, secret))
    with TestClient(create_app(container), base_url="https://testserver") as there:
        log_in(there, citizen, second_code)
        theirs, _ = code_flow(there, rp(there, info, secret))
        page = here.get("/account")
        forms = REVOKE_FORM.findall(page.text)
        assert len(forms) == 1  # the other session; the current one has no revoke button
        resp = here.post(
            f"/account/sessions/{forms[0]}/revoke",
            data={"csrf": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert resp.status_code == 303
        assert not _logged_in(there)
    assert _logged_in(here)
    _assert_ended(here, info, secret, theirs)
    assert _status(here, info, secret, mine) == [True, True, True]
    refreshed = _token(
        here, info, secret, grant_type="refresh_token", refresh_token=mine["refresh_token"]
    )
    assert refreshed.status_code == 200, refreshed.text


def test_log_out_everywhere_ends_every_sessions_tokens(
    container: Container, app_client: TestClient, citizen: Citizen, second_code: str
) -> None:
    info, secret = register(container)
    other_info, other_secret = register(container, sector_identifier="other.example")
    here = app_client
    log_in(here, citizen)
    mine, _ = code_flow(here, rp(here, info, secret))
    with TestClient(create_app(container), base_url="https://testserver") as there:
        log_in(there, citizen, second_code)
        theirs, _ = code_flow(there, rp(there, other_info, other_secret))
        page = here.get("/account")
        resp = here.post(
            "/account/logout-everywhere", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert resp.status_code == 303
        assert not _logged_in(there)
    assert not _logged_in(here)
    _assert_ended(here, info, secret, mine)
    _assert_ended(here, other_info, other_secret, theirs)


def test_a_code_issued_before_logout_is_refused_after_it(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    info, secret = register(container)
    log_in(tc, citizen)
    code, verifier, _ = _code(tc, info, secret)
    page = tc.get("/logout")
    assert tc.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 200
    resp = _token(
        tc,
        info,
        secret,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"


def test_confirmed_logout_without_hint_redirects_to_a_registered_uri(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    info, _ = register(container, post_logout_redirect_uris=[LOGOUT_TO])
    log_in(tc, citizen)
    params = {"client_id": info.client_id, "post_logout_redirect_uri": LOGOUT_TO, "state": "s7"}
    page = tc.get("/logout", params=params)
    assert page.status_code == 200
    assert _logged_in(tc)
    done = tc.post("/logout", data=params | {"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == LOGOUT_TO + "?state=s7"
    assert not _logged_in(tc)
