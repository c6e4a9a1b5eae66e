"""Parquet snapshots of bulk inputs, known to be current by a generation counter (ADR 0020).

The reconciliation reads millions of blind-indexed rows. Copying them out of the database at
every run cost about a second per 500,000 rows, so the importers keep a Parquet copy of what
they wrote (per carrier for subscriptions, one for the registry), rewritten after each upload.

A snapshot is used only while it is provably current: every write to the rows behind it bumps
a counter (``snapshot_generations``) in the same transaction, and a snapshot is named after
the counter's value read *before* it was copied. A write that lands during or after the copy
moves the counter past that value, so the snapshot is never used again; a reader that finds no
file for the current value copies the rows from the database itself (and keeps the copy).
Nothing here is ever more than a cache: deleting the directory loses nothing.

The counters are bumped by the only two writers of those rows (``Registry.apply``,
``Telecom.apply_upload``); a change made around them (SQL by hand) must call :func:`bump` or
remove the directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dinhdanh.store.models import SnapshotGeneration
from dinhdanh.store.private import private_dir

if TYPE_CHECKING:
    import duckdb

__all__ = ["SNAPSHOTS", "Snapshots", "bump", "generations"]

SNAPSHOTS = "snapshots"  # the directory's name under the data directory
_NAME = re.compile(r"[a-z]+(:[A-Za-z0-9_-]{1,32})?")
_BUMP = text(
    "INSERT INTO snapshot_generations (name, generation) VALUES (:name, 1) "
    "ON CONFLICT (name) DO UPDATE SET generation = snapshot_generations.generation + 1"
)


def bump(session: Session, name: str) -> None:
    """Mark the rows behind snapshot ``name`` as written (in the writer's transaction)."""
    session.execute(_BUMP, {"name": name})


def generations(session: Session, names: Iterable[str]) -> dict[str, int]:
    """The current generation of each name (0: never written since the counters exist)."""
    wanted = list(names)
    stmt = select(SnapshotGeneration.name, SnapshotGeneration.generation).where(
        SnapshotGeneration.name.in_(wanted)
    )
    found = {name: int(gen) for name, gen in session.execute(stmt)}
    return {name: found.get(name, 0) for name in wanted}


class Snapshots:
    """A directory of snapshots, ``<name>.<generation>.parquet`` (0700, files 0600)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _file(self, name: str, generation: int) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a snapshot name: {name!r}")
        return self.root / f"{name.replace(':', '-')}.{generation}.parquet"

    def current(self, name: str, generation: int) -> Path | None:
        path = self._file(name, generation)
        return path if path.is_file() else None

    def ensure(
        self,
        con: duckdb.DuckDBPyConnection,
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        queries: dict[str, str],
        attach: Callable[[], None],
    ) -> dict[str, Path]:
        """The current snapshot of each name, copied from the store (``attach`` once, first)
        where none is current. ``queries`` maps names to DuckDB queries over the store."""
        with unit_of_work() as session:
            gens = generations(session, queries)
        paths: dict[str, Path] = {}
        attached = False
        for name, query in queries.items():
            found = self.current(name, gens[name])
            if found is None:
                if not attached:
                    attach()
                    attached = True
                found = self._write(con, name, gens[name], query)
            paths[name] = found
        return paths

    def _write(
        self, con: duckdb.DuckDBPyConnection, name: str, generation: int, query: str
    ) -> Path:
        private_dir(self.root)
        final = self._file(name, generation)
        partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
        literal = str(partial).replace("'", "''")
        old = os.umask(0o077)  # DuckDB creates the file: 0600
        try:
            con.execute(f"COPY ({query}) TO '{literal}' (FORMAT parquet)")
        finally:
            os.umask(old)
        partial.replace(final)
        prefix = name.replace(":", "-") + "."
        for stale in self.root.glob(f"{prefix}*.parquet"):
            if stale != final and stale.name[len(prefix) :].removesuffix(".parquet").isdigit():
                stale.unlink(missing_ok=True)
        return final
