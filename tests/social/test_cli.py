"""`dinhdanh platforms add | list` and the demo platform: keys that work at once, scoped."""

from __future__ import annotations

import stat

import pytest
from fastapi.testclient import TestClient

from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build
from tests.cli.helpers import cli, cli_json


def test_platforms_add_then_list_and_the_key_works(settings: Settings) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    out = cli_json(
        s, "platforms", "add", "zalo", "--name", "Zalo", "--redirect-uri", "https://zalo.example/cb"
    )
    assert out["sector_identifier"] == "platform.zalo"
    assert out["api_key"].startswith("dd_")
    assert len(out["client_secret"]) >= 43
    again = cli(s, "platforms", "add", "zalo", "--name", "Zalo 2", check=False)
    assert again.returncode == 1
    assert "already registered" in again.stderr
    listed = cli_json(s, "platforms", "list")
    assert listed == [{"code": "zalo", "name": "Zalo", "client_id": out["client_id"]}]
    keys = cli_json(s, "apikeys", "list")
    assert [(k["role"], k["scope"]) for k in keys["items"]] == [("platform", "zalo")]
    c = build(s)
    try:
        with TestClient(create_app(c), base_url="https://testserver") as tc:
            auth = {"Authorization": f"Bearer {out['api_key']}"}
            ok = tc.get("/api/v1/platforms/zalo/accounts/x/status", headers=auth)
            assert ok.status_code == 200
            assert ok.json()["verified"] is False
            assert tc.get("/api/v1/platforms/other/events", headers=auth).status_code == 403
    finally:
        c.close()


def test_the_demo_registers_one_platform_once(settings: Settings) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    first = cli_json(s, "demo", "--count", "50")
    second = cli_json(s, "demo", "--count", "50")
    assert first["social_platform"] == second["social_platform"]
    assert first["social_platform"]["code"] == "demo-social"
    assert stat.S_IMODE((s.data_dir / "demo-social.json").stat().st_mode) == 0o600
    assert [p["code"] for p in cli_json(s, "platforms", "list")] == ["demo-social"]
