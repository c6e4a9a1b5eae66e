"""The reconciliation engine's inputs, read from our own database or from its snapshots.

Two ways in, giving the same rows (tests/telecom/test_snapshots.py holds their verdicts equal):

- ``stage_inputs``: DuckDB attaches the SQLite file or the PostgreSQL database read-only
  (extensions loaded from their wheels, see analytics/duck.py) and copies what the rules need
  to Parquet for this run.
- ``snapshot_inputs``: the Parquet snapshots the importers keep (store.snapshots, ADR 0020),
  one per carrier and one of the registry; a stale or missing one is copied from the database
  first and kept for the next run.

Only blind indexes and non-identifying flags cross over; the one personal value the rules
need, a date of death, is opened by the registry for the deceased only (about 0.5 % of the
registry), each opening audited, at every run: it is never in a snapshot. The registry's side
comes from ``identity`` as a query (``registry_select``): its table and columns are not named
here. No value is bound from Python (DuckDB would import pandas to look at it: half a second
of a command's start), so the dates of death reach DuckDB as a private CSV file.
"""

from __future__ import annotations

import csv
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dinhdanh.analytics.duck import stage
from dinhdanh.analytics.store import STORE, attach
from dinhdanh.identity.service import SNAPSHOT as REGISTRY_SNAPSHOT
from dinhdanh.identity.service import Registry, registry_select
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.private import open_private
from dinhdanh.store.snapshots import Snapshots, quoted, relation
from dinhdanh.telecom.feed import PreparedSubscription
from dinhdanh.telecom.service import snapshot_name

_SUBSCRIPTION_COLUMNS = """carrier, msisdn, id_bidx, name_bidx, dob_bidx,
       id_dob_consistent::BOOLEAN AS id_dob_consistent,
       minor_at_activation::BOOLEAN AS under_minor_age_at_activation,
       activation_at::TIMESTAMP AS activation_at, channel, agent_id,
       hex(imei_bidx) AS imei, status"""


SNAPSHOT_KEY = "msisdn"  # a carrier's snapshot holds a number once: a delta's row replaces it


class SnapshotDelta:
    """The rows an upload wrote, as a Parquet file of its carrier's snapshot's columns with
    the values a copy from the store reads (tests/telecom/test_snapshots.py holds them
    equal), for ``Snapshots.extend``. Written a chunk at a time by a thread of its own: the
    Arrow conversion and the Parquet writing (2 s of a 500,000-row upload) overlap the
    upload's SQLite work, which runs without the GIL; at most two chunks wait."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: Any = None  # pyarrow.parquet.ParquetWriter, opened at the first rows
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="snapshot-delta")
        self._pending: deque[Future[None]] = deque()

    def add(self, carrier: str, ids: Sequence[str], rows: Sequence[PreparedSubscription]) -> None:
        if not rows:
            return
        while len(self._pending) >= 2:
            self._pending.popleft().result()  # raises what the thread raised
        self._pending.append(self._thread.submit(self._write, carrier, ids, rows))

    def _write(
        self, carrier: str, ids: Sequence[str], rows: Sequence[PreparedSubscription]
    ) -> None:
        import pyarrow as pa  # only an import that extends a snapshot needs it
        import pyarrow.parquet as pq

        p: dict[str, tuple[Any, ...]] = dict(
            zip(PreparedSubscription._fields, zip(*rows, strict=True), strict=True)
        )
        columns = {
            "carrier": pa.array([carrier] * len(rows), pa.string()),
            "msisdn": pa.array(p["msisdn"], pa.string()),
            "id_bidx": pa.array(p["id_bidx"], pa.binary()),
            "name_bidx": pa.array(p["name_bidx"], pa.binary()),
            "dob_bidx": pa.array(p["dob_bidx"], pa.binary()),
            "id_dob_consistent": pa.array(p["id_dob_consistent"], pa.bool_()),
            "under_minor_age_at_activation": pa.array(p["minor_at_activation"], pa.bool_()),
            "activation_at": pa.array(p["activation_at"], pa.timestamp("us")),
            "channel": pa.array(p["channel"], pa.string()),
            "agent_id": pa.array(p["agent_id"], pa.string()),
            "imei": pa.array([b.hex().upper() if b else None for b in p["imei_bidx"]], pa.string()),
            "status": pa.array(p["status"], pa.string()),
            "id": pa.array(ids, pa.string()),
            "province": pa.array(p["province"], pa.string()),
        }
        table = pa.table(columns)
        if self._writer is None:
            old = os.umask(0o077)  # 0600, as the snapshots
            try:
                self._writer = pq.ParquetWriter(str(self.path), table.schema)
            finally:
                os.umask(old)
        self._writer.write_table(table)

    def close(self) -> None:
        """Wait for the chunks in flight and finish the file; raises the thread's error."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._thread.shutdown()
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def discard(self) -> None:
        with suppress(Exception):  # dropped anyway: the upload's own error matters
            self.close()
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Deceased:
    """(ID blind index, date of death) of every deceased citizen, opened for this run."""

    ids: Sequence[bytes]
    dates: Sequence[date | None]


