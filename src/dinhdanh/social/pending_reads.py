"""Status reads counted in this process and written to ``platform_status_reads`` a moment later.

Each status read of the HTTP API used to end with its own upsert of the platform-day counter:
a round trip of the two a single lookup makes, and on PostgreSQL a commit flushed to the WAL
per lookup (docs/performance.md, status API). The routes now add their count here, and one
timer per process writes what has gathered ``FLUSH_SECONDS`` after the first count of a
round, in one statement per platform-day, in its own unit of work; the app's shutdown writes
what is left. The sum stays exact: a count is either pending here (``Social.reads`` adds this
process's pending counts to the table's) or written, never both, never neither, except for a
process killed outright, which loses at most its last ``FLUSH_SECONDS`` of counts (docs/adr/0022).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date

log = logging.getLogger(__name__)

# How long a count may wait in a process before it is written.
FLUSH_SECONDS = 1.0

Day = tuple[str, date]  # (platform code, UTC day)


class PendingReads:
    def __init__(
        self,
        flush_seconds: float = FLUSH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.flush_seconds = flush_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._pending: Counter[Day] = Counter()
        self._scheduled = False  # a write of the pending counts is on its way
        # One write at a time: a flush (at shutdown, say) waits for the timer's write in
        # flight, so when it returns every count taken before it is in the table.
        self._writing = threading.Lock()

    def add(self, code: str, day: date, n: int) -> bool:
        """Count ``n`` reads; True when nothing is scheduled to write them yet (the caller
        schedules it)."""
        with self._lock:
            self._pending[(code, day)] += n
            first, self._scheduled = not self._scheduled, True
            return first

    def take(self) -> Counter[Day]:
        """Every pending count, removed (the caller writes them or puts them back)."""
        with self._lock:
            taken, self._pending = self._pending, Counter()
            self._scheduled = False
            return taken

    def put_back(self, taken: Counter[Day]) -> None:
        """Counts whose write failed: pending again, written with the next round."""
        with self._lock:
            self._pending.update(taken)

    def pending(self, code: str, day: date) -> int:
        with self._lock:
            return self._pending.get((code, day), 0)

    def write(self, store: Callable[[Counter[Day]], None]) -> int:
        """Take the pending counts and ``store`` them (one unit of work); on failure they
        are put back and the error raised. Returns how many reads were written."""
        with self._writing:
            taken = self.take()
            if not taken:
                return 0
            try:
                store(taken)
            except BaseException:
                self.put_back(taken)
                raise
            return sum(taken.values())

    def write_later(self, store: Callable[[Counter[Day]], None]) -> None:
        """Write the pending counts ``flush_seconds`` from now, in a thread of its own; a
        failure is logged and the counts wait for the next round (or the shutdown)."""

        def run() -> None:
            try:
                self.write(store)
            except Exception:
                log.exception("status read counts not written yet; kept for the next round")

        timer = threading.Timer(self.flush_seconds, run)
        timer.daemon = True
        timer.start()
