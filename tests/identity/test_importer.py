"""The citizen import: rejects with reasons, idempotent, atomic under --strict, resumable."""

from __future__ import annotations

import csv
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.orm import Session

from dinhdanh.identity.importer import import_citizens, write_rejects
from dinhdanh.identity.models import Citizen
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.store import batch
from dinhdanh.store.feeds import FeedError
from dinhdanh.store.models import ImportRun
from dinhdanh.wiring import Container, init_data_dir
from tests.identity.factories import GOOD, row, write_csv, write_jsonl

TODAY = date(2026, 6, 1)
CTX = AccessContext("test:importer", "registry_import", "population registry import")
READER = AccessContext("test:officer", "officer", "verifying the import")
TODAY_AT = datetime(2026, 6, 1, 9, tzinfo=UTC)


def run(c: Container, path: Path, **kw: object) -> object:
    return import_citizens(
        path,
        registry=c.registry,
        unit_of_work=kw.pop("unit_of_work", c.unit_of_work),  # type: ignore[arg-type]
        ctx=CTX,
        clock=lambda: datetime(2026, 6, 1, 9, tzinfo=UTC),
        today=TODAY,
        **kw,  # type: ignore[arg-type]
    )


def snapshot(c: Container) -> list[tuple[object, ...]]:
    with c.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Citizen.__table__).order_by(Citizen.id))]


SECONDARY = {"ix_citizens_name_dob", "ix_citizens_guardian", "ix_citizens_phone"}


def index_names(c: Container | Connection) -> set[str]:
    if isinstance(c, Connection):
        return {str(ix["name"]) for ix in inspect(c).get_indexes("citizens")}
    with c.engine.connect() as conn:
        return index_names(conn)


def count(c: Container, model: type) -> int:
    with c.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("writer", [write_csv, write_jsonl])
def test_import_then_read_back(container: Container, tmp_path: Path, writer: object) -> None:
    ext = ".csv" if writer is write_csv else ".jsonl"
    path = writer(tmp_path / f"feed{ext}", GOOD)  # type: ignore[operator]
    report = run(container, path)
    assert report.counts.created == len(GOOD)  # type: ignore[attr-defined]
    assert report.rejected == []  # type: ignore[attr-defined]
    with container.unit_of_work() as s:
        child = container.registry.get_by_id_number(s, "001212000777", READER, container.clock())
        assert child is not None
        assert child.record.full_name == "Phạm Gia Huy"
        assert child.record.guardian_id_number == "001090012345"
        elder = container.registry.get_by_id_number(s, "038050004321", READER, container.clock())
        assert elder is not None
        assert elder.record.date_of_death == date(2020, 3, 3)
        found = container.registry.search(
            s, "NGUYỄN  văn an", date(1990, 5, 12), READER, container.clock()
        )
        assert [v.record.id_number for v in found] == ["001090012345"]


def test_reimport_changes_nothing(container: Container, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "feed.csv", GOOD)
    run(container, path)
    before, audit_before = snapshot(container), count(container, AuditEntry)
    report = run(container, path)
    assert report.counts.unchanged == len(GOOD)  # type: ignore[attr-defined]
    assert report.counts.created == report.counts.updated == 0  # type: ignore[attr-defined]
    assert snapshot(container) == before
    assert count(container, AuditEntry) == audit_before


def test_changed_row_updates_in_place(container: Container, tmp_path: Path) -> None:
    run(container, write_csv(tmp_path / "a.csv", GOOD))
    ids_before = {r[0] for r in snapshot(container)}
    changed = [*GOOD[:1], row(**(GOOD[1] | {"full_name": "Trần Thị Bình An"}))]
    report = run(container, write_csv(tmp_path / "b.csv", changed))
    assert (report.counts.updated, report.counts.unchanged) == (1, 1)  # type: ignore[attr-defined]
    assert {r[0] for r in snapshot(container)} == ids_before  # same subject ids
    with container.unit_of_work() as s:
        v = container.registry.get_by_id_number(s, "079195000001", READER, container.clock())
    assert v is not None
    assert v.record.full_name == "Trần Thị Bình An"


BAD = [
    row("00109001234"),  # line 2: malformed
    row("003090012345"),  # 3: unknown province
    row("001091012345", date_of_birth="1990-01-01"),  # 4: year mismatch
    row("001190012345", sex="M"),  # 5: sex mismatch
    row("001090012346", date_of_birth="1990-02-30"),  # 6: impossible date
    row("001090012347", full_name=""),  # 7: missing name
    row("079195000009", "Trần Thị Bình", "1995-02-28", "F"),  # 8: conflicts with line 9
    row("079195000009", "Trần Thị Bính", "1995-02-28", "F"),  # 9
]