def deaths(session: Session, registry: Registry, ctx: AccessContext, now: datetime) -> Deceased:
    """(id_bidx, date_of_death) of the deceased, each opening audited by the registry."""
    ids, dates = registry.dates_of_death(session, ctx, now)
    return Deceased(ids, dates)


def _load_deaths(con: duckdb.DuckDBPyConnection, deceased: Deceased, workdir: Path) -> None:
    """The table ``deaths_in`` (id_bidx, date_of_death), through a 0600 CSV in ``workdir``."""
    path = workdir / "deaths.csv"
    with open_private(path) as fh:
        out = csv.writer(fh)
        out.writerow(("id_bidx", "date_of_death"))
        for bidx, day in zip(deceased.ids, deceased.dates, strict=True):
            out.writerow((bidx.hex(), day.isoformat() if day else ""))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE deaths_in AS
            SELECT unhex(id_bidx) AS id_bidx, date_of_death FROM read_csv({quoted(path)},
                header = true, columns = {{'id_bidx': 'VARCHAR', 'date_of_death': 'DATE'}})"""
    )
    path.unlink()


def stage_inputs(
    con: duckdb.DuckDBPyConnection, engine: Engine, deceased: Deceased, workdir: Path
) -> dict[str, str]:
    """Create the views `subscriptions`, `registry`, `disowned`, `provinces`; return names."""
    attach(con, engine)
    workdir.mkdir(parents=True, exist_ok=True)
    _load_deaths(con, deceased, workdir)
    stage(
        con,
        f"SELECT {_SUBSCRIPTION_COLUMNS} FROM {STORE}.subscriptions",
        workdir / "subscriptions.parquet",
        "subscriptions",
    )
    stage(
        con,
        f"""SELECT c.id_bidx, c.name_bidx, c.dob_bidx, c.has_guardian, d.date_of_death
            FROM ({registry_select(STORE)}) c LEFT JOIN deaths_in d ON d.id_bidx = c.id_bidx""",
        workdir / "registry.parquet",
        "registry",
    )
    # A declaration counts while its subscription still has the declarer and activation:
    # a previous owner's "not mine" never flags the next owner (finding 6).
    con.execute(
        f"""CREATE OR REPLACE VIEW disowned AS SELECT DISTINCT d.msisdn
            FROM {STORE}.number_declarations d JOIN {STORE}.subscriptions s
              ON s.id = d.subscription_id AND s.id_bidx = d.id_bidx
             AND s.activation_at::TIMESTAMP = d.activation_at::TIMESTAMP
            WHERE d.declaration = 'disowned' AND s.status = 'active'"""
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW provinces AS
            SELECT msisdn, any_value(province) AS province
            FROM {STORE}.subscriptions GROUP BY msisdn"""
    )
    return {
        "subscriptions": "subscriptions",
        "registry": "registry",
        "disowned": "disowned",
        "provinces": "provinces",
    }


