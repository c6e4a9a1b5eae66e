"""Bulk helpers below the ORM, on both databases."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.identity.service import CITIZENS
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.bulk import _KEYS_PER_LOOKUP, lookup
from dinhdanh.wiring import Container

CTX = AccessContext("test", "registry_import", "bulk lookup test")


def test_lookup_takes_more_keys_than_one_statement_may_bind(container: Container) -> None:
    records = [
        CitizenRecord(f"001090{i:06d}", f"Nguyễn Văn {i}", date(1990, 5, 12), Sex.MALE, "001")
        for i in range(3)
    ]
    now = datetime.now(UTC)
    with container.unit_of_work() as s:
        container.registry.upsert(s, records, CTX, now)
    prepared = [container.registry.sealer.prepare(r) for r in records]
    keys = [os.urandom(16) for _ in range(2_500)]
    keys[0], keys[1_500], keys[-1] = (p.id_bidx for p in prepared)  # in different slices
    with container.unit_of_work() as s:
        dbapi: Any = s.connection().connection.driver_connection
        if isinstance(dbapi, sqlite3.Connection):  # as in SQLite's default build, and lower
            dbapi.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 1_000)
        found = lookup(s, CITIZENS, "id_bidx", "digest", keys)
    assert found == {p.id_bidx: p.digest for p in prepared}


def test_a_sqlite_lookup_probes_the_index_rather_than_scanning(container: Container) -> None:
    """Without statistics SQLite takes any table for about a million rows, so a long enough
    IN list makes it scan the table: lookup keeps each statement under that length."""
    if container.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner: PostgreSQL takes the keys as one array")

    def plan(n: int) -> str:
        marks = ", ".join("?" for _ in range(n))
        sql = (
            "EXPLAIN QUERY PLAN SELECT msisdn, digest FROM subscriptions"
            f" WHERE msisdn IN ({marks}) AND carrier = ?"
        )
        with container.engine.connect() as conn:
            dbapi: Any = conn.connection.driver_connection
            dbapi.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 250_000)
            rows = dbapi.execute(sql, [f"+849{i:08d}" for i in range(n)] + ["VTL"]).fetchall()
        return " ".join(str(r[-1]) for r in rows)

    assert "USING INDEX uq_subscriptions_msisdn_carrier" in plan(_KEYS_PER_LOOKUP)
    assert "SCAN subscriptions" in plan(200_000)  # why the cap
