"""What a test's empty, migrated database costs: running the migrations (what the `container`
fixture did for each test) against starting from the template (what it does now,
tests/conftest.py), on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/suite_setup.py [--runs 10]

PostgreSQL at DINHDANH_BENCH_POSTGRES_URL (default the local trust-auth server): a scratch
database, created and dropped. Prints the median and the spread of --runs of each way. The
template's PostgreSQL figure is for tables left empty: a test's few rows add their deletes.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from dinhdanh.crypto import generate_keyring, keyring_to_json
from dinhdanh.settings import Settings
from dinhdanh.wiring import init_data_dir

sys.path.insert(0, str(Path(__file__).parents[1]))  # the repository: tests.conftest
from tests.conftest import Migrated, _fresh_schema, _libpq

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def timed(runs: int, prepare: Callable[[], Settings], act: Callable[[Settings], None]) -> str:
    seconds = []
    for _ in range(runs):
        s = prepare()
        t = time.perf_counter()
        act(s)
        seconds.append(time.perf_counter() - t)
    return (
        f"median {statistics.median(seconds) * 1000:7.1f} ms"
        f"  (min {min(seconds) * 1000:.1f}, max {max(seconds) * 1000:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    ring = keyring_to_json(generate_keyring())
    root = Path(tempfile.mkdtemp(prefix="test-setup-"))

    def sqlite() -> Settings:
        return Settings(data_dir=root / secrets.token_hex(4) / "var", keyring=ring)

    template = sqlite()
    init_data_dir(template)[1].dispose()
    migrated = Migrated(template.data_dir / "dinhdanh.db")

    def migrate(s: Settings) -> None:
        init_data_dir(s)[1].dispose()

    print("sqlite    migrations:", timed(runs, sqlite, migrate))
    print("sqlite    template:  ", timed(runs, sqlite, lambda s: _fresh_schema(s, migrated)))

    base = os.environ.get("DINHDANH_BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"bench_test_setup_{secrets.token_hex(4)}"
    admin = psycopg.connect(_libpq(base), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = base.rsplit("/", 1)[0] + "/" + name

        def postgres() -> Settings:
            return Settings(
                data_dir=root / secrets.token_hex(4) / "var", database_url=url, keyring=ring
            )

        def drop_and_migrate(s: Settings) -> None:
            with psycopg.connect(_libpq(url), autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
            init_data_dir(s)[1].dispose()

        print("postgres  migrations:", timed(runs, postgres, drop_and_migrate))
        _fresh_schema(postgres(), migrated)  # the first one migrates and takes the fingerprint
        print("postgres  template:  ", timed(runs, postgres, lambda s: _fresh_schema(s, migrated)))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
