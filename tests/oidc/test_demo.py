"""`dinhdanh demo`: the demo platform client and demo citizens, idempotent, usable at once."""

from __future__ import annotations

import stat

import pytest
from fastapi.testclient import TestClient

from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build
from tests.cli.helpers import cli_json
from tests.oidc.conftest import demo_totp, log_in_with


def test_demo_creates_client_and_citizens_idempotently(settings: Settings) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    first = cli_json(s, "demo", "--count", "200")
    second = cli_json(s, "demo", "--count", "200")
    assert second["created"] == 0
    assert second["unchanged"] == 200
    for key in ("officer_api_key", "client"):
        assert first[key] == second[key]
    strip = [{k: v for k, v in p.items() if k != "totp_code"} for p in first["citizens"]]
    assert strip == [{k: v for k, v in p.items() if k != "totp_code"} for p in second["citizens"]]
    assert first["client"]["client_id"] == "demo-platform"
    assert first["client"]["redirect_uri"] == "http://127.0.0.1:8080/callback"
    assert len(first["citizens"]) == 3
    for name in ("demo-client.json", "demo-citizens.json", "demo-officer.key"):
        assert stat.S_IMODE((s.data_dir / name).stat().st_mode) == 0o600

    c = build(Settings(data_dir=s.data_dir, issuer="https://testserver"))
    try:
        with TestClient(create_app(c), base_url="https://testserver") as tc:
            client = first["client"]
            # The demo platform can get a machine token at once.
            resp = tc.post(
                "/token",
                data={"grant_type": "client_credentials"},
                auth=(client["client_id"], client["client_secret"]),
            )
            assert resp.status_code == 200, resp.text
            # A demo citizen logs in with the printed password and TOTP secret.
            person = first["citizens"][0]
            log_in_with(tc, person["id_number"], person["password"], demo_totp(person))
            assert tc.get("/account").status_code == 200
    finally:
        c.close()