def snapshot_queries(carriers: Sequence[str]) -> dict[str, str]:
    """What each snapshot holds, as DuckDB queries over the attached store: the registry's
    clear columns, and per carrier its subscriptions with the columns the rules, the
    report's provinces and the declarations' join need."""
    queries = {
        REGISTRY_SNAPSHOT: f"""SELECT id_bidx, name_bidx, dob_bidx, has_guardian
                               FROM ({registry_select(STORE)})"""
    }
    for code in carriers:  # registered carrier codes: [A-Z0-9_-], checked at registration
        queries[snapshot_name(code)] = (
            f"SELECT {_SUBSCRIPTION_COLUMNS}, id, province FROM {STORE}.subscriptions "
            f"WHERE carrier = '{code}'"
        )
    return queries


def refresh_snapshots(
    engine: Engine,
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    directory: Path,
    names: Sequence[str],
    carriers: Sequence[str] = (),
) -> dict[str, list[Path]]:
    """Bring the named snapshots up to date (an importer, after its upload)."""
    from dinhdanh.analytics.duck import connect

    queries = {k: v for k, v in snapshot_queries(carriers).items() if k in names}
    con = connect()
    try:
        return Snapshots(directory).ensure(con, unit_of_work, queries, lambda: attach(con, engine))
    finally:
        con.close()


def snapshot_inputs(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    directory: Path,
    carriers: Sequence[str],
    deceased: Deceased,
    workdir: Path,
) -> dict[str, str]:
    """The same views as ``stage_inputs``, over the snapshots (refreshed where stale)."""
    attached = False

    def attach_once() -> None:
        nonlocal attached
        if not attached:
            attach(con, engine)
            attached = True

    chains = Snapshots(directory).ensure(con, unit_of_work, snapshot_queries(carriers), attach_once)
    _load_deaths(con, deceased, workdir)
    registry = relation(chains.pop(REGISTRY_SNAPSHOT), "id_bidx")
    whole = [c[0] for c in chains.values() if len(c) == 1]  # one multi-file scan for these
    parts = [f"SELECT * FROM {relation(c, SNAPSHOT_KEY)}" for c in chains.values() if len(c) > 1]
    if whole:
        files = ", ".join(quoted(p) for p in whole)
        parts.insert(0, f"SELECT * FROM read_parquet([{files}])")
    if not parts:
        attach_once()
        parts = [f"SELECT {_SUBSCRIPTION_COLUMNS}, id, province FROM {STORE}.subscriptions LIMIT 0"]
    subs = "(" + " UNION ALL BY NAME ".join(parts) + ")"
    con.execute(f"CREATE OR REPLACE VIEW subscriptions AS SELECT * FROM {subs}")
    con.execute(
        f"""CREATE OR REPLACE VIEW registry AS
            SELECT r.id_bidx, r.name_bidx, r.dob_bidx, r.has_guardian, d.date_of_death
            FROM {registry} r LEFT JOIN deaths_in d ON d.id_bidx = r.id_bidx"""
    )
    # A declaration counts while its subscription still has the declarer and activation
    # (finding 6); the declarations are few, read from the store.
    attach_once()
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE disowned AS SELECT DISTINCT d.msisdn
            FROM {STORE}.number_declarations d JOIN subscriptions s
              ON s.id = d.subscription_id AND s.id_bidx = d.id_bidx
             AND s.activation_at = d.activation_at::TIMESTAMP
            WHERE d.declaration = 'disowned' AND s.status = 'active'"""
    )
    con.execute(
        """CREATE OR REPLACE VIEW provinces AS
           SELECT msisdn, any_value(province) AS province FROM subscriptions GROUP BY msisdn"""
    )
    return {
        "subscriptions": "subscriptions",
        "registry": "registry",
        "disowned": "disowned",
        "provinces": "provinces",
    }


def verdict_rows(
    con: duckdb.DuckDBPyConnection, out_dir: Path
) -> list[tuple[str, str, list[str], str]]:
    """(carrier, msisdn, reasons, action) of every row the engine wrote, junk and ok."""
    files = sorted(str(p) for p in out_dir.glob("*.parquet"))
    if not files:
        return []
    rows = con.execute(
        "SELECT carrier, msisdn, reasons, action FROM read_parquet($files)", {"files": files}
    ).fetchall()
    return [(c, msisdn, list(reasons), action) for c, msisdn, reasons, action in rows]