# Pieces of 2 rows put each repeat and each conflicting copy in a piece after its first copy.
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_rejects_are_reported_and_the_rest_applied(
    container: Container, tmp_path: Path, chunk_size: int | None
) -> None:
    path = write_csv(tmp_path / "mixed.csv", [*GOOD, *BAD, GOOD[0]])  # GOOD[0] twice, same data
    report = run(container, path, **({"chunk_size": chunk_size} if chunk_size else {}))
    out = tmp_path / "rejects.csv"
    write_rejects(report.rejected, out)  # type: ignore[attr-defined]
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["line", "id_number", "reason"]
    got = {int(r["line"]): r["reason"].split(" ", 1)[0] for r in rows}
    first = len(GOOD) + 2  # header is line 1
    assert got == {
        first: "id_format",
        first + 1: "id_unknown_province",
        first + 2: "birth_year_mismatch",
        first + 3: "sex_mismatch",
        first + 4: "invalid_date",
        first + 5: "name_missing",
        first + 6: "duplicate_conflict",
        first + 7: "duplicate_conflict",
    }
    assert rows[0]["id_number"] == "00109001234"
    assert count(container, Citizen) == len(GOOD)  # identical repeat applied once


def test_strict_applies_nothing(container: Container, tmp_path: Path) -> None:
    report = run(container, write_csv(tmp_path / "mixed.csv", [*GOOD, BAD[1]]), strict=True)
    assert report.aborted  # type: ignore[attr-defined]
    assert len(report.rejected) == 1  # type: ignore[attr-defined]
    assert count(container, Citizen) == 0
    assert count(container, ImportRun) == 0
    assert count(container, AuditEntry) == 0


def test_unreadable_files_fail_as_a_whole(container: Container, tmp_path: Path) -> None:
    bad_header = tmp_path / "h.csv"
    bad_header.write_text("id,name\n1,2\n", encoding="utf-8")
    with pytest.raises(FeedError, match="missing column"):
        run(container, bad_header)
    latin = tmp_path / "l.csv"
    latin.write_bytes(
        "id_number,full_name,date_of_birth,sex,guardian_id_number,date_of_death\n"
        "001090012345,Nguy\xe9n,1990-05-12,M,,\n".encode("latin-1")
    )
    with pytest.raises(FeedError, match="not UTF-8"):
        run(container, latin)
    with pytest.raises(FeedError, match="expected one of"):
        run(container, tmp_path / "feed.xlsx")


def test_malformed_jsonl_line_is_rejected(container: Container, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "f.jsonl", GOOD[:2])
    with path.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n[1, 2]\n")
    report = run(container, path)
    assert [(r.line, r.reasons[0].code) for r in report.rejected] == [  # type: ignore[attr-defined]
        (3, "malformed_row"),
        (4, "malformed_row"),
    ]
    assert count(container, Citizen) == 2


class Crash(Exception):
    pass


def test_resume_after_a_crash_between_chunks(container: Container, tmp_path: Path) -> None:
    rows = [row(f"001090{i:06d}", f"Nguyễn Văn {i}", "1990-05-12", "M") for i in range(50)]
    path = write_csv(tmp_path / "big.csv", rows)
    calls = 0

    @contextmanager
    def dying_uow() -> Iterator[Session]:
        nonlocal calls
        calls += 1
        # ledger row, index check, two chunks committed, then the process "dies"
        if calls == 5:
            raise Crash
        with container.unit_of_work() as s:
            yield s

    uow: object = dying_uow
    with pytest.raises(Crash):
        run(container, path, chunk_size=10, unit_of_work=uow)
    assert count(container, Citizen) == 20  # whole chunks only, never half of one
    assert index_names(container) >= SECONDARY  # rebuilt on the way out

    report = run(container, path, chunk_size=10)
    assert report.resumed_from_line == 22  # type: ignore[attr-defined]
    assert report.counts.created == 50  # type: ignore[attr-defined]
    assert count(container, Citizen) == 50
    with container.unit_of_work() as s:
        runs = s.scalars(select(ImportRun)).all()
        assert [(r.status, r.created) for r in runs] == [("done", 50)]
        assert container.audit.verify(s).ok


