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
In a multi-node deployment these counters move to Redis (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

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


def _latest(rows: Iterable[Throttle | None], now: datetime) -> datetime | None:
    latest = None
    for row in rows:
        if row is not None and row.blocked_until is not None:
            until = as_utc(row.blocked_until)
            if until > now and (latest is None or until > latest):
                latest = until
    return latest
