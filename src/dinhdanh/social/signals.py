"""What a status read answers beside a binding: the fake-account ``risk`` of the platform's
latest ranking, and ``UNVERIFIED`` for an account still unbound a grace period after the
platform first reported it (asked its status, or named it in an uploaded graph or labels).

Both tables are keyed like bindings, by the account's per-platform key (a keyed hash of
platform and account id), so they join nothing across platforms. For each chunk of keys a
status read makes one statement: on PostgreSQL the bindings' own (``status_queries.read``,
joined on the keys), on SQLite one of its own (two primary-key lookups, ``UNION ALL``); it
writes only for accounts never reported before: one insert that skips rows already there,
so a read of accounts already seen writes nothing here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing, blind_index, blind_indexes
from dinhdanh.social import models as m
from dinhdanh.store.batch import gc_paused
from dinhdanh.store.bulk import analyze, insert_missing_keys, insert_rows, sqlite_value
from dinhdanh.store.db import BinaryList

PURPOSE = "social.account"
UNVERIFIED = "UNVERIFIED"
_CHUNK = 1000  # keys per IN (...) list of a status read
_STORE_CHUNK = 50_000  # ranked accounts per insert


def account_key(ring: KeyRing, code: str, account_id: str) -> bytes:
    """The account's key at its platform: what bindings, risk and first reports are keyed by."""
    return blind_index(ring, f"{code}\x00{account_id}", PURPOSE)


def account_keys(ring: KeyRing, code: str, accounts: Iterable[str]) -> list[bytes]:
    """``account_key`` of each account, in order (a status batch, a graph's million)."""
    return blind_indexes(ring, accounts, PURPOSE, f"{code}\x00")


@dataclass(frozen=True, slots=True)
class Risk:
    """From the latest ranking: fake score in [0, 1] (higher: more likely fake), reason codes."""

    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Seen:
    """What a status read learned about its accounts besides their bindings."""

    risk: dict[bytes, Risk]
    unverified: frozenset[bytes]

    def flags_of(self, key: bytes) -> tuple[str, ...]:
        return (UNVERIFIED,) if key in self.unverified else ()


class Signals:
    def __init__(self, grace: timedelta = timedelta(days=90)) -> None:
        self.grace = grace

    def read(
        self,
        session: Session,
        code: str,
        keys: Iterable[bytes],
        bound: Collection[bytes],
        now: datetime,
        *,
        record: bool,
    ) -> Seen:
        """Risk and first reports of ``keys`` (a status read finds them with its bindings,
        ``status_queries.read``, then concludes with ``seen``); with ``record``, the unbound
        ones never reported before are recorded as reported ``now``."""
        wanted = sorted(set(keys))
        risk: dict[bytes, Risk] = {}
        late: dict[bytes, bool] = {}
        for chunk in _chunks(wanted):
            found_risk, found_late = lookup(session, code, chunk, now - self.grace)
            risk |= found_risk
            late |= found_late
        return self.seen(session, code, wanted, bound, risk, late, now, record=record)

    def seen(
        self,
        session: Session,
        code: str,
        wanted: Sequence[bytes],
        bound: Collection[bytes],
        risk: dict[bytes, Risk],
        late: dict[bytes, bool],
        now: datetime,
        *,
        record: bool,
    ) -> Seen:
        """What a read of ``wanted`` learned beside the bindings, from its ``risk`` rows and
        ``late`` (reported keys: is their grace over?, as ``lookup`` finds them); with
        ``record``, the unbound keys never reported before are recorded as reported ``now``."""
        unbound = [k for k in wanted if k not in bound]
        if record:
            self.record_reports(session, code, [k for k in unbound if k not in late], now)
        new_is_late = self.grace <= timedelta(0)  # reported just now
        return Seen(risk, frozenset(k for k in unbound if late.get(k, new_is_late)))

    @staticmethod
    def record_reports(
        session: Session, code: str, keys: Sequence[bytes], now: datetime, *, bulk: bool = False
    ) -> None:
        """Record ``now`` as the first report of each key, unless one is recorded already;
        ``bulk``: after a file's accounts, refresh the planner's statistics too."""
        table = cast(Table, m.FirstReport.__table__)
        for chunk in _chunks(sorted(keys), _STORE_CHUNK):
            insert_missing_keys(
                session, table, "account_key", chunk, {"platform": code, "first_at": now}
            )
        if bulk:
            analyze(session, table)

    @staticmethod
    def first_report(session: Session, code: str, key: bytes) -> datetime | None:
        at = session.get(m.FirstReport, (code, key))
        return None if at is None else _utc(at.first_at)

    @staticmethod
    def bound_keys(session: Session, code: str) -> set[bytes]:
        """The keys of the platform's bound accounts (verified: trust seeds for a ranking)."""
        stmt = select(m.Binding.account_key).where(m.Binding.platform == code)
        return set(session.scalars(stmt))

    @staticmethod
    @gc_paused()  # a million new tuples, no cycles among them
    def store_ranking(
        session: Session,
        code: str,
        keys: Sequence[bytes],
        score: npt.NDArray[np.float64],
        reasons: pa.ListArray,
    ) -> int:
        """Replace the platform's stored ranking by this one (the caller's transaction);
        returns the number of accounts stored. Rows go in key order, so the primary key's
        B-tree is appended to rather than split at random pages."""
        table = cast(Table, m.RiskScore.__table__)
        session.execute(delete(table).where(table.c.platform == code))
        order = np.argsort(np.array(keys, dtype="S32"), kind="stable")
        in_order = np.array(keys, dtype=object)[order].tolist()
        scores = score[order].tolist()
        codes = pc.binary_join(reasons, ",").take(pa.array(order)).to_pylist()
        columns = ("platform", "account_key", "score", "reasons")
        for i in range(0, len(keys), _STORE_CHUNK):
            part = slice(i, i + _STORE_CHUNK)
            rows = list(zip(repeat(code), in_order[part], scores[part], codes[part]))
            insert_rows(session, table, columns, rows)
        analyze(session, table)
        return len(keys)


