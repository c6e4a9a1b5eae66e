"""Fast multi-row inserts for batch imports, below the ORM.

SQLAlchemy's per-value type processing costs more than the insert itself at a million rows,
so batch paths hand plain tuples to the driver: executemany on SQLite, COPY on PostgreSQL.
Row values must already be what the driver takes (bytes, str, int, None); datetimes go in
`constants`, converted once per call.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Index, Table, select
from sqlalchemy.orm import Session


def sqlite_value(value: Any) -> Any:
    # SQLAlchemy stores DateTime on SQLite as naive UTC text; match it so the ORM reads it back.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")
    return value


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert rows (tuples in `columns` order); `constants` fill the same value into every row.

    Constants are converted for the driver once, not once per row. `rows` may be a generator:
    the driver takes them one at a time, so a caller that builds each row's tuple need not
    hold all of them (half a million rows of an upload's commit are 100-200 MB).
    """
    if isinstance(rows, Sized) and not len(rows):
        return
    conn = session.connection()
    dbapi: Any = conn.connection.driver_connection
    const = dict(constants or {})
    names = ", ".join([*columns, *const])
    if conn.dialect.name == "postgresql":
        tail = tuple(const.values())
        with dbapi.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + tail)
        return
    tail = tuple(sqlite_value(v) for v in const.values())
    marks = ", ".join("?" for _ in range(len(columns) + len(tail)))
    params = (row + tail for row in rows) if tail else rows
    cur = dbapi.cursor()
    try:
        cur.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", params)  # noqa: S608
    finally:
        cur.close()


_KEYS_PER_INSERT = 10_000  # within SQLite's default limit of 32,766 parameters


def insert_missing_keys(
    session: Session,
    table: Table,
    key: str,
    keys: Sequence[Any],
    constants: Mapping[str, Any],
) -> None:
    """One row per key (`constants` fill the other columns), skipping rows already there
    (``ON CONFLICT DO NOTHING``): one statement per call on PostgreSQL (the keys as one array),
    on SQLite one per 10,000 keys. Keys in the same order in every caller (sorted) keep
    concurrent inserts of overlapping sets from deadlocking."""
    if not keys:
        return
    conn = session.connection()
    names = ", ".join([*constants, key])
    if conn.dialect.name == "postgresql":
        marks = ", ".join(["%s"] * len(constants) + ["k"])
        sql = f"INSERT INTO {table.name} ({names}) SELECT {marks} FROM unnest(%s) AS k"  # noqa: S608
        conn.exec_driver_sql(sql + " ON CONFLICT DO NOTHING", (*constants.values(), list(keys)))
        return
    # Numbered parameters: the constants are bound once (?1..?c), then one per key.
    c = len(constants)
    const = [f"?{i}" for i in range(1, c + 1)]
    head = [sqlite_value(v) for v in constants.values()]
    for i in range(0, len(keys), _KEYS_PER_INSERT):
        part = keys[i : i + _KEYS_PER_INSERT]
        rows = ", ".join(f"({', '.join([*const, f'?{c + j}'])})" for j in range(1, len(part) + 1))
        sql = f"INSERT INTO {table.name} ({names}) VALUES {rows} ON CONFLICT DO NOTHING"  # noqa: S608
        conn.exec_driver_sql(sql, (*head, *part))


def analyze(session: Session, table: Table) -> None:
    """PostgreSQL: refresh the planner's statistics of `table` after a bulk load. Without
    them, a lookup by a list of keys after a million-row load was planned as a scan of the
    whole key range, not the keys (SQLite's planner needs none to use a primary key)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {table.name}")


# Keys per SQLite look-up. Without ANALYZE statistics SQLite assumes a table of about a
# million rows, so past a few tens of thousands of IN values it scans the whole table instead
# of probing the index: 250,000 numbers (Debian's bind limit) against 10 M subscriptions took
# 3.6 s a statement where probes take a tenth of that (docs/performance.md).
_KEYS_PER_LOOKUP = 10_000


def lookup(
    session: Session,
    table: Table,
    key: str,
    value: str,
    keys: Sequence[Any],
    where: Mapping[str, Any] | None = None,
) -> dict[Any, Any]:
    """{key: value} for the rows whose `key` column is in `keys` and that match `where`
    (column = value): one round trip on PostgreSQL; on SQLite one per _KEYS_PER_LOOKUP."""
    if not keys:
        return {}
    conn = session.connection()
    dbapi: Any = conn.connection.driver_connection
    cur: Any = dbapi.cursor()
    extra = dict(where or {})
    pg = conn.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    filters = "".join(f" AND {col} = {mark}" for col in extra)
    found: dict[Any, Any] = {}
    try:
        if pg:
            sql = f"SELECT {key}, {value} FROM {table.name} WHERE {key} = ANY(%s){filters}"  # noqa: S608
            cur.execute(sql, (list(keys), *extra.values()))
            found.update(cur.fetchall())
            return found
        limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(extra)
        per_query = min(_KEYS_PER_LOOKUP, limit)
        for i in range(0, len(keys), per_query):
            part = keys[i : i + per_query]
            marks = ", ".join("?" for _ in part)
            sql = f"SELECT {key}, {value} FROM {table.name} WHERE {key} IN ({marks}){filters}"  # noqa: S608
            cur.execute(sql, [*part, *extra.values()])
            found.update(cur.fetchall())
        return found
    finally:
        cur.close()


def secondary_indexes(table: Table) -> list[Index]:
    """The table's non-unique indexes: the ones a load may build after the rows are in."""
    return sorted((ix for ix in table.indexes if not ix.unique), key=lambda ix: str(ix.name))


def ensure_indexes(bind: Engine | Connection, tables: Sequence[Table]) -> None:
    """Create any index of `tables` that is missing (a load killed before rebuilding them)."""
    for table in tables:
        for ix in table.indexes:
            ix.create(bind, checkfirst=True)


@contextmanager
def indexes_deferred(
    unit_of_work: Callable[[], AbstractContextManager[Session]], table: Table
) -> Iterator[bool]:
    """Load into `table` without its secondary indexes if it is empty; rebuild them after.

    Blind indexes are random keys: maintaining a B-tree on them row by row rewrites index
    pages all over the file at every commit, where one sort at the end writes each page once
    (a third of a million-row import). Unique indexes stay, so duplicates still fail at once.
    Yields whether the indexes were deferred. If the table is not empty the indexes are made
    sure to exist instead, which repairs the state a killed load left behind; in between,
    lookups that would use them scan the table: slower, never wrong.
    """
    deferred = secondary_indexes(table)
    with unit_of_work() as session:
        empty = session.execute(select(1).select_from(table).limit(1)).first() is None
        conn = session.connection()
        if empty:
            for ix in deferred:
                ix.drop(conn, checkfirst=True)
        else:
            ensure_indexes(conn, [table])
    try:
        yield empty
    finally:
        if empty:
            with unit_of_work() as session:
                ensure_indexes(session.connection(), [table])
