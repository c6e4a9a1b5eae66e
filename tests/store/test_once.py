"""One-time values where every server node sees them (``store.once``): of concurrent uses of
one value, on two nodes (two Redis clients) or on the database, exactly one is first."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from dinhdanh.auth.models import UsedDpopProof
from dinhdanh.store.once import DatabaseOnce, Once, RedisOnce
from dinhdanh.wiring import Container
from tests.parallel import BURST, burst, only

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def redis_nodes(redis_url: str) -> Iterator[tuple[Once, Once]]:
    prefix = f"dinhdanh:test:{secrets.token_hex(4)}:"
    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    try:
        yield RedisOnce(clients[0], prefix), RedisOnce(clients[1], prefix)
    finally:
        for key in clients[0].scan_iter(prefix + "*"):
            clients[0].delete(key)
        for c in clients:
            c.close()


def _row(jti: str, ttl: timedelta = timedelta(minutes=5)) -> dict[str, object]:
    return {"jkt": "k" * 43, "jti": jti, "expires_at": T0 + ttl}


def _race(c: Container, nodes: tuple[Once, Once]) -> list[bool | Exception]:
    def use(i: int) -> bool:
        with c.unit_of_work() as s:
            return nodes[i % 2].first(s, UsedDpopProof, _row("same"), T0)

    return burst(use)


def test_redis_one_first_of_many(container: Container, redis_nodes: tuple[Once, Once]) -> None:
    outcomes = _race(container, redis_nodes)
    only(outcomes)
    assert sorted(outcomes) == [False] * (BURST - 1) + [True]
    with container.unit_of_work() as s:
        assert redis_nodes[0].first(s, UsedDpopProof, _row("other"), T0)  # another value


def test_database_one_first_of_many(container: Container) -> None:
    db = DatabaseOnce()
    outcomes = _race(container, (db, db))
    only(outcomes)
    assert sorted(outcomes) == [False] * (BURST - 1) + [True]


def test_redis_forgets_a_value_when_it_expires(
    container: Container, redis_nodes: tuple[Once, Once]
) -> None:
    a, b = redis_nodes
    # Long enough that the second use comes before the expiry on a busy machine (at 50 ms it
    # once did not), short enough to wait for.
    short = _row("brief", timedelta(seconds=1))
    with container.unit_of_work() as s:
        assert a.first(s, UsedDpopProof, short, T0)
        assert not b.first(s, UsedDpopProof, short, T0)
    time.sleep(1.5)  # the key's own expiry; no timing is asserted
    with container.unit_of_work() as s:
        assert b.first(s, UsedDpopProof, short, T0)
