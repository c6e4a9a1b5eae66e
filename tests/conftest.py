"""Shared fixtures: one key ring per session, a container on every database backend, the real
app over it and a citizen with an account (helpers without fixtures: tests/support.py).

The storage suite runs on SQLite always and on PostgreSQL when a server is reachable at
DINHDANH_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
When that variable is set, or CI is, an unreachable server fails the run instead of skipping.
Redis likewise, at DINHDANH_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from dinhdanh.crypto import KeyRing, generate_keyring, keyring_to_json
from dinhdanh.identity.phone import mobile_prefixes
from dinhdanh.settings import Settings
from dinhdanh.wiring import Container, build, init_data_dir
from tests.support import Citizen, make_citizen, require_java

# Derived from libphonenumber on first use (about 0.1 s): here, once, rather than inside the
# first Hypothesis example that reads a number, which would then overrun its deadline.
mobile_prefixes()

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


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
    name = f"dinhdanh_test_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, ring_json: str, request: pytest.FixtureRequest
) -> Settings:
    url = None
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        # One database per session; every test starts from an empty schema.
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    return Settings(data_dir=tmp_path / "var", database_url=url, keyring=ring_json)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    init_data_dir(settings)[1].dispose()
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
