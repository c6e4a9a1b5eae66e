"""An upload adds the rows it wrote over its carrier's snapshot (store.snapshots, ADR 0029):
the chain of files must read as exactly what a copy from the store gives, and any write the
upload cannot account for makes it copy the store again instead."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from dinhdanh.analytics.duck import connect
from dinhdanh.analytics.store import STORE, attach
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store import snapshots as snapshots_module
from dinhdanh.store.snapshots import Snapshots, bump, generations, relation
from dinhdanh.telecom.importer import import_subscriptions
from dinhdanh.telecom.service import snapshot_name
from dinhdanh.telecom.store_inputs import SNAPSHOT_KEY, snapshot_queries
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD
from tests.telecom.factories import sub, write_csv
from tests.telecom.test_snapshots import _both
from tests.telecom.test_store_reconciliation import NOW

CTX = AccessContext("test", "telecom_upload", "snapshot delta test")
NAME = snapshot_name("VTL")
COLUMNS = (
    "carrier, msisdn, id_bidx, name_bidx, dob_bidx, id_dob_consistent, "
    "under_minor_age_at_activation, activation_at, channel, agent_id, imei, status, id, province"
)
AN = {k: GOOD[0][k] for k in ("id_number", "full_name", "date_of_birth")}
BINH = {k: GOOD[1][k] for k in ("id_number", "full_name", "date_of_birth")}


def _upload(
    c: Container,
    tmp_path: Path,
    rows: list[dict[str, str]],
    on_finish: Callable[[Session], None] | None = None,
) -> None:
    path = write_csv(tmp_path / f"VTL-{len(list(tmp_path.iterdir()))}.csv", rows)
    report = import_subscriptions(
        path, carrier="VTL", telecom=c.telecom, ring=c.ring, unit_of_work=c.unit_of_work,
        ctx=CTX, clock=lambda: NOW, today=NOW.date(), workers=1, chunk_size=4,
        snapshots=tmp_path / "snapshots", on_finish=on_finish,
    )  # fmt: skip
    assert report.rejected == [], report.rejected


def _chain(c: Container, tmp_path: Path) -> list[Path]:
    with c.unit_of_work() as s:
        generation = generations(s, [NAME])[NAME]
    chain = Snapshots(tmp_path / "snapshots").chain(NAME, generation)
    assert chain is not None, "no current snapshot"
    return chain


def _same_as_store(c: Container, tmp_path: Path) -> list[Path]:
    """The current chain, after checking it reads as the store's rows, value for value."""
    chain = _chain(c, tmp_path)
    con = connect()
    try:
        got = con.execute(
            f"SELECT {COLUMNS} FROM {relation(chain, SNAPSHOT_KEY)} ORDER BY msisdn"
        ).fetchall()
        attach(con, c.engine)
        want = con.execute(
            f"SELECT {COLUMNS} FROM ({snapshot_queries(['VTL'])[NAME]}) ORDER BY msisdn"
        ).fetchall()
        assert con.execute(f"SELECT count(*) FROM {STORE}.subscriptions").fetchone() == (len(want),)
    finally:
        con.close()
    assert got == want
    files = {p.name for p in (tmp_path / "snapshots").iterdir() if "VTL" in p.name}
    assert files == {p.name for p in chain}, "a stale file or a partial delta was left"
    return chain


def _numbers(first: int, count: int, who: dict[str, str], **extra: str) -> list[dict[str, str]]:
    return [sub(f"09620{i:05d}", **who, **extra) for i in range(first, first + count)]


def test_uploads_add_deltas_that_read_as_the_store(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = container
    monkeypatch.setattr(snapshots_module, "FOLD_AT", 100.0)  # tiny files: never by size here
    with c.unit_of_work() as s:
        c.telecom.add_carrier(s, "VTL", "Viettel", NOW)
    _upload(c, tmp_path, _numbers(0, 200, AN, imei="356938035643809"))
    assert len(_same_as_store(c, tmp_path)) == 1  # the first upload: a copy of the store

    # New numbers, a number given to another owner, one re-activated, one unchanged.
    second = [
        *_numbers(500, 3, BINH, channel="agent", agent_id="AG-1"),
        sub("0962000001", **BINH),
        sub("0962000002", **AN, activation_date="2026-01-02T10:11:12", imei="356938035643809"),
        sub("0962000003", **AN, imei="356938035643809"),
    ]
    _upload(c, tmp_path, second)
    chain = _same_as_store(c, tmp_path)
    assert len(chain) == 2  # added, not copied again
    assert ".from-" in chain[1].name
    verdicts = _both(c, tmp_path, tmp_path / "snapshots")  # the reconciliation reads the chain
    assert len(verdicts) == 203

    # The same upload again changes nothing: no new file.
    _upload(c, tmp_path, second)
    assert _same_as_store(c, tmp_path) == chain

    # A number changed twice, in two deltas: the newer wins.
    _upload(c, tmp_path, [sub("0962000001", **AN, status="terminated")])
    assert len(_same_as_store(c, tmp_path)) == 3


def test_a_long_chain_is_folded_into_one_copy(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = container
    monkeypatch.setattr(snapshots_module, "MAX_DELTAS", 2)
    monkeypatch.setattr(snapshots_module, "FOLD_AT", 100.0)
    with c.unit_of_work() as s:
        c.telecom.add_carrier(s, "VTL", "Viettel", NOW)
    _upload(c, tmp_path, _numbers(0, 300, AN))
    lengths = []
    for i in range(3):
        _upload(c, tmp_path, _numbers(1000 + i, 1, BINH))
        lengths.append(len(_same_as_store(c, tmp_path)))
    assert lengths == [2, 3, 1]

    # Deltas past FOLD_AT of the copy's bytes are folded at once.
    monkeypatch.setattr(snapshots_module, "FOLD_AT", 0.5)
    _upload(c, tmp_path, _numbers(2000, 300, BINH))
    assert len(_same_as_store(c, tmp_path)) == 1


def test_a_write_the_upload_cannot_account_for_means_a_copy(
    container: Container, tmp_path: Path
) -> None:
    c = container
    with c.unit_of_work() as s:
        c.telecom.add_carrier(s, "VTL", "Viettel", NOW)
    _upload(c, tmp_path, _numbers(0, 200, AN))

    # Another writer bumps the generation while the upload runs: its rows are not in the
    # delta, so the delta is dropped and the carrier copied from the store.
    def elsewhere(session: Session) -> None:
        bump(session, NAME)

    _upload(c, tmp_path, _numbers(300, 5, BINH), on_finish=elsewhere)
    assert len(_same_as_store(c, tmp_path)) == 1

    # A snapshot that is gone (directory removed): the next upload copies the store.
    for path in (tmp_path / "snapshots").iterdir():
        path.unlink()
    _upload(c, tmp_path, _numbers(400, 5, BINH))
    assert len(_same_as_store(c, tmp_path)) == 1
