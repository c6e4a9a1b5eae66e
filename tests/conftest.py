"""Shared fixtures: one key ring per session, a container on every database backend, the real
app over it and a citizen with an account (helpers without fixtures: tests/support.py).

The storage suite runs on SQLite always and on PostgreSQL when a server is reachable at
DINHDANH_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
When that variable is set, or CI is, an unreachable server fails the run instead of skipping.
Redis likewise, at DINHDANH_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).

`make test` runs the suite in pytest-xdist workers (gw0, gw1, ...): each has its own
PostgreSQL database, its own Redis database number and its own temporary directories; the
tests that share one expensive session resource (the Spark JVM, the browser tests' server)
run in one worker (xdist_group, --dist loadgroup).

A container starts from a migrated schema without running the migrations each time: the
migrations run once per worker into a template (tests/store checks them on their own), and
each test gets that state fresh. On SQLite the test's database file is a copy of the
template's; on PostgreSQL the worker's database is emptied to the state the migrations left
(rows deleted, sequences restarted), or rebuilt from scratch when its schema is no longer the
migrated one (a test that dropped an index or the schema). See _fresh_schema.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from dinhdanh.crypto import KeyRing, generate_keyring, keyring_to_json
from dinhdanh.identity.phone import mobile_prefixes
from dinhdanh.settings import Settings
from dinhdanh.wiring import Container, build, init_data_dir, read_keyring
from tests.support import Citizen, make_citizen, require_java

# Derived from libphonenumber on first use (about 0.1 s): here, once, rather than inside the
# first Hypothesis example that reads a number, which would then overrun its deadline.
mobile_prefixes()

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One worker runs all the tests of a session resource too costly to start in each."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "spark" in fixtures:
            item.add_marker(pytest.mark.xdist_group("spark"))
        elif item.path.parent.name == "browser":  # one Chromium, one demo server
            item.add_marker(pytest.mark.xdist_group("browser"))


def worker_number() -> int:
    """n in xdist worker gwn; 0 without xdist."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark session for the whole run (its JVM takes seconds to start).

    Without a Java runtime the Spark tests skip, except in CI, which installs one."""
    from dinhdanh.analytics.spark import session

    require_java()
    spark = session("local[2]", app="dinhdanh-tests")
    yield spark
    spark.stop()


@pytest.fixture(scope="session")
def ring() -> KeyRing:
    return generate_keyring()


@pytest.fixture(scope="session")
def ring_json(ring: KeyRing) -> str:
    return keyring_to_json(ring)


def _libpq(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    explicit = os.environ.get("DINHDANH_TEST_REDIS_URL")
    url = explicit or DEFAULT_REDIS
    # Each xdist worker its own database number (the tests' keys are prefixed besides).
    parts = urlsplit(url)
    db = (int(parts.path.strip("/") or 0) + worker_number()) % 16  # 16 by default
    url = urlunsplit(parts._replace(path=f"/{db}"))
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        reason = f"Redis not reachable at {url}: {exc}"
        if explicit or os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason + " (set DINHDANH_TEST_REDIS_URL to run these tests)")
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    explicit = os.environ.get("DINHDANH_TEST_POSTGRES_URL")
    base = explicit or DEFAULT_PG
    must_run = bool(explicit) or bool(os.environ.get("CI"))
    try:
        admin = psycopg.connect(_libpq(base), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL not reachable at {make_url(base).render_as_string()}: {exc}"
        if must_run:
            pytest.fail(reason)
        pytest.skip(reason + " (set DINHDANH_TEST_POSTGRES_URL to run these tests)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"dinhdanh_test_{worker}_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Migrated:
    """What the migrations leave, built once per worker: a SQLite file to copy and, once a
    PostgreSQL container has been asked for, the catalog and rows to return the worker's
    database to."""

    sqlite_file: Path
    pg_fingerprint: str | None = None
    pg_seeded: tuple[str, ...] = ()
    pg_reset: str = ""


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory, ring_json: str) -> Migrated:
    template = Settings(data_dir=tmp_path_factory.mktemp("template") / "var", keyring=ring_json)
    init_data_dir(template)[1].dispose()
    db = template.data_dir / "dinhdanh.db"
    # Closed cleanly: the WAL is checkpointed into the file, nothing else to copy.
    assert sorted(p.name for p in template.data_dir.iterdir()) == [db.name]
    return Migrated(db)


# The schema as PostgreSQL's catalog describes it, and the rows of the tables the migrations
# filled (alembic_version): equal fingerprints, equal schema and seed rows.
_CATALOG = """
SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(
         CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, '')
  FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || ' ' || a.attnotnull::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
       || ' ' || a.attidentity::text || ' ' || a.attgenerated::text
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'idx ' || pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'con ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'trg ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc)
  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'type ' || t.typname || ' ' || t.typtype::text
  FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
