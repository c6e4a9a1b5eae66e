"""The anonymous-RDAP rate limit, counted where every server process sees it: two limiter
instances (as two processes would have, each with its own connections) share one count, per
client, per fixed window; on the database (SQLite, PostgreSQL) and on Redis.

Redis runs at DINHDANH_TEST_REDIS_URL (default redis://127.0.0.1:6379/0). When that variable
is set, or CI is, an unreachable Redis fails the run instead of skipping it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import func, select

from dinhdanh.internet.models import RateWindow
from dinhdanh.internet.ratelimit import (
    BatchedLimiter,
    DatabaseLimiter,
    Limit,
    Limiter,
    RedisLimiter,
)
from dinhdanh.store import make_engine
from dinhdanh.wiring import Container

LIMIT = Limit(requests=5, window=60)
T0 = 6000.0  # the start of window 100


@pytest.fixture
def pair(container: Container) -> Iterator[tuple[Limiter, Limiter]]:
    """Two database limiters on their own engines: two processes on one database."""
    engines = [
        make_engine(container.engine.url.render_as_string(hide_password=False)) for _ in range(2)
    ]
    try:
        yield (
            DatabaseLimiter(engines[0], container.ring, LIMIT),
            DatabaseLimiter(engines[1], container.ring, LIMIT),
        )
    finally:
        for e in engines:
            e.dispose()


@pytest.fixture
def redis_pair(redis_url: str, container: Container) -> Iterator[tuple[Limiter, Limiter]]:
    prefix = f"dinhdanh:test:{secrets.token_hex(4)}:"
    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    try:
        yield tuple(RedisLimiter(c, container.ring, LIMIT, prefix) for c in clients)  # type: ignore[misc]
    finally:
        for key in clients[0].scan_iter(prefix + "*"):
            clients[0].delete(key)
        for c in clients:
            c.close()


def _shared_count(a: Limiter, b: Limiter) -> None:
    assert [a.hit("203.0.113.7", T0 + i) for i in range(3)] == [None] * 3
    assert [b.hit("203.0.113.7", T0 + 5) for _ in range(2)] == [None] * 2
    assert a.hit("203.0.113.7", T0 + 10) == 50.0  # the sixth: until the window ends
    assert b.hit("203.0.113.7", T0 + 59.5) == 0.5
    assert b.hit("2001:db8::1", T0 + 10) is None  # another client counts apart
    assert a.hit("203.0.113.7", T0 + 60) is None  # a new window


def test_database_limiters_share_one_count(pair: tuple[Limiter, Limiter]) -> None:
    _shared_count(*pair)


def test_redis_limiters_share_one_count(redis_pair: tuple[Limiter, Limiter]) -> None:
    _shared_count(*redis_pair)


def _batched(pair: tuple[Limiter, Limiter], every: float) -> tuple[Limiter, Limiter]:
    a, b = pair
    assert isinstance(a, DatabaseLimiter | RedisLimiter)
    assert isinstance(b, DatabaseLimiter | RedisLimiter)
    return BatchedLimiter(a, LIMIT, every), BatchedLimiter(b, LIMIT, every)


def _lagging_count(a: Limiter, b: Limiter) -> None:
    """Two processes adding their counts once a second."""
    ip = "203.0.113.9"
    assert a.hit(ip, T0) is None  # a's first: added at once (shared 1)
    assert [a.hit(ip, T0 + 0.1), a.hit(ip, T0 + 0.2)] == [None, None]  # a: 1 + 2 pending
    assert b.hit(ip, T0 + 0.3) is None  # b's first: added (shared 2: a's two not yet)
    # b's third query is the sixth in all, yet allowed: b does not know a's two yet
    assert [b.hit(ip, T0 + 0.4), b.hit(ip, T0 + 0.5)] == [None, None]
    assert a.hit(ip, T0 + 1.0) is None  # a adds its three: shared 5
    assert b.hit(ip, T0 + 1.4) == pytest.approx(58.6)  # b adds its three: 8, past 5
    assert a.hit(ip, T0 + 1.5) == pytest.approx(58.5)  # a's own count: 5 + 1, at once
    assert a.hit(ip, T0 + 60) is None  # a new window


def test_batched_limiters_with_no_delay_share_one_count_at_once(
    pair: tuple[Limiter, Limiter], redis_pair: tuple[Limiter, Limiter]
) -> None:
    _shared_count(*_batched(pair, 0))
    _shared_count(*_batched(redis_pair, 0))


def test_batched_limiters_share_the_count_one_flush_late(
    pair: tuple[Limiter, Limiter], redis_pair: tuple[Limiter, Limiter]
) -> None:
    _lagging_count(*_batched(pair, 1.0))
    _lagging_count(*_batched(redis_pair, 1.0))


def test_old_windows_are_purged_and_addresses_not_kept(
    container: Container, pair: tuple[Limiter, Limiter]
) -> None:
    a, _ = pair
    a.hit("198.51.100.1", T0)
    a.hit("198.51.100.2", T0 + 120)
    assert isinstance(a, DatabaseLimiter)
    assert a.purge(int((T0 + 120) // 60)) == 1
    with container.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(RateWindow)) == 1
        [client] = s.scalars(select(RateWindow.client))
    assert b"198.51.100.2" not in client
    assert len(client) == 16
