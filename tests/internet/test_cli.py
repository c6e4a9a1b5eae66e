"""`dinhdanh registrars add | list` and `dinhdanh import organisations | domains | ipblocks |
asns`, run as the real command."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest

from dinhdanh.settings import Settings
from tests.cli.helpers import cli, cli_json
from tests.internet.factories import ORG2, asn, block, company, org, person, write


@pytest.fixture
def s(settings: Settings) -> Settings:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    plain = Settings(data_dir=settings.data_dir)
    cli(plain, "init")
    return plain


def test_registrars_add_and_list(s: Settings) -> None:
    out = cli_json(s, "registrars", "add", "pavn", "--name", "P.A Việt Nam", "--api-key")
    assert (out["code"], out["name"]) == ("PAVN", "P.A Việt Nam")
    assert out["api_key"].startswith("dd_")
    again = cli(s, "registrars", "add", "PAVN", "--name", "x", check=False)
    assert again.returncode == 1
    assert "exists" in again.stderr
    assert cli_json(s, "registrars", "list") == [{"code": "PAVN", "name": "P.A Việt Nam"}]
    keys = cli_json(s, "apikeys", "list")
    assert [(k["role"], k["scope"], k["owner"]) for k in keys["items"]] == [
        ("registrar", "PAVN", "PAVN")
    ]


def test_imports(s: Settings, tmp_path: Path) -> None:
    cli(s, "registrars", "add", "PAVN", "--name", "PA")
    orgs = write(tmp_path / "orgs.csv", [org(), org(ORG2), org("0100233480")])
    rejects = tmp_path / "rejects.csv"
    out = cli_json(s, "import", "organisations", str(orgs), "--rejects", str(rejects))
    assert (out["created"], out["rejected"]) == (2, 1)
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    with rejects.open(encoding="utf-8") as fh:
        assert list(csv.reader(fh))[1][:2] == ["4", "0100233480"]
    again = cli(s, "import", "organisations", str(orgs))
    assert "0 created, 0 updated, 2 unchanged, 1 rejected" in again.stdout

    domains = write(tmp_path / "d.jsonl", [person("phở-ngon.vn"), company("a.com.vn")])
    out = cli_json(s, "import", "domains", str(domains), "--registrar", "pavn")
    assert (out["created"], out["rejected"]) == (2, 0)
    unknown = cli(s, "import", "domains", str(domains), "--registrar", "NOPE", check=False)
    assert unknown.returncode == 1
    assert "no registrar NOPE" in unknown.stderr

    ips = write(tmp_path / "ips.csv", [block("10.0.0.0/8"), block("10.2.0.0/16", ORG2)])
    strict = cli(s, "import", "ipblocks", str(ips), "--strict", check=False)
    assert strict.returncode == 1
    assert "nothing was applied" in strict.stderr
    out = cli_json(s, "import", "ipblocks", str(ips))
    assert (out["created"], out["rejected"]) == (1, 1)
    out = cli_json(s, "import", "asns", str(write(tmp_path / "a.csv", [asn("AS131072")])))
    assert out["created"] == 1


def test_reconcile_internet(s: Settings, tmp_path: Path) -> None:
    cli(s, "registrars", "add", "PAVN", "--name", "PA")
    cli(s, "import", "organisations", str(write(tmp_path / "o.csv", [org()])))
    names = [company("a.com.vn"), company("b.vn", ORG2), company("c.vn", expires="2026-01-01")]
    cli(s, "import", "domains", str(write(tmp_path / "d.csv", names)), "--registrar", "PAVN")
    cli(s, "import", "ipblocks", str(write(tmp_path / "i.csv", [block("10.0.0.0/8", ORG2)])))
    out = tmp_path / "out"
    args = ("reconcile", "internet", "--as-of", "2026-06-01", "--out", str(out))
    result = cli_json(s, *args)
    assert result["domains"]["per_verdict"] == {"ok": 1, "flagged": 2}
    assert result["domains"]["per_reason"]["ORG_NOT_FOUND"] == 1
    assert result["domains"]["per_reason"]["EXPIRED_ACTIVE"] == 1
    assert result["ipblocks"]["per_reason"]["HOLDER_NOT_FOUND"] == 1
    assert result["flags_opened"] == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "PAVN.parquet").stat().st_mode) == 0o600
    plain = cli(s, *args)
    assert "3 domain names as of 2026-06-01: 1 ok, 2 flagged" in plain.stdout
    assert "0 newly flagged" in plain.stdout