UNION ALL
SELECT 'enum ' || e.enumtypid::regtype::text || ' ' || e.enumlabel
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
 WHERE t.typnamespace = 'public'::regnamespace
UNION ALL
SELECT 'seq ' || s.seqrelid::regclass::text || ' ' || s.seqstart || ' ' || s.seqincrement
       || ' ' || s.seqmin || ' ' || s.seqmax || ' ' || s.seqcycle::text
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
 WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'ns ' || nspname FROM pg_namespace
 WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
UNION ALL
SELECT 'ext ' || extname || ' ' || extversion FROM pg_extension
"""


def _tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return sorted(str(r[0]) for r in rows)


def _fingerprint(conn: psycopg.Connection[tuple[object, ...]], seeded: tuple[str, ...]) -> str:
    lines = sorted(str(r[0]) for r in conn.execute(_CATALOG))
    tables = set(_tables(conn))
    for table in seeded:
        if table not in tables:
            return ""  # dropped (an empty schema): not the migrated one
        rows = conn.execute(f'SELECT t::text FROM "{table}" t').fetchall()
        lines.append(f"rows {table} " + "|".join(sorted(str(r[0]) for r in rows)))
    return "\n".join(lines)


def _fresh_schema(settings: Settings, migrated: Migrated) -> None:
    """The database of ``settings`` as the migrations leave an empty one, ``init_data_dir``
    having made the data directory: what a container starts from."""
    url = settings.effective_database_url
    if not url.startswith("postgresql"):
        init_data_dir_from(settings, migrated)
        return
    if not settings.keyring:  # init_data_dir would make one in the data directory
        init_data_dir(settings)[1].dispose()
        return
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    read_keyring(settings)  # as init_data_dir: a broken key ring fails here
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        fingerprint = migrated.pg_fingerprint
        if fingerprint is not None and _fingerprint(conn, migrated.pg_seeded) == fingerprint:
            # Same schema: empty every table the migrations left empty (triggers and foreign
            # keys off while deleting), restart every sequence; one transaction, one trip.
            conn.execute(migrated.pg_reset)
            return
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    init_data_dir(settings)[1].dispose()
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        seeded = tuple(
            t for t in _tables(conn) if conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()
        )
        sequences = conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        statements = [
            "BEGIN",
            "SET LOCAL session_replication_role = replica",
            *(f'DELETE FROM "{t}"' for t in _tables(conn) if t not in seeded),
            *(f'ALTER SEQUENCE "{q[0]}" RESTART' for q in sequences),
            "COMMIT",
        ]
        migrated.pg_reset = ";\n".join(statements)
        migrated.pg_seeded = seeded
        migrated.pg_fingerprint = _fingerprint(conn, seeded)


def init_data_dir_from(settings: Settings, migrated: Migrated) -> None:
    """``init_data_dir`` on SQLite, by copying the template's database file."""
    if (
        settings.database_url
        or not settings.keyring
        or (settings.data_dir / "dinhdanh.db").exists()
    ):
        # Not the default file, a key ring to make, or a database already there.
        init_data_dir(settings)[1].dispose()
        return
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    read_keyring(settings)  # as init_data_dir: a broken key ring fails here
    shutil.copyfile(migrated.sqlite_file, settings.data_dir / "dinhdanh.db")


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, ring_json: str, request: pytest.FixtureRequest
) -> Settings:
    url = None
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        # One database per worker. A test that asks for a container starts from the
        # migrated schema (the container fixture sees to it); any other from an empty one.
        if "container" not in request.fixturenames:
            with psycopg.connect(_libpq(url), autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
    return Settings(data_dir=tmp_path / "var", database_url=url, keyring=ring_json)


@pytest.fixture
def container(settings: Settings, migrated_template: Migrated) -> Iterator[Container]:
    _fresh_schema(settings, migrated_template)
    c = build(settings)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def app_client(container: Container) -> Iterator[TestClient]:
    from dinhdanh.web.app import create_app

    # https: the session cookie is Secure, so the cookie jar only sends it back over https.
    with TestClient(create_app(container), base_url="https://testserver") as tc:
        yield tc


@pytest.fixture
def citizen(container: Container) -> Citizen:
    return make_citizen(container)
