"""Information systems in bulk through store/batch.py, on every database: each refused row
reported with its line and reason (its own checks, and the register's: an unknown agency, a
domain or block not the agency's), the same file again changes nothing, a changed row
brings its system in line, --strict applies nothing; and the real command."""

from __future__ import annotations

import csv
from pathlib import Path

from dinhdanh.posture.importer import import_systems
from dinhdanh.settings import Settings
from dinhdanh.wiring import Container
from tests.cli.helpers import cli_json
from tests.internet.factories import codes, run_of, write
from tests.posture.factories import (
    AGENCY,
    AGENCY_BLOCK,
    AGENCY_DOMAIN,
    OPERATOR,
    OTHER,
    OTHER_BLOCK,
    agencies,
)
from tests.posture.test_cli import s  # noqa: F401  (fixture)

GOOD = [
    {"agency": AGENCY, "name": "Cổng thuế", "level": "4", "endpoints": "https://127.10.0.1",
     "domains": "", "blocks": AGENCY_BLOCK},
    {"agency": OTHER, "name": "Cổng bò", "level": "2",
     "endpoints": "https://127.20.0.1 tcp://127.20.0.1:22", "domains": "", "blocks": OTHER_BLOCK},
    {"agency": AGENCY, "name": "Thư điện tử", "level": "3",
     "endpoints": f"https://mail.{AGENCY_DOMAIN}", "domains": AGENCY_DOMAIN, "blocks": ""},
]  # fmt: skip
BAD = [
    GOOD[0] | {"name": "Cấp sáu", "level": "6"},  # line 5
    GOOD[0] | {"name": "Ra ngoài", "endpoints": "https://127.30.0.1"},  # line 6
    GOOD[0] | {"name": "Khối lạ", "blocks": OTHER_BLOCK, "endpoints": "https://127.20.0.7"},
    GOOD[0] | {"agency": "0312345678", "name": "Không có"},  # line 8: not an agency
]


def _systems(c: Container) -> dict[str, tuple[int, list[str]]]:
    with c.unit_of_work() as session:
        views = c.posture.register.systems(session)
    return {v.name: (v.level, [t.url for t in v.endpoints]) for v in views}


def test_import_reports_rejects_and_is_idempotent(container: Container, tmp_path: Path) -> None:
    c = container
    agencies(c, tmp_path)
    feed = write(tmp_path / "systems.csv", GOOD + BAD)
    report = import_systems(feed, register=c.posture.register, ctx=OPERATOR, run=run_of(c))
    assert (report.counts.created, report.rejected_count) == (3, 4)
    found = codes(report)
    assert found[5] == ["level_invalid"]
    assert found[6] == ["endpoint_outside"]
    assert found[7] == ["system_invalid"]  # the block is another agency's
    assert found[8][0] in {"agency_invalid", "agency_not_found"}
    stored = _systems(c)
    assert stored["Cổng bò"] == (2, ["https://127.20.0.1:443", "tcp://127.20.0.1:22"])
    assert set(stored) == {"Cổng thuế", "Cổng bò", "Thư điện tử"}

    again = import_systems(feed, register=c.posture.register, ctx=OPERATOR, run=run_of(c))
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 3)

    changed = [GOOD[0] | {"level": "5", "endpoints": "https://127.10.0.2 http://127.10.0.2"}]
    report = import_systems(
        write(tmp_path / "changed.csv", changed), register=c.posture.register, ctx=OPERATOR,
        run=run_of(c),
    )  # fmt: skip
    assert report.counts.updated == 1
    assert _systems(c)["Cổng thuế"] == (5, ["http://127.10.0.2:80", "https://127.10.0.2:443"])


def test_strict_applies_nothing(container: Container, tmp_path: Path) -> None:
    c = container
    agencies(c, tmp_path)
    feed = write(tmp_path / "systems.csv", [*GOOD, BAD[2]])
    report = import_systems(
        feed, register=c.posture.register, ctx=OPERATOR, run=run_of(c, strict=True)
    )
    assert report.aborted
    assert report.rejected_count == 1
    assert _systems(c) == {}


def test_the_command(s: Settings, tmp_path: Path) -> None:  # noqa: F811
    cli_json(s, "posture", "agencies", "add", AGENCY)
    rows = [GOOD[0], GOOD[2], GOOD[0] | {"name": "Ra ngoài", "endpoints": "https://127.30.0.1"}]
    feed = write(tmp_path / "systems.csv", rows)
    rejects = tmp_path / "rejects.csv"
    result = cli_json(s, "posture", "systems", "import", str(feed), "--rejects", str(rejects))
    assert (result["created"], result["rejected"]) == (2, 1)
    (refused,) = list(csv.DictReader(rejects.read_text("utf-8").splitlines()))
    assert (refused["line"], refused["name"]) == ("4", "Ra ngoài")
    assert refused["reason"].startswith("endpoint_outside")
    again = cli_json(s, "posture", "systems", "import", str(feed))
    assert (again["created"], again["unchanged"]) == (0, 2)
    listed = cli_json(s, "posture", "systems", "list")
    assert sorted(x["name"] for x in listed) == ["Cổng thuế", "Thư điện tử"]
