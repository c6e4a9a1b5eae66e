"""Hardening finding 4: a file of junk rows costs neither memory nor a report in proportion to
its size; every rejected row still reaches the caller's sink (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from dinhdanh.identity.importer import import_citizens
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.batch import REJECTS_KEPT, Rejected
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD, write_csv

CTX = AccessContext("test", "registry_import", "rejects")
JUNK = 2 * REJECTS_KEPT + 500


def test_rejects_are_streamed_and_the_report_keeps_the_first(
    container: Container, tmp_path: Path
) -> None:
    # Junk first, then two good rows, then one key twice with different data at the end.
    conflict = [dict(GOOD[1]), dict(GOOD[1], full_name="Trần Thị Bính")]
    rows = [dict.fromkeys(GOOD[0], "") | {"id_number": "x"}] * JUNK + GOOD[:1] + conflict
    path = write_csv(tmp_path / "junk.csv", rows)
    seen: list[Rejected] = []
    c = container
    report = import_citizens(
        path,
        registry=c.registry,
        unit_of_work=c.unit_of_work,
        ctx=CTX,
        clock=c.clock,
        today=c.clock().date(),
        workers=1,
        chunk_size=700,
        on_reject=seen.append,
    )
    assert report.total_rows == JUNK + 3
    assert report.rejected_count == JUNK + 2 == len(seen)  # every one reached the sink
    assert report.as_dict()["rejected"] == JUNK + 2
    assert len(report.rejected) == REJECTS_KEPT  # memory: the first N only
    assert [r.line for r in report.rejected] == list(range(2, REJECTS_KEPT + 2))
    assert {r.reasons[0].code for r in seen[-2:]} == {"duplicate_conflict"}
    assert report.counts.created == 1  # the good row; neither copy of the conflict
