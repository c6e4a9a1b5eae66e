"""Brute-force protection: per-account and per-IP failure counters with exponential back-off.

``backoff`` (pure): the first ``free`` failures cost nothing, then 2, 4, 8... seconds, capped
at ``cap`` (15 minutes by default, ``DINHDANH_LOCKOUT_MINUTES``): an attacker can slow a
citizen's logins down but never lock them out for longer than the cap. A success resets the
account's counter. In a multi-node deployment these counters move to Redis (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from dinhdanh.auth.models import Throttle
from dinhdanh.auth.opaque import as_utc

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
        """The latest time any of ``keys`` is blocked until, if later than ``now``."""
        latest = None
        for key in keys:
            row = session.get(Throttle, key)
            if row is not None and row.blocked_until is not None:
                until = as_utc(row.blocked_until)
                if until > now and (latest is None or until > latest):
                    latest = until
        return latest

    def fail(self, session: Session, keys: Iterable[str], now: datetime) -> None:
        for key in keys:
            row = session.get(Throttle, key)
            if row is None:
                row = Throttle(key=key, failures=0, last_failure_at=now, blocked_until=None)
                session.add(row)
            elif now - as_utc(row.last_failure_at) > FORGET_AFTER:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            delay = backoff(row.failures, self.free, self.cap)
            row.blocked_until = now + delay if delay else None
        session.flush()

    def block(self, session: Session, key: str, until: datetime, now: datetime) -> None:
        row = session.get(Throttle, key)
        if row is None:
            session.add(Throttle(key=key, failures=0, last_failure_at=now, blocked_until=until))
        else:
            row.blocked_until = until
        session.flush()

    def reset(self, session: Session, key: str) -> None:
        session.execute(delete(Throttle).where(Throttle.key == key))
