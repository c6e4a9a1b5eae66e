"""What a status read sends to the database: statements built once per dialect, run as plain
rows below the ORM.

Every status call runs them, and on the hot path building a statement (or loading ORM
entities) costs more than the query itself (docs/performance.md, status API). On PostgreSQL
a list of keys is one array parameter, so the statement text, parsed once and prepared by the
server, does not grow with the batch; SQLite gets ``IN (...)``. The array is unnested and
joined to the table (``FROM unnest(:values) JOIN ...``), not filtered with ``= ANY``: with
``= ANY`` the planner scanned the whole table for a batch of 1,000 keys (it prices each
index probe as a random read from disk), about 100 ms of the database's CPU per batch at
100,000 bindings; the join is one unique-index probe per key (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, cast

from psycopg.rows import namedtuple_row
from sqlalchemy import (
    ColumnElement,
    Engine,
    Executable,
    FromClause,
    Row,
    Table,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Session

from dinhdanh.social import models as m
from dinhdanh.social.signals import Risk, lookup, to_risk
from dinhdanh.store.db import BinaryList, autocommit_driver

# Rows of a platform-day's read counter: on PostgreSQL the connection's backend pid picks the
# row, so parallel reads do not queue on one row's lock while each commit is flushed.
SLOTS = 64
CHUNK = 1000  # keys per statement


def keyed(table: Table, column: str, pg: bool) -> tuple[FromClause, ColumnElement[bool] | None]:
    """The rows of ``table`` whose ``column`` is among ``:values``: (what to select from, the
    condition to add). PostgreSQL: the array unnested and joined on the column, so each key is
    one index probe whatever the planner thinks of the table's size; SQLite: ``IN (...)``."""
    if pg:
        keys = func.unnest(bindparam("values")).table_valued("key").render_derived("k")
        return keys.join(table, table.c[column] == keys.c.key), None
    return table, table.c[column].in_(bindparam("values", expanding=True))


# The columns of a binding a status is made of: never the sealed subject (a status read
# opens nothing), nor what only binding and revoking use (ids, pairwise subject, number key,
# guardian link): each column more is one more value per key to format, send and parse.
STATUS_COLUMNS = (
    "method",  # not null: a row with a method is a binding
    "acr",
    "age_over_13",
    "age_over_16",
    "age_over_18",
    "owner_deceased",
    "number_junk",
    "guardian_state",
    "checked_at",
    "accounts",
)


def _statements(pg: bool) -> dict[str, Executable]:
    b = cast(Table, m.Binding.__table__)
    columns = [b.c.account_key, *(b.c[name] for name in STATUS_COLUMNS)]
    reads = cast(Table, m.StatusReads.__table__)
    insert = postgresql.insert if pg else sqlite_dialect.insert
    slot = func.pg_backend_pid() % SLOTS if pg else 0  # SQLite: one writer at a time anyway
    add = insert(reads).values(
        platform=bindparam("platform"), day=bindparam("day"), slot=slot, reads=bindparam("n")
    )
    source, among = keyed(b, "account_key", pg)
    bindings = select(*columns).select_from(source)
    return {
        "bindings": bindings if among is None else bindings.where(among),
        "count": add.on_conflict_do_update(
            index_elements=[reads.c.platform, reads.c.day, reads.c.slot],
            set_={"reads": reads.c.reads + add.excluded.reads},
        ),
    }


_BUILT = {pg: _statements(pg) for pg in (True, False)}


def _run(session: Session, name: str, params: dict[str, Any]) -> Any:
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    if pg and "values" in params:  # one binary array, untyped: no per-element processing
        params["values"] = BinaryList(params["values"])
    return conn.execute(_BUILT[pg][name], params)


def bindings(session: Session, keys: Sequence[bytes]) -> Sequence[Row[Any]]:
    """The bindings of these account keys (any platform's: the key names the platform):
    ``account_key`` and the ``STATUS_COLUMNS``, ``accounts`` being how many its person has
    bound at that platform."""
    return cast(Sequence[Row[Any]], _run(session, "bindings", {"values": keys}).all())


