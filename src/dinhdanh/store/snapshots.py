"""Parquet snapshots of bulk inputs, known to be current by a generation counter (ADR 0020).

The reconciliation reads millions of blind-indexed rows. Copying them out of the database at
every run cost about a second per 500,000 rows, so the importers keep a Parquet copy of what
they wrote (per carrier for subscriptions, one for the registry). An upload adds the rows it
wrote as a delta file over the previous copy instead of copying the carrier's millions of
rows again (``Snapshots.extend``); the chain is folded into one copy now and then.

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
import secrets
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

__all__ = [
    "FOLD_AT",
    "MAX_DELTAS",
    "SNAPSHOTS",
    "Snapshots",
    "bump",
    "generations",
    "quoted",
    "relation",
]

SNAPSHOTS = "snapshots"  # the directory's name under the data directory
_NAME = re.compile(r"[a-z]+(:[A-Za-z0-9_-]{1,32})?")
_MIDDLE = re.compile(r"(\d+)(?:\.from-(\d+))?")  # "<generation>" or "<generation>.from-<base>"
MAX_DELTAS = 8  # deltas a snapshot's chain may hold before it is folded into one copy
FOLD_AT = 0.5  # ... or once its deltas' bytes reach this share of the full copy's
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
    """A directory of snapshots. A snapshot at generation ``g`` is a chain of files: a full
    copy ``<name>.<g0>.parquet`` and, oldest first, the deltas written onto it,
    ``<name>.<g>.from-<p>.parquet`` holding the rows written between generations ``p`` and
    ``g`` (each row replaces the row of the same key before it). Directory 0700, files 0600."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _stem(self, name: str) -> str:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a snapshot name: {name!r}")
        return name.replace(":", "-")

    def _file(self, name: str, generation: int, base: int | None = None) -> Path:
        stem = self._stem(name)
        if base is None:
            return self.root / f"{stem}.{generation}.parquet"
        return self.root / f"{stem}.{generation}.from-{base}.parquet"

    def chain(self, name: str, generation: int) -> list[Path] | None:
        """The files of the snapshot at ``generation``, full copy first; None if none."""
        deltas: list[Path] = []
        stem = self._stem(name)
        while len(deltas) <= MAX_DELTAS:
            full = self._file(name, generation)
            if full.is_file():
                return [full, *reversed(deltas)]
            found = sorted(self.root.glob(f"{stem}.{generation}.from-*.parquet"))
            middle = _MIDDLE.fullmatch(found[0].name[len(stem) + 1 : -8]) if found else None
            base = int(middle.group(2)) if middle and middle.group(2) else None
            if base is None or base >= generation:
                return None
            deltas.append(found[0])
            generation = base
        return None

    def ensure(
        self,
        con: duckdb.DuckDBPyConnection,
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        queries: dict[str, str],
        attach: Callable[[], None],
    ) -> dict[str, list[Path]]:
        """The current snapshot of each name (its chain of files), copied from the store
        (``attach`` once, first) where none is current. ``queries`` maps names to DuckDB
        queries over the store."""
        with unit_of_work() as session:
            gens = generations(session, queries)
        chains: dict[str, list[Path]] = {}
        attached = False
        for name, query in queries.items():
            found = self.chain(name, gens[name])
            if found is None:
                if not attached:
                    attach()
                    attached = True
                found = [self._write(con, name, gens[name], query)]
            chains[name] = found
        return chains

    def partial(self, name: str) -> Path:
        """A private path in the directory to write a delta of ``name`` to (``extend``), one
        per upload: two uploads of one carrier in one server process write apart."""
        private_dir(self.root)
        token = secrets.token_hex(4)
        return self.root / f".{self._stem(name)}.delta.{os.getpid()}.{token}.partial"

    def extend(
        self,
        con: duckdb.DuckDBPyConnection,
        name: str,
        base: int,
        generation: int,
        delta: Path,
        key: str,
    ) -> list[Path] | None:
        """Make the snapshot at ``generation`` the one at ``base`` with the rows of
        ``delta`` (a Parquet file of the same columns) put over it by ``key``; None, and
        ``delta`` removed, when there is no snapshot at ``base``. The chain is folded into
        one full copy when it grows past MAX_DELTAS, or its deltas past half the full
        copy's size: a reader then never applies many deltas, and a row is rewritten a
        bounded number of times on average."""
        chain = self.chain(name, base) if base < generation else None
        if chain is None:
            delta.unlink(missing_ok=True)
            return None
        final = self._file(name, generation, base)
        delta.replace(final)
        chain = [*chain, final]
        deltas = sum(p.stat().st_size for p in chain[1:])
        if len(chain) - 1 > MAX_DELTAS or deltas >= FOLD_AT * chain[0].stat().st_size:
            folded = f"SELECT * FROM {relation(chain, key)}"  # noqa: S608 - quoted paths
            return [self._write(con, name, generation, folded)]
        self._keep(name, chain)
        return chain

    def _write(
        self, con: duckdb.DuckDBPyConnection, name: str, generation: int, query: str
    ) -> Path:
        private_dir(self.root)
        final = self._file(name, generation)
        partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
        old = os.umask(0o077)  # DuckDB creates the file: 0600
        try:
            con.execute(f"COPY ({query}) TO {quoted(partial)} (FORMAT parquet)")
        finally:
            os.umask(old)
        partial.replace(final)
        self._keep(name, [final])
        return final

    def _keep(self, name: str, chain: list[Path]) -> None:
        """Remove every other file of ``name`` (stale copies and deltas)."""
        prefix = self._stem(name) + "."
        for stale in self.root.glob(f"{prefix}*.parquet"):
            middle = stale.name[len(prefix) :].removesuffix(".parquet")
            if stale not in chain and _MIDDLE.fullmatch(middle):
                stale.unlink(missing_ok=True)


def relation(chain: list[Path], key: str) -> str:
    """A DuckDB relation of a snapshot's rows: the full copy, each delta's rows replacing
    those of the same ``key`` before them (a key is at most once in a file)."""
    if not key.isidentifier():
        raise ValueError(f"not a column name: {key!r}")
    rel = f"read_parquet({quoted(chain[0])})"
    for path in chain[1:]:
        delta = f"read_parquet({quoted(path)})"
        rel = (
            f"(SELECT b.* FROM {rel} b ANTI JOIN {delta} d ON b.{key} = d.{key} "  # noqa: S608
            f"UNION ALL BY NAME SELECT * FROM {delta})"
        )
    return rel


def quoted(path: Path | str) -> str:
    """A path as a DuckDB string literal."""
    return "'" + str(path).replace("'", "''") + "'"
