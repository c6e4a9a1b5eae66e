"""The hot reads' pooled connection outside a session (store.db.autocommit_driver) and the
pool's size (Settings.db_pool_size), on PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from dinhdanh.settings import Settings
from dinhdanh.store.db import autocommit_driver
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container, build

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(container: Container) -> Container:
    if container.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL pool: SQLite has no server connection to keep")
    return container


def _libpq(c: Container) -> str:
    """A connection of the test's own, outside the pool."""
    return c.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def test_statements_commit_at_once_and_the_connection_goes_back_as_it_came(
    pg: Container,
) -> None:
    engine = pg.engine
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (n int)")
        conn.commit()
    with autocommit_driver(engine) as driver:
        pid = driver.info.backend_pid
        driver.execute("INSERT INTO scratch VALUES (1)")
        # Seen by another connection while this one is still out: committed already.
        with psycopg.connect(_libpq(pg)) as other:
            assert other.execute("SELECT count(*) FROM scratch").fetchone() == (1,)
    with engine.connect() as conn:  # the same pooled connection, back in its usual state
        raw = conn.connection.driver_connection
        assert raw is not None
        assert raw.info.backend_pid == pid
        assert raw.autocommit is False
        conn.exec_driver_sql("INSERT INTO scratch VALUES (2)")
        conn.rollback()  # a transaction again: the insert is undone
        assert conn.exec_driver_sql("SELECT count(*) FROM scratch").scalar() == 1


def test_a_connection_the_server_dropped_is_discarded(pg: Container) -> None:
    engine = pg.engine
    with autocommit_driver(engine) as driver:
        pid = driver.info.backend_pid
    with psycopg.connect(_libpq(pg), autocommit=True) as admin:  # as a server restart would
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    # The dead one comes out first (the pool pings only after a second idle: store.db); the
    # caller may even swallow the error: the connection is not given back.
    with autocommit_driver(engine) as driver:
        assert driver.info.backend_pid == pid
        with pytest.raises(psycopg.OperationalError):
            driver.execute("SELECT 1")
    with autocommit_driver(engine) as driver:  # a new connection, not the dead one
        assert driver.info.backend_pid != pid
        assert driver.execute("SELECT 1").fetchone() == (1,)


def test_the_pool_and_the_servers_database_threads_follow_db_pool_size(
    pg: Container, settings: Settings
) -> None:
    sized = settings.model_copy(update={"db_pool_size": 3})
    c = build(sized)
    try:
        assert c.engine.pool.size() == 3  # type: ignore[attr-defined]
        assert c.engine.pool._max_overflow == 3  # type: ignore[attr-defined]
        app = create_app(c)
        assert app.state.db_limiter.total_tokens == 3
    finally:
        c.close()