_BINDING = ", ".join(f"b.{name}" for name in STATUS_COLUMNS)
# PostgreSQL: the whole read of a chunk in one statement and one round trip, sent by psycopg
# itself (prepared by the server after a few calls): per key its binding (``accounts`` kept),
# the risk of the platform's ranking and, for an unbound key (only those can be UNVERIFIED),
# whether its grace is over; each null when absent.
# Risk and first report are one primary-key probe per key whatever the planner believes of
# the tables (a scalar subquery, a LATERAL with LIMIT: neither is turned into a join): as
# plain joins, a first-report table filled since its last ANALYZE was read whole for every
# key, 200 ms of the database's CPU per batch of 1,000 (docs/performance.md, status API).
# (The text is built from the model's column names only: S608 has no input to worry about.)
_READ = f"""SELECT k.key, {_BINDING},
 r.score, r.reasons,
 CASE WHEN b.id IS NULL THEN (SELECT f.first_at <= %(due)s FROM platform_first_reports f
  WHERE f.platform = %(p)s AND f.account_key = k.key) END AS late
FROM {{keys}}
LEFT JOIN platform_bindings b ON b.account_key = k.key
LEFT JOIN LATERAL (SELECT score, reasons FROM platform_risk
  WHERE platform = %(p)s AND account_key = k.key LIMIT 1) r ON true"""  # noqa: S608
_READ_PG = _READ.format(keys="unnest(%(keys)s) AS k(key)")
# One key (a single lookup): the same without the array, under half the database's CPU.
_READ_PG_ONE = _READ.format(keys="(SELECT %(keys)s::bytea AS key) AS k")

Bound = dict[bytes, Any]  # account key -> its binding row (attributes: the columns, accounts)
Found = tuple[Bound, dict[bytes, Risk], dict[bytes, bool]]  # bindings, risk, grace over?


def read(session: Session, code: str, wanted: Sequence[bytes], due: datetime) -> Found:
    """What a status read of the platform's ``wanted`` keys (distinct) finds: their bindings,
    risk, and for keys already reported whether their grace was over at ``due`` (at least
    for the unbound ones: PostgreSQL looks no further).

    PostgreSQL: one statement per chunk through the driver (SQLAlchemy's execution and
    result machinery cost more than the statement: docs/performance.md), on a pooled
    connection of its own unless ``session`` has begun a transaction; SQLite: the bindings
    statement and ``signals.lookup``."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return _by_chunk(
            wanted, lambda chunk, found: _sqlite_chunk(session, code, chunk, due, found)
        )
    if session.in_transaction() or not isinstance(bind, Engine):  # its writes must be seen
        driver = session.connection().connection.driver_connection
        return _by_chunk(wanted, lambda chunk, found: _pg_chunk(driver, code, chunk, due, found))
    with autocommit_driver(bind) as own:  # the status routes: nothing begun
        return _by_chunk(wanted, lambda chunk, found: _pg_chunk(own, code, chunk, due, found))


def _by_chunk(wanted: Sequence[bytes], read_chunk: Callable[[list[bytes], Found], None]) -> Found:
    found: Found = ({}, {}, {})
    for i in range(0, len(wanted), CHUNK):
        read_chunk(list(wanted[i : i + CHUNK]), found)
    return found


def _pg_chunk(driver: Any, code: str, chunk: list[bytes], due: datetime, found: Found) -> None:
    bound, risk, late = found
    keys: bytes | BinaryList
    if len(chunk) == 1:
        sql, keys = _READ_PG_ONE, chunk[0]
    else:
        sql, keys = _READ_PG, BinaryList(chunk)
    # Binary rows: no text for PostgreSQL to format (times, floats) nor for psycopg to parse.
    cursor = driver.cursor(row_factory=namedtuple_row, binary=True)
    # fetchall: psycopg builds the rows in one go, half the CPU of iterating the cursor
    for row in cursor.execute(sql, {"keys": keys, "p": code, "due": due}, prepare=True).fetchall():
        if row.method is not None:
            bound[row.key] = row
        if row.score is not None:
            risk[row.key] = to_risk(row.score, row.reasons)
        if row.late is not None:
            late[row.key] = row.late


def _sqlite_chunk(
    session: Session, code: str, chunk: list[bytes], due: datetime, found: Found
) -> None:
    bound, risk, late = found
    bound |= {b.account_key: b for b in bindings(session, chunk)}
    found_risk, found_late = lookup(session, code, chunk, due)
    risk |= found_risk
    late |= found_late


def count(session: Session, code: str, day: date, n: int) -> None:
    """Add ``n`` to the platform's reads of ``day`` in one statement (parallel calls add up)."""
    _run(session, "count", {"platform": code, "day": day, "n": n})
