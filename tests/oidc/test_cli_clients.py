"""`dinhdanh clients add --json` prints an id and a secret that work at /token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build
from tests.cli.helpers import cli, cli_json


def test_clients_add_json_then_client_credentials(settings: Settings) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    out = cli_json(
        s,
        "clients",
        "add",
        "--name",
        "Zalo",
        "--redirect-uri",
        "https://zalo.example/cb",
        "--grant",
        "client_credentials",
        "--id-token-alg",
        "ML-DSA-65",
    )
    assert out["client_id"].startswith("c_")
    assert len(out["client_secret"]) >= 43
    assert out["id_token_signed_response_alg"] == "ML-DSA-65"
    bad = cli(s, "clients", "add", "--name", "X", "--redirect-uri", "ftp://x", check=False)
    assert bad.returncode == 1
    assert "redirect URI" in bad.stderr
    c = build(s)
    try:
        with TestClient(create_app(c), base_url="https://testserver") as tc:
            resp = tc.post(
                "/token",
                data={"grant_type": "client_credentials"},
                auth=(out["client_id"], out["client_secret"]),
            )
        assert resp.status_code == 200
    finally:
        c.close()
