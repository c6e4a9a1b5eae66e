"""The reconciliation read from the importers' Parquet snapshots (store.snapshots, ADR 0020)
gives the very verdicts of the reconciliation read from the database, after every kind of
change: uploads, re-uploads, a write that left its snapshot stale, registry additions and
deaths, declarations."""

from __future__ import annotations

from pathlib import Path

from dinhdanh.identity import indexes
from dinhdanh.identity.rules import check_citizen
from dinhdanh.identity.service import SNAPSHOT
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.snapshots import generations
from dinhdanh.telecom.feed import SubscriptionFeed
from dinhdanh.telecom.importer import import_subscriptions
from dinhdanh.telecom.service import snapshot_name
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD, row
from tests.telecom.factories import sub, write_csv
from tests.telecom.test_store_reconciliation import NOW, run, verdicts
from tests.telecom.test_synth_store import CARRIERS, _load, disown

CTX = AccessContext("test", "telecom_reconciliation", "snapshot test")
AN = GOOD[0]
NEWCOMER = row("001090777777", "Không Có Ai", "1990-01-01")


def _upload(c: Container, tmp_path: Path, rows: list[dict[str, str]], snapshots: Path) -> None:
    common = {"unit_of_work": c.unit_of_work, "ctx": CTX, "clock": lambda: NOW, "workers": 1}
    path = write_csv(tmp_path / f"VTL-{len(rows)}.csv", rows)
    report = import_subscriptions(
        path, carrier="VTL", telecom=c.telecom, ring=c.ring, today=NOW.date(), **common,
        snapshots=snapshots,
    )  # fmt: skip
    assert report.rejected == [], report.rejected


def _both(
    c: Container, tmp_path: Path, snapshots: Path, carriers: tuple[str, ...] = ("VTL",)
) -> dict[tuple[str, str], list[str]]:
    """Reconcile once from the database and once from the snapshots; the verdicts must agree."""
    got = []
    for name, snaps in (("db", None), ("snap", snapshots)):
        out = tmp_path / f"out-{name}"
        run(c, out, snapshots=snaps)
        got.append({(code, m): r for code in carriers for m, r in verdicts(out, code).items()})
    assert got[0] == got[1]
    return got[1]


def _gens(c: Container, *names: str) -> dict[str, int]:
    with c.unit_of_work() as s:
        return generations(s, names)


def test_snapshots_follow_every_change(container: Container, tmp_path: Path) -> None:
    c = container
    snaps = tmp_path / "snapshots"
    with c.unit_of_work() as s:
        c.registry.upsert(s, [check_citizen(r, NOW.date()) for r in GOOD], CTX, NOW)  # type: ignore[misc]
        c.telecom.add_carrier(s, "VTL", "Viettel", NOW)
    an = {k: AN[k] for k in ("id_number", "full_name", "date_of_birth")}
    rows = [
        sub("0962000001", **an),
        sub("0962000002", AN["id_number"], "Nguyễn Văn Ăn", AN["date_of_birth"]),
        sub("0962000004", NEWCOMER["id_number"], NEWCOMER["full_name"], "1990-01-01"),
    ]
    _upload(c, tmp_path, rows, snaps)
    name = snapshot_name("VTL")
    first = _gens(c, name)[name]
    assert first > 0
    files = sorted(p.name for p in snaps.iterdir())
    assert files == [f"subscriptions-VTL.{first}.parquet"]  # the importer wrote it
    got = _both(c, tmp_path, snaps)
    assert got[("VTL", "+84962000004")] == ["ID_NOT_FOUND"]
    assert got[("VTL", "+84962000002")] == ["NAME_MISMATCH"]

    # The same upload again changes nothing: same generation, the same file kept.
    mtime = (snaps / files[0]).stat().st_mtime_ns
    _upload(c, tmp_path, rows, snaps)
    assert _gens(c, name)[name] == first
    assert (snaps / files[0]).stat().st_mtime_ns == mtime

    # A write that does not refresh the snapshot (an import killed after a chunk, resumed
    # later): the stale snapshot is never read, the reconciliation copies the rows again.
    feed = SubscriptionFeed("{}")
    record = feed.check(sub("0962000009", **an), NOW.date())
    assert not isinstance(record, list)
    feed.ring = c.ring  # type: ignore[misc]
    with c.unit_of_work() as s:
        c.telecom.apply_upload(s, "VTL", [feed.prepare_one(record)], CTX, NOW)
    assert _gens(c, name)[name] == first + 1
    got = _both(c, tmp_path, snaps)
    assert got[("VTL", "+84962000009")] == []
    assert (snaps / f"subscriptions-VTL.{first + 1}.parquet").is_file()
    assert not (snaps / files[0]).exists()  # the stale one is gone

    # The registry changes: the newcomer is registered, An dies.
    registry = _gens(c, SNAPSHOT)[SNAPSHOT]
    dead = dict(AN, date_of_death="2026-02-01")
    with c.unit_of_work() as s:
        records = [check_citizen(r, NOW.date()) for r in (NEWCOMER, dead)]
        c.registry.upsert(s, records, CTX, NOW)  # type: ignore[arg-type]
    assert _gens(c, SNAPSHOT)[SNAPSHOT] > registry
    got = _both(c, tmp_path, snaps)
    assert got[("VTL", "+84962000004")] == []
    assert "OWNER_DECEASED" in got[("VTL", "+84962000001")]

    # A declaration is read from the store at every run.
    with c.unit_of_work() as s:
        view = c.registry.get_by_id_number(s, NEWCOMER["id_number"], CTX, NOW)
        assert view is not None
        bidx = indexes.id_index(c.ring, NEWCOMER["id_number"])
        c.telecom.declare(s, view.subject_id, bidx, "+84962000004", "disowned", CTX, NOW)
    got = _both(c, tmp_path, snaps)
    assert got[("VTL", "+84962000004")] == ["DISOWNED"]


def test_synthetic_store_same_verdicts_from_snapshots(container: Container, tmp_path: Path) -> None:
    """Every planted case, three carriers, through the real importers: both paths agree."""
    c = container
    subs = _load(c, tmp_path)
    disown(c, subs)
    got = _both(c, tmp_path, tmp_path / "snapshots", CARRIERS)
    junk = {k for k, reasons in got.items() if reasons}
    assert len(junk) >= 10
    assert len(got) == sum(1 for s in subs if s.status == "active")
