"""The login throttles in Redis (several server nodes): the same back-off as the database's
counters, and concurrent attempts spread over two nodes (two clients, each its own
connection) still get no more answers than sequential ones."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from dinhdanh.auth.throttle import FORGET_AFTER, RedisThrottles
from dinhdanh.wiring import Container
from tests.parallel import BURST, burst, only

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FREE = 3
CAP = timedelta(minutes=15)
KEYS = ["ip:10.0.0.9", "id:abcd"]


@pytest.fixture
def nodes(redis_url: str) -> Iterator[tuple[RedisThrottles, RedisThrottles]]:
    prefix = f"dinhdanh:test:{secrets.token_hex(4)}:throttle:"
    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    try:
        yield tuple(RedisThrottles(c, FREE, CAP, prefix) for c in clients)  # type: ignore[misc]
    finally:
        for key in clients[0].scan_iter(prefix + "*"):
            clients[0].delete(key)
        for c in clients:
            c.close()


def _attempt(c: Container, t: RedisThrottles, now: datetime) -> bool:
    """One wrong guess as a login makes it: hold the keys, and count a failure unless they
    are blocked. True if the guess was evaluated."""
    with c.unit_of_work() as s:
        if t.hold(s, KEYS, now) is not None:
            return False
        t.fail(s, KEYS, now)
        return True


def test_backoff_as_in_the_database(
    container: Container, nodes: tuple[RedisThrottles, ...]
) -> None:
    a, b = nodes
    for i in range(FREE):
        assert _attempt(container, (a, b)[i % 2], T0)
    assert _attempt(container, b, T0)  # the 4th failure is evaluated and blocks for 2 s
    with container.unit_of_work() as s:
        assert a.blocked_until(s, KEYS, T0) == T0 + timedelta(seconds=2)
        assert a.blocked_until(s, ["ip:10.0.0.10"], T0) is None  # another key counts apart
    assert not _attempt(container, a, T0 + timedelta(seconds=1))
    assert _attempt(container, a, T0 + timedelta(seconds=3))  # 5th failure: 4 s
    with container.unit_of_work() as s:
        assert b.blocked_until(s, KEYS, T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=7)
        b.reset(s, "id:abcd")
        assert b.blocked_until(s, ["id:abcd"], T0 + timedelta(seconds=3)) is None
        assert b.blocked_until(s, ["ip:10.0.0.9"], T0 + timedelta(seconds=3)) is not None
        until = T0 + timedelta(minutes=5)
        b.block(s, "id:abcd", until, T0)
        assert a.blocked_until(s, ["id:abcd"], T0) == until


def test_counters_are_forgotten_after_a_quiet_day(
    container: Container, nodes: tuple[RedisThrottles, ...]
) -> None:
    a, _ = nodes
    for _ in range(FREE + 1):
        assert _attempt(container, a, T0)
    later = T0 + FORGET_AFTER + timedelta(seconds=1)
    assert _attempt(container, a, later)  # counted from one again: no block
    with container.unit_of_work() as s:
        assert a.blocked_until(s, KEYS, later) is None


def test_parallel_guesses_over_two_nodes_stop_at_the_limit(
    container: Container, nodes: tuple[RedisThrottles, ...]
) -> None:
    outcomes = burst(lambda i: _attempt(container, nodes[i % 2], T0))
    only(outcomes)
    assert sum(o is True for o in outcomes) == FREE + 1
    assert sum(o is False for o in outcomes) == BURST - FREE - 1


def test_a_hold_ends_with_its_transaction(
    container: Container, nodes: tuple[RedisThrottles, ...]
) -> None:
    """Commit or rollback releases the keys at once; a lock left by a dead node runs out."""
    a, b = nodes
    with container.unit_of_work() as s:
        a.hold(s, KEYS, T0)
    with pytest.raises(RuntimeError, match="boom"), container.unit_of_work() as s:  # noqa: PT012
        b.hold(s, KEYS, T0)
        raise RuntimeError("boom")
    short = RedisThrottles(b._redis, FREE, CAP, a._prefix, lease=timedelta(milliseconds=300))
    with container.unit_of_work() as s:
        short.hold(s, KEYS, T0)
        s.info.clear()  # as if the node died holding the keys: nothing will release them
    with container.unit_of_work() as s:
        assert a.hold(s, KEYS, T0) is None  # taken after the lease ran out
