"""Fixed-window rate limits for anonymous RDAP queries, counted where every server process
sees the same count: Redis when ``DINHDANH_REDIS_URL`` is set, else the database.

A window is ``window`` seconds of Unix time (``now // window``); a client may make
``requests`` queries in one, and past that waits for the next (``hit`` answers how long). A
client is a keyed hash of its address (the ring's blind-index key), so neither store keeps
addresses. Fixed windows let a client make up to twice the limit across a window edge; that
is the price of one atomic increment per query, which both stores do without a lock held
across round trips.

Redis: ``INCR`` and ``EXPIRE`` in one MULTI; keys expire with their window. The database:
one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` per query on one row per client (a new
window resets the row), in its own short transaction; rows of old windows are deleted now and
then. On SQLite that is a write per anonymous query, serialised with every other write: fine
for `make run` and one machine, and the reason production sets Redis (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, Executable, Table, bindparam, case, delete
from sqlalchemy.dialects import postgresql, sqlite

from dinhdanh.crypto import KeyRing, blind_index
from dinhdanh.internet.models import RateWindow

WINDOWS: Table = RateWindow.__table__  # type: ignore[assignment]
PURPOSE = "rdap.rate_limit.client"
PURGE_EVERY = 10_000  # hits of one process between deletions of old windows' rows


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int  # per window and client
    window: int  # seconds


class Limiter(Protocol):
    def hit(self, client: str, now: float) -> float | None:
        """Count one query of ``client`` at Unix time ``now``: None if allowed, else the
        seconds until its window ends."""
        ...


def _wait(limit: Limit, window_no: int, now: float) -> float:
    return max((window_no + 1) * limit.window - now, 0.0)


class RedisLimiter:
    def __init__(
        self, client: object, ring: KeyRing, limit: Limit, prefix: str = "dinhdanh:rdap:"
    ) -> None:
        self._redis = client
        self._ring = ring
        self.limit = limit
        self._prefix = prefix

    def hit(self, client: str, now: float) -> float | None:
        window_no = int(now // self.limit.window)
        who = blind_index(self._ring, client, PURPOSE)[:16].hex()
        key = f"{self._prefix}{who}:{window_no}"
        pipe = self._redis.pipeline(transaction=True)  # type: ignore[attr-defined]
        pipe.incr(key)
        pipe.expire(key, self.limit.window + 1)
        count, _ = pipe.execute()
        return None if int(count) <= self.limit.requests else _wait(self.limit, window_no, now)


class DatabaseLimiter:
    def __init__(self, engine: Engine, ring: KeyRing, limit: Limit) -> None:
        postgres = engine.dialect.name == "postgresql"
        # One statement, atomic by itself: on PostgreSQL no BEGIN and COMMIT round trips.
        self._engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else engine
        )
        self._ring = ring
        self.limit = limit
        self._count = _count_statement(postgres)  # built once: building costs more than running
        self._since_purge = 0

    def hit(self, client: str, now: float) -> float | None:
        window_no = int(now // self.limit.window)
        who = blind_index(self._ring, client, PURPOSE)[:16]
        with self._engine.begin() as conn:
            count = conn.execute(self._count, {"who": who, "no": window_no}).scalar_one()
        self._since_purge += 1
        if self._since_purge >= PURGE_EVERY:
            self._since_purge = 0
            self.purge(window_no)
        return None if count <= self.limit.requests else _wait(self.limit, window_no, now)

    def purge(self, window_no: int) -> int:
        """Delete the rows of clients not seen since before ``window_no``."""
        with self._engine.begin() as conn:
            return conn.execute(delete(WINDOWS).where(WINDOWS.c.window_no < window_no)).rowcount


def _count_statement(postgres: bool) -> Executable:
    c = WINDOWS.c
    window_no = bindparam("no", type_=c.window_no.type)
    insert = postgresql.insert if postgres else sqlite.insert
    return (
        insert(WINDOWS)
        .values(client=bindparam("who", type_=c.client.type), window_no=window_no, hits=1)
        .on_conflict_do_update(
            index_elements=[c.client],
            set_={
                "hits": case((c.window_no == window_no, c.hits + 1), else_=1),
                "window_no": window_no,
            },
        )
        .returning(c.hits)
    )


def build_limiter(engine: Engine, ring: KeyRing, limit: Limit, redis_url: str | None) -> Limiter:
    if redis_url:
        import redis

        return RedisLimiter(redis.Redis.from_url(redis_url), ring, limit)
    return DatabaseLimiter(engine, ring, limit)
