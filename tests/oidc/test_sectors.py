"""A sector of pairwise subjects belongs to its first client: another client gets its
subjects only with an administrator's explicit --sector-identifier and --join-sector (issue 8,
finding 11). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dinhdanh.auth.clients import ClientConfigError
from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.settings import Settings
from dinhdanh.wiring import Container
from tests.cli.helpers import cli, cli_json
from tests.oidc.test_flow import register

EVIL = "https://evil.example/cb"


def test_a_sector_is_owned_by_its_first_client(container: Container) -> None:
    owner, _ = register(container)  # sector rp.example, from its redirect URI
    clients = container.auth.clients
    for kw in (
        {"redirect_uris": ["https://rp.example/other"]},  # same host, sector implied
        {"redirect_uris": [EVIL], "sector_identifier": "rp.example"},
        {"redirect_uris": [EVIL], "sector_identifier": "RP.example "},
        {"redirect_uris": ["https://rp.example/other"], "join_sector": True},  # not named
    ):
        with container.unit_of_work() as s, pytest.raises(ClientConfigError, match="sector"):
            clients.create(s, name="Evil", now=container.clock(), **kw)  # type: ignore[arg-type]
    with container.unit_of_work() as s:
        joined, _ = clients.create(
            s, name="Sister site", redirect_uris=[EVIL], sector_identifier="rp.example",
            join_sector=True, now=container.clock(),
        )  # fmt: skip
        other, _ = clients.create(s, name="Own", redirect_uris=[EVIL], now=container.clock())
    provider = container.auth.provider
    assert provider.subject(joined, "subject-1") == provider.subject(owner, "subject-1")
    assert provider.subject(other, "subject-1") != provider.subject(owner, "subject-1")


def test_admin_api_needs_join_sector(container: Container, app_client: TestClient) -> None:
    register(container)
    with container.unit_of_work() as s:
        _, key = create_api_key(s, "ops", Role.ADMIN, datetime.now(UTC), owner="test org")
    admin = {"Authorization": f"Bearer {key}"}
    body = {"name": "Evil", "redirect_uris": [EVIL], "sector_identifier": "rp.example"}
    taken = app_client.post("/api/v1/clients", json=body, headers=admin)
    assert taken.status_code == 409, taken.text
    assert taken.json()["code"] == "sector_owned"
    joined = app_client.post("/api/v1/clients", json=body | {"join_sector": True}, headers=admin)
    assert joined.status_code == 201, joined.text
    assert joined.json()["sector_identifier"] == "rp.example"


def test_cli_needs_join_sector(settings: Settings) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    cli_json(s, "clients", "add", "--name", "Owner", "--redirect-uri", "https://rp.example/cb")
    args = ["clients", "add", "--name", "Evil", "--redirect-uri", EVIL]
    taken = cli(s, *args, "--sector-identifier", "rp.example", check=False)
    assert taken.returncode == 1
    assert "--join-sector" in taken.stderr
    joined = cli_json(s, *args, "--sector-identifier", "rp.example", "--join-sector")
    assert joined["sector_identifier"] == "rp.example"
