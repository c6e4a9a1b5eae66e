"""Brute-force protection: failure counters (ID number, device, IP) with exponential back-off.

``backoff`` (pure): the first ``free`` failures cost nothing, then 2, 4, 8... seconds, capped
at ``cap`` (15 minutes by default, ``DINHDANH_LOCKOUT_MINUTES``, at most 15). Callers refuse
an attempt on a blocked key before checking anything and do not call ``fail`` for it, so a
block is never extended: every single block lasts at most ``cap``. Counters keep growing
across blocks (forgotten after 24 hours without a failure), so a key that keeps failing is
blocked again for ``cap`` at each failure once the back-off has reached it. That is why a
key must be one an attacker cannot fail on the citizen's behalf: logins throttle the
citizen's own trusted device, not the account, when the browser holds a device cookie
(``auth.login``), and enrolment locks one flow, never an ID number (``auth.enrolment``).

Concurrency: ``hold`` locks the keys' counter rows (``SELECT ... FOR UPDATE``, creating a row
at zero first so there is one to lock) until the transaction ends. An attempt that holds its
keys before checking anything runs alone on them: concurrent attempts are checked and counted
one after the other, so they get no more guesses than sequential ones, and two first failures
never race to insert the same row. Keys are locked in sorted order, so attempts sharing keys
cannot deadlock. (SQLite transactions take the database's write lock at BEGIN anyway.)

Several server nodes (``DINHDANH_REDIS_URL`` set): ``RedisThrottles`` keeps the counters in
Redis, with the same semantics and no database row per attempt. ``hold`` takes a lease lock
per key (``SET NX PX``, in sorted order) released when the transaction ends (commit or
rollback) or when the lease runs out (a node that died), so attempts spread over nodes are
still checked and counted one at a time; ``fail`` updates a counter in one Lua script, atomic
by itself. A failure counted in Redis is not undone by a rollback: it errs on the side of
counting. The counters are not personal data that must survive a Redis restart: losing them
forgets recent failures, as the 24-hour reset does (docs/architecture.md, "Several nodes").
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, SessionTransaction

from dinhdanh.auth.models import Throttle
from dinhdanh.auth.opaque import as_utc
from dinhdanh.store.db import insert_missing

# Counters reset after this long without a failure.
FORGET_AFTER = timedelta(hours=24)


def backoff(failures: int, free: int, cap: timedelta) -> timedelta:
    if failures <= free:
        return timedelta(0)
    seconds = 2 ** min(failures - free, 30)
    return min(timedelta(seconds=seconds), cap)


class Throttles:
    def __init__(self, free: int, cap: timedelta) -> None:
        self.free = free
        self.cap = cap

    def blocked_until(
        self, session: Session, keys: Iterable[str], now: datetime
    ) -> datetime | None:
        """The latest time any of ``keys`` is blocked until, if later than ``now`` (no lock:
        a quick look before costly work; ``hold`` decides)."""
        return _latest([session.get(Throttle, key) for key in keys], now)

    def hold(self, session: Session, keys: Iterable[str], now: datetime) -> datetime | None:
        """Lock the counters of ``keys`` until the transaction ends; ``blocked_until`` then."""
        return _latest(self._locked(session, keys, now), now)

    def _locked(self, session: Session, keys: Iterable[str], now: datetime) -> list[Throttle]:
        ordered = sorted(set(keys))
        zero = {"failures": 0, "last_failure_at": now, "blocked_until": None}
        insert_missing(session, Throttle, [{"key": key, **zero} for key in ordered])
        return list(
            session.scalars(
                select(Throttle)
                .where(Throttle.key.in_(ordered))
                .order_by(Throttle.key)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )

    def fail(self, session: Session, keys: Iterable[str], now: datetime) -> None:
        for row in self._locked(session, keys, now):
            if now - as_utc(row.last_failure_at) > FORGET_AFTER:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            delay = backoff(row.failures, self.free, self.cap)
            row.blocked_until = now + delay if delay else None
        session.flush()

    def block(self, session: Session, key: str, until: datetime, now: datetime) -> None:
        for row in self._locked(session, [key], now):
            row.blocked_until = until
        session.flush()

    def reset(self, session: Session, key: str) -> None:
        session.execute(delete(Throttle).where(Throttle.key == key))


# KEYS[1]: the counter (a hash: f failures, l last failure, u blocked until; Unix seconds).
# ARGV: now, forget after, free failures, cap (seconds), time to live of the key.
_FAIL = """
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local now = tonumber(ARGV[1])
if now - last > tonumber(ARGV[2]) then f = 0 end
f = f + 1
local over = f - tonumber(ARGV[3])
local untl = 0
if over > 0 then untl = now + math.min(2 ^ math.min(over, 30), tonumber(ARGV[4])) end
redis.call('HSET', KEYS[1], 'f', f, 'l', ARGV[1], 'u', string.format('%.6f', untl))
redis.call('EXPIRE', KEYS[1], ARGV[5])
return f
"""
# Release a lease lock only if it is still ours (it may have run out and been taken).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_LOCKS = "dinhdanh.throttle.locks"  # session.info: the lease locks this transaction holds
_LISTENING = "dinhdanh.throttle.listening"  # session.info: _end listens to the session


class ThrottleBusy(RuntimeError):
    """A key's lease lock stayed taken for longer than a lease: Redis is not answering as
    it should. Never expected in operation."""


class RedisThrottles(Throttles):
    """The same counters in Redis, shared by every server node (see the module's text)."""

    def __init__(
        self,
        client: Any,
        free: int,
        cap: timedelta,
        prefix: str = "dinhdanh:throttle:",
        lease: timedelta = timedelta(seconds=10),
    ) -> None:
        super().__init__(free, cap)
        self._redis = client
        self._prefix = prefix
        self._lease_ms = int(lease.total_seconds() * 1000)
        self._fail = client.register_script(_FAIL)
        self._release = client.register_script(_RELEASE)
        self._ttl = int((FORGET_AFTER + cap).total_seconds()) + 60

    def blocked_until(
        self, _session: Session, keys: Iterable[str], now: datetime
    ) -> datetime | None:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hget(self._prefix + key, "u")
        latest = None
        for raw in pipe.execute():
            until = float(raw) if raw else 0.0
            if until > now.timestamp() and (latest is None or until > latest):
                latest = until
        return None if latest is None else datetime.fromtimestamp(latest, UTC)

    def hold(self, session: Session, keys: Iterable[str], now: datetime) -> datetime | None:
        ordered = sorted(set(keys))
        if not session.in_transaction():
            session.begin()  # its end releases the locks, even if it runs no SQL
        held: list[tuple[str, str]] = session.info.setdefault(_LOCKS, [])
        if not session.info.get(_LISTENING):
            event.listen(session, "after_transaction_end", self._end)
            session.info[_LISTENING] = True
        mine = {name for name, _ in held}
        for key in ordered:
            name = f"{self._prefix}lock:{key}"
            if name not in mine:
                held.append((name, self._acquire(name)))
        return self.blocked_until(session, ordered, now)

    def _acquire(self, name: str) -> str:
        token = secrets.token_hex(8)
        deadline = time.monotonic() + 2 * self._lease_ms / 1000
        pause = 0.001
        while not self._redis.set(name, token, nx=True, px=self._lease_ms):
            if time.monotonic() > deadline:
                raise ThrottleBusy(name)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        return token

    def _end(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:  # a savepoint or subtransaction: not the end yet
            return
        for name, token in session.info.pop(_LOCKS, []):
            self._release(keys=[name], args=[token])

    def fail(self, _session: Session, keys: Iterable[str], now: datetime) -> None:
        args = [f"{now.timestamp():.6f}", FORGET_AFTER.total_seconds(), self.free]
        args += [self.cap.total_seconds(), self._ttl]
        for key in sorted(set(keys)):
            self._fail(keys=[self._prefix + key], args=args)

    def block(self, _session: Session, key: str, until: datetime, _now: datetime) -> None:
        name = self._prefix + key
        self._redis.hset(name, "u", f"{until.timestamp():.6f}")
        self._redis.expire(name, self._ttl)

    def reset(self, _session: Session, key: str) -> None:
        self._redis.delete(self._prefix + key)


def build_throttles(
    free: int, cap: timedelta, redis_url: str | None, prefix: str = "dinhdanh:"
) -> Throttles:
    if redis_url:
        import redis

        return RedisThrottles(redis.Redis.from_url(redis_url), free, cap, f"{prefix}throttle:")
    return Throttles(free, cap)


def _latest(rows: Iterable[Throttle | None], now: datetime) -> datetime | None:
    latest = None
    for row in rows:
        if row is not None and row.blocked_until is not None:
            until = as_utc(row.blocked_until)
            if until > now and (latest is None or until > latest):
                latest = until
    return latest