def to_risk(score: float, reasons: str | None) -> Risk:
    return Risk(float(score), tuple(reasons.split(",")) if reasons else ())


def lookup(
    session: Session, code: str, chunk: list[bytes], due: datetime
) -> tuple[dict[bytes, Risk], dict[bytes, bool]]:
    """The chunk's risk, and for its reported keys whether their grace was over at ``due``
    (SQLite; on PostgreSQL ``status_queries.read`` finds both with the bindings)."""
    risk: dict[bytes, Risk] = {}
    late: dict[bytes, bool] = {}
    for key, score, reasons, over in _lookup(session, code, chunk, due):
        if over is None:
            risk[bytes(key)] = to_risk(score, reasons)
        else:
            late[bytes(key)] = bool(over)
    return risk, late


def _lookup(session: Session, code: str, chunk: list[bytes], due: datetime) -> list[Any]:
    """One statement: the chunk's risk rows (last column null) and first-report rows (last
    column: reported at ``due`` or before). Driver SQL, the keys bound once: SQLAlchemy's
    expanding IN lists and SQLite's datetime parsing were most of a status read's time."""
    conn = session.connection()
    risk = "SELECT account_key, score, reasons, NULL FROM platform_risk"
    first = "SELECT account_key, NULL, NULL, first_at <= {due} FROM platform_first_reports"
    if conn.dialect.name == "postgresql":
        # The keys unnested and joined (one primary-key probe each), as status_queries does:
        # with ``= ANY`` the planner took the platform's whole key range at small sizes.
        keyed = " t JOIN unnest(%(k)s) AS k(key) ON t.platform = %(p)s AND t.account_key = k.key"
        sql = risk + keyed + " UNION ALL " + first.format(due="%(due)s") + keyed
        keys = BinaryList(chunk)  # binary: no per-key quoting in Python (store.db)
        return list(conn.exec_driver_sql(sql, {"p": code, "k": keys, "due": due}))
    marks = ", ".join(f"?{i}" for i in range(3, len(chunk) + 3))
    where = f" WHERE platform = ?1 AND account_key IN ({marks})"
    sql = risk + where + " UNION ALL " + first.format(due="?2") + where
    return list(conn.exec_driver_sql(sql, (code, sqlite_value(due), *chunk)))


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
