"""Disabling a client (issue 8, finding 11): no authorization, no token, its refresh and
access tokens dead for good; the lookup cache of another process does not keep it usable on
the paths that read the database. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from dinhdanh.auth.clients import ClientInfo, Clients
from dinhdanh.auth.models import Client
from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.settings import Settings
from dinhdanh.wiring import Container
from tests.cli.helpers import cli, cli_json
from tests.oidc.conftest import Citizen, log_in
from tests.oidc.test_flow import BASE, _code, _token, code_flow, register, rp

GRANTS = ("authorization_code", "refresh_token", "client_credentials")


def _live(tc: TestClient, info: ClientInfo, secret: str, token: dict[str, Any]) -> list[bool]:
    auth = (info.client_id, secret)
    access = tc.post("/introspect", data={"token": token["access_token"]}, auth=auth)
    refresh = tc.post("/introspect", data={"token": token["refresh_token"]}, auth=auth)
    userinfo = tc.get("/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    return [
        access.status_code == 200 and access.json()["active"],
        refresh.status_code == 200 and refresh.json()["active"],
        userinfo.status_code == 200,
    ]


def _authorize_status(tc: TestClient, info: ClientInfo, secret: str) -> int:
    url, _ = rp(tc, info, secret).create_authorization_url(
        BASE + "/authorize", code_verifier="v" * 43, nonce="n"
    )
    return tc.get(url, follow_redirects=False).status_code


def _granted(
    c: Container, tc: TestClient, citizen: Citizen
) -> tuple[ClientInfo, str, dict[str, Any], str, str]:
    """A client with tokens from one code, and a second code not yet exchanged."""
    info, secret = register(c, grant_types=GRANTS)
    log_in(tc, citizen)
    token, _ = code_flow(tc, rp(tc, info, secret))
    code, verifier, _ = _code(tc, info, secret)
    return info, secret, token, code, verifier


def test_disable_then_enable(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    info, secret, token, code, verifier = _granted(container, tc, citizen)
    assert _live(tc, info, secret, token) == [True, True, True]
    with container.unit_of_work() as s:
        disabled = container.auth.clients.set_disabled(s, info.client_id, True, container.clock())
    assert disabled is not None
    assert disabled.disabled
    assert _authorize_status(tc, info, secret) == 400  # the error page: unknown client
    for form in (
        {"grant_type": "client_credentials"},
        {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
    ):
        resp = _token(tc, info, secret, **form)
        assert resp.status_code == 401, form
        assert resp.json()["error"] == "invalid_client"
    assert tc.post("/introspect", data={"token": token["access_token"]},
                   auth=(info.client_id, secret)).status_code == 401  # fmt: skip
    with container.unit_of_work() as s:
        assert container.auth.clients.set_disabled(s, info.client_id, False, container.clock())
    # Enabled again: new grants work, the old tokens stay dead.
    assert _live(tc, info, secret, token) == [False, False, False]
    again = _token(
        tc, info, secret, grant_type="refresh_token", refresh_token=token["refresh_token"]
    )
    assert again.json()["error"] == "invalid_grant"
    fresh, _ = code_flow(tc, rp(tc, info, secret))
    assert _live(tc, info, secret, fresh) == [True, True, True]
    with container.unit_of_work() as s:
        assert container.auth.clients.set_disabled(s, "c_nobody", True, container.clock()) is None


def test_a_cached_client_disabled_elsewhere_is_refused_where_the_database_is_read(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    """Another process (the CLI) disabled the client; this one still has it in its cache."""
    tc = app_client
    info, secret, token, code, verifier = _granted(container, tc, citizen)
    with container.unit_of_work() as s:
        s.execute(
            update(Client)
            .where(Client.client_id == info.client_id)
            .values(revoked_at=datetime.now(UTC))
        )
    assert _authorize_status(tc, info, secret) == 400
    refreshed = _token(tc, info, secret, grant_type="refresh_token",
                       refresh_token=token["refresh_token"])  # fmt: skip
    assert refreshed.status_code == 401
    exchanged = _token(tc, info, secret, grant_type="authorization_code", code=code,
                       code_verifier=verifier)  # fmt: skip
    assert exchanged.status_code == 401
    assert _live(tc, info, secret, token)[:2] == [False, False]


def test_the_disabling_process_forgets_the_client_at_once(container: Container) -> None:
    clients = Clients(cache_seconds=3600, monotonic=lambda: 0.0)
    with container.unit_of_work() as s:
        info, _ = clients.create(s, name="M", redirect_uris=[], grant_types=("client_credentials",),
                                 now=container.clock())  # fmt: skip
        assert clients.get(s, info.client_id) == info
        clients.set_disabled(s, info.client_id, True, container.clock())
        assert clients.get(s, info.client_id) is None
        assert [c.disabled for c in clients.list(s)] == [True]


def test_admin_api_disables_and_enables(container: Container, app_client: TestClient) -> None:
    info, _ = register(container)
    with container.unit_of_work() as s:
        _, key = create_api_key(s, "ops", Role.ADMIN, datetime.now(UTC), owner="test org")
    admin = {"Authorization": f"Bearer {key}"}
    url = f"/api/v1/clients/{info.client_id}"
    resp = app_client.post(url + "/disable", headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["disabled"] is True
    assert app_client.post(url + "/enable", headers=admin).json()["disabled"] is False
    missing = app_client.post("/api/v1/clients/c_nobody/disable", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["code"] == "client_not_found"
    with container.unit_of_work() as s:
        _, officer = create_api_key(s, "o", Role.OFFICER, datetime.now(UTC), owner="test org")
    denied = app_client.post(url + "/disable", headers={"Authorization": f"Bearer {officer}"})
    assert denied.status_code == 403


def test_cli_disable_and_enable(settings: Settings) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    added = cli_json(s, "clients", "add", "--name", "Zalo", "--grant", "client_credentials")
    out = cli_json(s, "clients", "disable", added["client_id"])
    assert out["disabled"] is True
    listed = cli_json(s, "clients", "list")
    assert [(x["client_id"], x["disabled"]) for x in listed] == [(added["client_id"], True)]
    assert cli_json(s, "clients", "enable", added["client_id"])["disabled"] is False
    missing = cli(s, "clients", "disable", "c_nobody", check=False)
    assert missing.returncode == 1
    assert "no client" in missing.stderr
