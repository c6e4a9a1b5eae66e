"""One-time values (replay caches) where every server node sees them: ``first`` is True for
exactly one of any number of concurrent uses of a value, on every node.

Without Redis, ``DatabaseOnce``: one row per use (``store.db.record_once``), the default. With
``DINHDANH_REDIS_URL``, ``RedisOnce``: ``SET key NX PX ttl``, atomic by itself, the key
expiring with the value (no purge). The key is the table's name and a SHA-256 of the row's
key columns, so Redis holds no token identifier in clear. Losing Redis's contents would let a
value still within its lifetime be used again: the values kept there are short-lived proofs
(DPoP ``jti``, client assertion ``jti``), each of them bound to a key or a client whose own
checks still apply.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from dinhdanh.store.db import Base, record_once


class Once(Protocol):
    def first(
        self, session: Session, model: type[Base], row: dict[str, Any], now: datetime
    ) -> bool:
        """Record ``row`` (its key columns and ``expires_at``); False if it was seen."""
        ...


class DatabaseOnce:
    def first(
        self, session: Session, model: type[Base], row: dict[str, Any], now: datetime
    ) -> bool:
        return record_once(session, model, row, now)


class RedisOnce:
    def __init__(self, client: Any, prefix: str = "dinhdanh:") -> None:
        self._redis = client
        self._prefix = f"{prefix}once:"

    def first(
        self,
        _session: Session,
        model: type[Base],
        row: dict[str, Any],
        now: datetime,
    ) -> bool:
        parts = [f"{k}={row[k]}" for k in sorted(row) if k != "expires_at"]
        digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
        key = f"{self._prefix}{model.__tablename__}:{digest}"
        ttl_ms = max(int((row["expires_at"] - now).total_seconds() * 1000), 1)
        return bool(self._redis.set(key, b"1", nx=True, px=ttl_ms))


def build_once(redis_url: str | None, prefix: str = "dinhdanh:") -> Once:
    if redis_url:
        import redis

        return RedisOnce(redis.Redis.from_url(redis_url), prefix)
    return DatabaseOnce()
