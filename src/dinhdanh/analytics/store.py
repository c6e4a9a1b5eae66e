"""Our own database, attached to a DuckDB connection read-only through the scanners (their
extensions loaded from wheels, see analytics/duck.py): SQLite by file, PostgreSQL by DSN."""

from __future__ import annotations

import duckdb
from sqlalchemy import Engine, make_url

from dinhdanh.analytics.duck import load_extension

__all__ = ["STORE", "attach"]

STORE = "store"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def attach(con: duckdb.DuckDBPyConnection, engine: Engine) -> None:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        # DuckDB's scanner carries its own copy of SQLite. Two copies in one process do not
        # see each other's POSIX locks: opening the file, DuckDB's copy takes itself for the
        # only user and truncates the WAL index our pooled connections have mapped (SIGBUS at
        # their next commit). So the pool is closed first, and callers open no session until
        # the DuckDB connection is closed.
        engine.dispose()
        load_extension(con, "sqlite_scanner")
        con.execute(f"ATTACH {_literal(url.database or '')} AS {STORE} (TYPE sqlite, READ_ONLY)")
        return
    load_extension(con, "postgres_scanner")
    u = make_url(url)
    parts = {
        "host": u.host or "127.0.0.1",
        "port": str(u.port or 5432),
        "dbname": u.database or "",
        "user": u.username or "",
        "password": u.password or "",
    }
    dsn = " ".join(f"{k}={v}" for k, v in parts.items() if v)
    con.execute(f"ATTACH {_literal(dsn)} AS {STORE} (TYPE postgres, READ_ONLY)")
