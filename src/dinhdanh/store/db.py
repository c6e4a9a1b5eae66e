"""Engine and session factories; SQLite and PostgreSQL dialect details live here."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, MetaData, Table, create_engine, delete, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names so Alembic migrations read the same on both databases.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event open transactions (see _sqlite_begin), not the driver.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL lets readers (the web server) run beside one writer (an import).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # Blind indexes are random keys: B-tree inserts touch pages all over the index, so a
    # bigger page cache (negative = KiB) is what keeps a million-row import fast.
    cur.execute("PRAGMA cache_size=-262144")
    # Checkpoint the WAL every ~40 MB rather than every 4 MB: a bulk import rewrites the same
    # index pages chunk after chunk, and each checkpoint writes (and syncs) them all again.
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Take the write lock up front: a deferred transaction that reads and then writes (every
    # audited read does) can fail with SQLITE_BUSY when another writer got there in between.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False, pool_size: int = 16) -> Engine:
    """``pool_size``: PostgreSQL connections kept open (``Settings.db_pool_size``); as many
    again may be opened for a burst, and are closed when given back."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    event.listen(engine, "connect", _postgres_adapters)
    event.listen(engine, "checkin", _idle_from)
    event.listen(engine, "checkout", _ping_if_idle(engine))
    return engine


# A pooled connection used less than this long ago is handed out without a ping: a ping is
# a round trip, as long as the status read's own queries (docs/performance.md).
PING_AFTER_IDLE = 1.0  # seconds


def _idle_from(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_from"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Callable[[Any, Any, Any], None]:
    """``pool_pre_ping`` for connections idle a while (the server may have dropped them);
    one that fails is replaced (DisconnectionError: the pool retries with a new one)."""

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_from = record.info.pop("idle_from", None)
        if idle_from is not None and time.monotonic() - idle_from < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError from exc

    return checkout


class BinaryList(list[Any]):
    """A list parameter that psycopg sends as a binary array (PostgreSQL).

    In text format psycopg quotes and escapes each element in Python (for 1,000 bytea
    values, several milliseconds); in binary format it writes lengths and bytes. Only this
    type is sent so, not every list.
    """


def _postgres_adapters(dbapi_conn: Any, _record: Any) -> None:
    from psycopg.types.array import ListBinaryDumper

    dbapi_conn.adapters.register_dumper(BinaryList, ListBinaryDumper)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def insert_missing(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> int:
    """``INSERT ... ON CONFLICT DO NOTHING``: the number of rows inserted.

    A row with the same key that another transaction is inserting is waited for (PostgreSQL)
    and then skipped: concurrent writers of one key never fail with a unique violation.
    """
    if not rows:
        return 0
    name = session.get_bind().dialect.name
    insert = postgresql.insert if name == "postgresql" else sqlite_dialect.insert
    table = cast(Table, model.__table__)
    # RETURNING, not rowcount: psycopg reports no row count for this statement.
    statement = insert(table).values(rows).on_conflict_do_nothing().returning(*table.primary_key)
    return len(session.execute(statement).all())


def record_once(session: Session, model: type[Base], row: dict[str, Any], now: datetime) -> bool:
    """Record a one-time value (``row``: its key and ``expires_at``); False if it already was.

    Of many transactions recording the same value at once, exactly one gets True, on every
    database: the insert decides, not an earlier lookup. Rows past expiry are purged first.
    """
    table = cast(Table, model.__table__)
    session.execute(delete(table).where(table.c.expires_at < now))
    return insert_missing(session, model, [row]) == 1


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction per request or command: commit at the edge, roll back on any error."""
    session = factory()
    try:
        yield session
        if session.in_transaction():  # else nothing ran (a hot read that used no session)
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def autocommit_driver(engine: Engine) -> Iterator[Any]:
    """A pooled PostgreSQL connection's psycopg connection in autocommit, for a hot read of
    a statement or two outside any transaction. A session costs more than such a read
    (taking the connection, setting and resetting its isolation level, commit and close:
    half a status lookup's CPU, docs/performance.md); here the pool's checkout and checkin
    remain. The connection goes back as it came (autocommit off, no transaction open); one
    the server dropped is discarded, not given back."""
    fairy = engine.raw_connection()
    driver: Any = fairy.driver_connection
    try:
        driver.autocommit = True
        yield driver
    finally:
        if driver.broken or driver.closed:
            fairy.invalidate()
        else:
            driver.autocommit = False
        fairy.close()


@contextmanager
def background_checkpoints(engine: Engine, every: float = 0.25) -> Iterator[None]:
    """While a bulk write runs on SQLite, copy the WAL into the database from a second thread.

    Otherwise the writer does it inside COMMIT whenever the WAL passes wal_autocheckpoint
    pages, and a million-row import spends a sixth of its time there, on one core. A PASSIVE
    checkpoint takes no lock that a reader or the writer waits for, and the driver releases
    the GIL while SQLite works. No-op on PostgreSQL and in-memory SQLite.
    """
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    stop = threading.Event()

    def run() -> None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            while not stop.wait(every):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

    thread = threading.Thread(target=run, name="wal-checkpoint", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
