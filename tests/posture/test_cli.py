"""`dinhdanh posture agencies | systems`, run as the real command."""

from __future__ import annotations

from pathlib import Path

import pytest

from dinhdanh.settings import Settings
from tests.cli.helpers import cli, cli_json
from tests.internet.factories import block, company, org, write
from tests.posture.factories import AGENCY, AGENCY_BLOCK, AGENCY_DOMAIN, OTHER


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