def test_a_commit_gathers_whole_pieces_and_a_resume_starts_after_it(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pass 1 works in pieces of 10 rows here; a commit of 25 rows takes three whole pieces.
    monkeypatch.setattr(batch, "CHECK_PIECE", 10)
    rows = [row(f"001090{i:06d}", f"Nguyễn Văn {i}", "1990-05-12", "M") for i in range(50)]
    path = write_csv(tmp_path / "big.csv", rows)
    calls = 0

    @contextmanager
    def dying_uow() -> Iterator[Session]:
        nonlocal calls
        calls += 1
        if calls == 4:  # ledger row, index check, one commit, then the process "dies"
            raise Crash
        with container.unit_of_work() as s:
            yield s

    uow: object = dying_uow
    with pytest.raises(Crash):
        run(container, path, chunk_size=25, unit_of_work=uow)
    assert count(container, Citizen) == 30  # the pieces of one commit, all of them

    report = run(container, path, chunk_size=25)
    assert report.resumed_from_line == 32  # type: ignore[attr-defined]
    assert report.counts.created == 50  # type: ignore[attr-defined]
    assert count(container, Citizen) == 50


def test_no_plaintext_in_the_database_file(container: Container, tmp_path: Path) -> None:
    run(container, write_csv(tmp_path / "feed.csv", GOOD))
    with container.engine.connect() as conn:
        dump = "\n".join(
            repr(tuple(r))
            for t in ("citizens", "audit_entries", "import_runs")
            for r in conn.execute(text(f"SELECT * FROM {t}"))
        )
    for r in GOOD:
        for value in (r["id_number"], r["full_name"], r["date_of_birth"]):
            assert value not in dump


def test_secondary_indexes_follow_a_load_into_an_empty_registry(
    container: Container, tmp_path: Path
) -> None:
    seen: list[set[str]] = []

    @contextmanager
    def watching_uow() -> Iterator[Session]:
        with container.unit_of_work() as s:
            yield s
            seen.append(index_names(s.connection()))  # as this transaction commits them

    rows = [row(f"001090{i:06d}", f"Nguyễn Văn {i}", "1990-05-12", "M") for i in range(30)]
    uow: object = watching_uow
    run(container, write_csv(tmp_path / "first.csv", rows), chunk_size=10, unit_of_work=uow)
    chunks = seen[2:5]  # after the ledger row and the index check
    assert len(chunks) == 3
    assert all(not (names & SECONDARY) for names in chunks)  # loaded without them
    assert index_names(container) >= SECONDARY  # and built once, at the end

    seen.clear()
    rows += [row(f"001090{i:06d}", f"Trần Văn {i}", "1990-05-12", "M") for i in range(30, 40)]
    run(container, write_csv(tmp_path / "second.csv", rows), chunk_size=10, unit_of_work=uow)
    assert seen
    assert all(names >= SECONDARY for names in seen)
    with container.unit_of_work() as s:
        found = container.registry.search(s, "Trần Văn 35", date(1990, 5, 12), READER, TODAY_AT)
        assert [v.record.id_number for v in found] == ["001090000035"]


def test_an_import_restores_indexes_a_killed_load_left_out(
    container: Container, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "feed.csv", GOOD)
    run(container, path)
    with container.engine.begin() as conn:  # what a load killed with SIGKILL leaves behind
        conn.execute(text("DROP INDEX ix_citizens_name_dob"))
    assert "ix_citizens_name_dob" not in index_names(container)
    report = run(container, path)
    assert report.counts.unchanged == len(GOOD)  # type: ignore[attr-defined]
    assert index_names(container) >= SECONDARY


def test_init_restores_indexes_a_killed_load_left_out(container: Container, tmp_path: Path) -> None:
    run(container, write_csv(tmp_path / "feed.csv", GOOD))
    with container.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_citizens_guardian"))
    init_data_dir(container.settings)[1].dispose()
    assert index_names(container) >= SECONDARY


def test_garbage_collection_pauses_during_a_batch_only(
    container: Container, tmp_path: Path
) -> None:
    enabled: list[bool] = []

    @contextmanager
    def watching_uow() -> Iterator[Session]:
        enabled.append(gc.isenabled())
        with container.unit_of_work() as s:
            yield s

    assert gc.isenabled()
    uow: object = watching_uow
    run(container, write_csv(tmp_path / "feed.csv", GOOD), unit_of_work=uow)
    assert enabled
    assert not any(enabled)
    assert gc.isenabled()  # restored afterwards
