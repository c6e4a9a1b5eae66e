"""Fixed-window rate limits for anonymous RDAP queries, counted where every server process
sees the same count: Redis when ``DINHDANH_REDIS_URL`` is set, else the database.

A window is ``window`` seconds of Unix time (``now // window``); a client may make
``requests`` queries in one, and past that waits for the next (``hit`` answers how long). A
client is a keyed hash of its address (the ring's blind-index key), so neither store keeps
addresses. Fixed windows let a client make up to twice the limit across a window edge; that
is the price of one atomic increment per query, which both stores do without a lock held
across round trips.

Redis: ``INCRBY`` and ``EXPIRE`` per client in one MULTI; keys expire with their window. The
database: one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` per client on one row per
client (a new window resets the row), in one short transaction; rows of old windows are
deleted now and then. The server counts through ``BatchedLimiter``: in memory, added to the
shared store every 0.1 s in one round trip (ADR 0025), not a write or a Redis round trip per
query.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
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

    def due(self, now: float) -> bool:
        """Whether ``hit`` at ``now`` would reach the shared store (I/O: not on an event
        loop)."""
        ...


class SharedCount(Protocol):
    def add(self, counts: Sequence[tuple[str, int, int]]) -> list[int]:
        """Add ``n`` queries of ``client`` in window ``window_no`` for each
        ``(client, window_no, n)``; each one's total since its window began."""
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
        [count] = self.add([(client, window_no, 1)])
        return None if count <= self.limit.requests else _wait(self.limit, window_no, now)

    def due(self, now: float) -> bool:  # noqa: ARG002 (every hit is a round trip)
        return True

    def add(self, counts: Sequence[tuple[str, int, int]]) -> list[int]:
        pipe = self._redis.pipeline(transaction=True)  # type: ignore[attr-defined]
        for client, window_no, n in counts:
            who = blind_index(self._ring, client, PURPOSE)[:16].hex()
            key = f"{self._prefix}{who}:{window_no}"
            pipe.incrby(key, n)
            pipe.expire(key, self.limit.window + 1)
        done = pipe.execute() if counts else []
        return [int(total) for total in done[0::2]]


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
        [count] = self.add([(client, window_no, 1)])
        return None if count <= self.limit.requests else _wait(self.limit, window_no, now)

    def due(self, now: float) -> bool:  # noqa: ARG002 (every hit is a round trip)
        return True

    def add(self, counts: Sequence[tuple[str, int, int]]) -> list[int]:
        totals = []
        with self._engine.begin() as conn:
            for client, window_no, n in counts:
                who = blind_index(self._ring, client, PURPOSE)[:16]
                params = {"who": who, "no": window_no, "n": n}
                totals.append(int(conn.execute(self._count, params).scalar_one()))
        self._since_purge += len(counts)
        if self._since_purge >= PURGE_EVERY and counts:
            self._since_purge = 0
            self.purge(max(window_no for _, window_no, _ in counts))
        return totals

    def purge(self, window_no: int) -> int:
        """Delete the rows of clients not seen since before ``window_no``."""
        with self._engine.begin() as conn:
            return conn.execute(delete(WINDOWS).where(WINDOWS.c.window_no < window_no)).rowcount


def _count_statement(postgres: bool) -> Executable:
    c = WINDOWS.c
    window_no = bindparam("no", type_=c.window_no.type)
    n = bindparam("n", type_=c.hits.type)
    insert = postgresql.insert if postgres else sqlite.insert
    return (
        insert(WINDOWS)
        .values(client=bindparam("who", type_=c.client.type), window_no=window_no, hits=n)
        .on_conflict_do_update(
            index_elements=[c.client],
            set_={
                "hits": case((c.window_no == window_no, c.hits + n), else_=n),
                "window_no": window_no,
            },
        )
        .returning(c.hits)
    )


class BatchedLimiter:
    """Counts queries in this process and adds them to the shared count (Redis or the
    database) at most every ``flush_every`` seconds, in one round trip for every client
    seen since (ADR 0025). A query is judged by this process's count since the last flush
    plus the shared total that flush returned: this process's own queries are limited at
    once; other processes' within ``flush_every`` seconds, so across P processes a client
    gets at most (P - 1) flush intervals of its own rate past the limit. ``flush_every``
    0 adds each query as it comes (the shared store's own behaviour)."""

    def __init__(self, shared: SharedCount, limit: Limit, flush_every: float) -> None:
        self._shared = shared
        self.limit = limit
        self.flush_every = flush_every
        # (client, window_no) -> [queries not yet added, shared total at the last flush]
        self._counts: dict[tuple[str, int], list[int]] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._flushed_at = float("-inf")

    def due(self, now: float) -> bool:
        return now - self._flushed_at >= self.flush_every

    def hit(self, client: str, now: float) -> float | None:
        window_no = int(now // self.limit.window)
        key = (client, window_no)
        with self._lock:
            entry = self._counts.get(key)
            if entry is None:
                entry = self._counts[key] = [0, 0]
            entry[0] += 1
        if self.due(now):
            self.flush(now)
        count = entry[0] + entry[1]
        return None if count <= self.limit.requests else _wait(self.limit, window_no, now)

    def flush(self, now: float) -> None:
        """Add every count not yet added; learn each client's shared total."""
        with self._flushing:
            current = int(now // self.limit.window)
            with self._lock:
                self._flushed_at = now
                pending = [(c, no, e[0]) for (c, no), e in self._counts.items() if e[0]]
                for e in self._counts.values():
                    e[0] = 0
                for key in [k for k in self._counts if k[1] < current]:
                    del self._counts[key]  # a past window: its counts no longer decide
            totals = self._shared.add(pending)
            with self._lock:
                for (client, window_no, _), total in zip(pending, totals, strict=True):
                    entry = self._counts.get((client, window_no))
                    if entry is not None:
                        entry[1] = total


def build_limiter(
    engine: Engine, ring: KeyRing, limit: Limit, redis_url: str | None, flush_every: float
) -> Limiter:
    shared: RedisLimiter | DatabaseLimiter
    if redis_url:
        import redis

        shared = RedisLimiter(redis.Redis.from_url(redis_url), ring, limit)
    else:
        shared = DatabaseLimiter(engine, ring, limit)
    return BatchedLimiter(shared, limit, flush_every)
