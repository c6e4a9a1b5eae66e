"""The statements a piece of code sends to the database, whoever sends them: SQLAlchemy's own
events on SQLite; on PostgreSQL, libpq's trace of every connection checked out meanwhile, so
statements sent by psycopg directly (``social.status_queries``) are seen too."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg.pq import Trace
from sqlalchemy import Engine, event

# One frontend message of libpq's trace: "F <length> <type> <fields...>", fields up to the next.
_MESSAGE = re.compile(r"^F\t\d+\t(\w+)\t(.*?)(?=^[FB]\t|\Z)", re.MULTILINE | re.DOTALL)
_PARSE = re.compile(r' "([^"]*)" "(.*)" \d+( NNNN)*\s*$', re.DOTALL)
_BIND = re.compile(r' "[^"]*" "([^"]*)"')
_QUERY = re.compile(r' "(.*)"\s*$', re.DOTALL)


def executed(trace: str, prepared: dict[str, str]) -> list[str]:
    """The text of each statement run, in order: each simple query, and each Bind of a
    statement parsed before (named: prepared, maybe before the trace began: ``prepared``;
    unnamed: the last unnamed Parse)."""
    parsed = dict(prepared)
    out = []
    for kind, fields in _MESSAGE.findall(trace):
        if kind == "Parse" and (m := _PARSE.match(fields)):
            parsed[m.group(1)] = m.group(2)
        elif kind == "Bind" and (m := _BIND.match(fields)):
            out.append(parsed[m.group(1)])
        elif kind == "Query" and (m := _QUERY.match(fields)):
            out.append(m.group(1))
    return out


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The statements sent while the block runs (filled when it ends)."""
    seen: list[str] = []
    if engine.dialect.name != "postgresql":

        def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
            seen.append(sql)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return
    traced: list[tuple[Any, Any, dict[str, str]]] = []  # connection, its trace, its prepared

    def checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        # What this connection prepared before: libpq itself asks, outside psycopg's
        # transaction handling (no BEGIN is left open).
        found = dbapi_conn.pgconn.exec_(b"SELECT name, statement FROM pg_prepared_statements")
        prepared = {
            found.get_value(i, 0).decode(): found.get_value(i, 1).decode()
            for i in range(found.ntuples)
        }
        log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed when the block ends)
        dbapi_conn.pgconn.trace(log.fileno())
        dbapi_conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        traced.append((dbapi_conn, log, prepared))

    event.listen(engine, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checkout)
        for conn, log, prepared in traced:
            conn.pgconn.untrace()  # flushes its buffer into the file
            log.seek(0)
            seen += executed(log.read(), prepared)
            log.close()
