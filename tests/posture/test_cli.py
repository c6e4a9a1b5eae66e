"""`dinhdanh posture agencies | systems`, run as the real command."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dinhdanh.settings import Settings
from tests.cli.helpers import cli, cli_json, env_of
from tests.internet.factories import block, company, org, write
from tests.posture.factories import AGENCY, AGENCY_BLOCK, AGENCY_DOMAIN, OTHER
from tests.posture.servers import Zone, dns_server, http_server, make_ca


@pytest.fixture
def s(settings: Settings, tmp_path: Path) -> Settings:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    plain = Settings(data_dir=settings.data_dir)
    cli(plain, "init")
    cli(plain, "import", "organisations", str(write(tmp_path / "o.csv", [org(AGENCY), org(OTHER)])))
    cli(plain, "registrars", "add", "PAVN", "--name", "P.A")
    domains = write(tmp_path / "d.csv", [company(AGENCY_DOMAIN, AGENCY)])
    cli(plain, "import", "domains", str(domains), "--registrar", "PAVN")
    cli(plain, "import", "ipblocks", str(write(tmp_path / "b.csv", [block(AGENCY_BLOCK, AGENCY)])))
    return plain


def test_systems_add_and_list(s: Settings) -> None:
    assert cli_json(s, "posture", "agencies", "add", AGENCY)["tax_code"] == AGENCY
    add = (
        "posture", "systems", "add", "--agency", AGENCY, "--name", "Cổng thuế", "--level", "4",
        "--domain", AGENCY_DOMAIN, "--block", AGENCY_BLOCK,
        "--endpoint", "https://thue.cucthue.gov.vn", "--endpoint", "tcp://127.10.0.9:23",
    )  # fmt: skip
    made = cli_json(s, *add)
    assert made["endpoints"] == ["https://thue.cucthue.gov.vn:443", "tcp://127.10.0.9:23"]
    listed = cli_json(s, "posture", "systems", "list")
    assert [(x["name"], x["level"], x["endpoints"]) for x in listed] == [
        ("Cổng thuế", 4, made["endpoints"])
    ]
    # Not registered: the other agency, a host outside the system's resources.
    other = [("Khác" if a == "Cổng thuế" else a) for a in add[:-4]]
    refused = cli(s, *other, "--endpoint", "https://8.8.8.8", check=False)
    assert refused.returncode == 1
    assert "neither under" in refused.stderr
    unknown = cli(s, "posture", "systems", "add", "--agency", OTHER, "--name", "Sở", "--level",
                  "2", "--endpoint", "https://127.20.0.1", check=False)  # fmt: skip
    assert unknown.returncode == 1
    assert "not registered" in unknown.stderr


def test_scan_and_findings(s: Settings, tmp_path: Path) -> None:
    cli(s, "posture", "agencies", "add", AGENCY)
    ca = make_ca()
    (tmp_path / "roots.pem").write_bytes(ca.pem())
    with (
        http_server("127.10.5.1") as port,
        dns_server({AGENCY_DOMAIN: Zone(spf="v=spf1 -all", dmarc="v=DMARC1; p=reject")}) as dns,
    ):
        env = env_of(s) | {
            "DINHDANH_POSTURE_TRUST_STORE": str(tmp_path / "roots.pem"),
            "DINHDANH_POSTURE_RESOLVER": dns,
            "DINHDANH_POSTURE_RISKY_PORTS": "[]",
        }
        cli(s, "posture", "systems", "add", "--agency", AGENCY, "--name", "Cổng", "--level",
            "1", "--domain", AGENCY_DOMAIN, "--block", AGENCY_BLOCK, "--endpoint",
            f"http://127.10.5.1:{port}", env=env)  # fmt: skip
        report = json.loads(cli(s, "posture", "scan", "--json", env=env).stdout)
        assert (report["items"], report["done"], report["failed"]) == (2, 2, 0)
        refused = cli(s, "posture", "scan", "--agency", OTHER, env=env, check=False)
    assert refused.returncode == 1
    assert "not registered" in refused.stderr
    rows = cli_json(s, "posture", "findings")
    assert [(r["system"], r["endpoint"], r["code"], r["severity"]) for r in rows] == [
        ("Cổng", f"http://127.10.5.1:{port}", "HTTP_NO_HTTPS_REDIRECT", "high"),
        ("Cổng", f"dns:{AGENCY_DOMAIN}", "DNSSEC_MISSING", "low"),
    ]
    high = rows[0]
    assert set(high) >= {"system", "endpoint", "code", "severity", "opened", "deadline"}
    opened, deadline = (datetime.fromisoformat(high[k]) for k in ("opened", "deadline"))
    assert deadline - opened == timedelta(days=15)
    cli(s, "posture", "ack", high["id"])
    accepted = cli(
        s, "posture", "accept", rows[1]["id"], "--until", "30d", "--reason", "zone moves"
    )
    assert "accepted until" in accepted.stdout
    states = {r["code"]: r["state"] for r in cli_json(s, "posture", "findings")}
    assert states == {"HTTP_NO_HTTPS_REDIRECT": "acknowledged", "DNSSEC_MISSING": "accepted"}
    again = cli(s, "posture", "ack", high["id"], check=False)
    assert again.returncode == 1
    day = opened.date().isoformat()
    index = cli_json(s, "posture", "index", "--as-of", day, "--out", str(tmp_path / "ix"))
    # One live finding (the acknowledged high one; the accepted one does not count), level 1:
    # 100 x 10 / (10 + 5) on the day it opened.
    assert index["agencies"] == {AGENCY: pytest.approx(66.667, abs=0.01)}
    assert (tmp_path / "ix" / "report.html").exists()


def test_kev_import(s: Settings, tmp_path: Path) -> None:
    out = cli_json(s, "posture", "kev", "import", "tests/vectors/kev_sample.json")
    assert out == {"created": 3, "updated": 0}
    assert cli_json(s, "posture", "kev", "import", "tests/vectors/kev_sample.json") == {
        "created": 0, "updated": 0,
    }  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text('{"entries": []}')
    failed = cli(s, "posture", "kev", "import", str(bad), check=False)
    assert failed.returncode == 1
    assert "vulnerabilities" in failed.stderr


def test_systems_level(s: Settings) -> None:
    cli(s, "posture", "agencies", "add", AGENCY)
    add = ("posture", "systems", "add", "--agency", AGENCY, "--name", "Cổng thuế", "--level",
           "2", "--block", AGENCY_BLOCK, "--endpoint", "https://127.10.0.9")  # fmt: skip
    made = cli_json(s, *add)
    changed = cli_json(s, "posture", "systems", "level", made["id"], "4")
    assert (changed["level"], changed["deadlines_changed"]) == (4, 0)
    by_name = cli_json(s, "posture", "systems", "level", "Cổng thuế", "1")
    assert by_name["level"] == 1
    refused = cli(s, "posture", "systems", "level", made["id"], "9", check=False)
    assert refused.returncode == 1
    assert "1 to 5" in refused.stderr
    missing = cli(s, "posture", "systems", "level", "nope", "3", check=False)
    assert missing.returncode == 1
