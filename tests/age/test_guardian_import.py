"""`dinhdanh import guardians`: rejects with line and reason, idempotent, strict applies
nothing, resumable; rows needing the registry are refused in pass 1."""

from __future__ import annotations

import csv
import json
from contextlib import closing, suppress
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dinhdanh.age.guardian_import import COLUMNS, import_guardians
from dinhdanh.age.models import GuardianLink
from dinhdanh.settings import Settings
from dinhdanh.store.batch import BatchReport
from dinhdanh.wiring import Container, build
from tests.age.family import NOW, OFFICER, TODAY, Family, link, make_family
from tests.cli.helpers import cli, cli_json


def rows(f: Family) -> list[dict[str, str]]:
    def r(
        child: str, guardian: str, relation: str = "mother", start: str = "2020-01-01"
    ) -> dict[str, str]:
        return {
            "child_id_number": child,
            "guardian_id_number": guardian,
            "relation": relation,
            "valid_from": start,
            "valid_to": "",
        }

    return [
        r(f.child.id_number, f.mother.id_number),  # 2
        r(f.child.id_number, f.father.id_number, "father"),  # 3
        r(f.child.id_number, f.aunt.id_number, "guardian"),  # 4: a third guardian
        r(f.teen.id_number, f.child.id_number, "guardian"),  # 5: a minor guardian
        r("001214999999", f.mother.id_number),  # 6: nobody has that number
        r(f.teen.id_number, f.mother.id_number, "aunt"),  # 7: no such relation
        r(f.teen.id_number, f.father.id_number, "father"),  # 8
    ]


def write(path: Path, data: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w.writeheader()
        w.writerows(data)
    return path


def run(c: Container, path: Path, **kw: object) -> BatchReport:
    return import_guardians(
        path,
        guardians=c.guardians,
        unit_of_work=c.unit_of_work,
        ctx=OFFICER,
        clock=lambda: NOW,
        today=TODAY,
        **kw,  # type: ignore[arg-type]
    )


def count(c: Container) -> int:
    with c.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(GuardianLink)) or 0)


def test_rejects_with_line_and_reason_then_idempotent(container: Container, tmp_path: Path) -> None:
    f = make_family(container)
    path = write(tmp_path / "links.csv", rows(f))
    report = run(container, path)
    reasons = {r.line: {x.code for x in r.reasons} for r in report.rejected}
    assert reasons == {
        4: {"too_many_guardians"},
        5: {"guardian_not_adult"},
        6: {"child_unknown"},
        7: {"invalid_relation"},
    }
    assert (report.counts.created, report.counts.updated) == (3, 0)
    with container.unit_of_work() as s:
        kids = container.guardians.children_of(s, f.father.subject_id, OFFICER, NOW)
    assert {k.child for k in kids} == {f.child.subject_id, f.teen.subject_id}
    again = run(container, path)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 3)
    assert count(container) == 3


def test_a_stored_link_counts_towards_two(container: Container, tmp_path: Path) -> None:
    f = make_family(container)
    link(container, f.child, f.aunt, relation="guardian")
    link(container, f.child, f.other_parent, relation="guardian")
    report = run(container, write(tmp_path / "l.csv", rows(f)[:1]))
    assert [(r.line, r.reasons[0].code) for r in report.rejected] == [(2, "too_many_guardians")]


def test_strict_applies_nothing(container: Container, tmp_path: Path) -> None:
    f = make_family(container)
    report = run(container, write(tmp_path / "l.csv", rows(f)), strict=True)
    assert report.aborted
    assert count(container) == 0


def test_a_killed_import_resumes(container: Container, tmp_path: Path) -> None:
    f = make_family(container)
    good = [r for i, r in enumerate(rows(f)) if i in (0, 1, 6)]
    path = write(tmp_path / "l.csv", good)
    calls = {"n": 0}
    real = container.guardians.apply_feed

    def dying(*a: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)  # type: ignore[arg-type]

    container.guardians.apply_feed = dying  # type: ignore[method-assign]
    with suppress(KeyboardInterrupt):
        run(container, path, chunk_size=1)
    container.guardians.apply_feed = real  # type: ignore[method-assign]
    assert count(container) == 1
    report = run(container, path, chunk_size=1)
    assert report.resumed_from_line == 3
    assert report.counts.created == 3
    assert count(container) == 3


def test_cli_jsonl(settings: Settings, tmp_path: Path) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    with closing(build(s)) as c:
        f = make_family(c)
    path = tmp_path / "l.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows(f)[:2]) + "\n{bad\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    out = cli_json(s, "import", "guardians", str(path), "--rejects", str(rejects))
    assert (out["created"], out["rejected"]) == (2, 1)
    assert "malformed_row" in rejects.read_text(encoding="utf-8")


def test_the_citizen_import_derives_registry_links(settings: Settings, tmp_path: Path) -> None:
    if settings.database_url:
        pytest.skip("one CLI run is enough; storage is covered on both databases")
    from tests.identity.factories import GOOD
    from tests.identity.factories import write_csv as write_citizens

    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    path = write_citizens(tmp_path / "citizens.csv", GOOD)
    first = cli_json(s, "import", "citizens", str(path))
    assert first["guardian_links"] == {"added": 1, "ended": 0, "refused": 0}
    assert "guardian_links" not in cli_json(s, "import", "citizens", str(path))  # unchanged
    with closing(build(s)) as c, c.unit_of_work() as session:
        guardian = c.registry.subject(session, GOOD[0]["id_number"])
        assert guardian is not None
        kids = c.guardians.children_of(session, guardian.subject_id, OFFICER, c.clock())
    assert len(kids) == 1
