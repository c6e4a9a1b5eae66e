"""Bulk helpers below the ORM, on both databases."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.identity.service import CITIZENS
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.bulk import lookup
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
