"""Anonymous RDAP answers kept by each server process until the registry changes.

What is kept is public: an anonymous answer has every person's data removed (RFC 9537), and
an officer's answer is never kept (each is built, opened and audited). Every writer of what
an answer shows (the organisation, domain, IP-block and AS imports, a citizen's "not mine")
bumps the ``rdap`` generation counter (``store.snapshots.bump``) in its own transaction.
A process reads that counter at most once every ``check_every`` seconds and drops everything
it kept when the counter moved, so a change committed anywhere shows within ``check_every``
seconds in every process (docs/adr/0025-rdap-answers-until-the-registry-changes.md).
Answers are also dropped ``ttl`` seconds after they were read, for changes made around the
service (SQL by hand), and the least recently used go first past ``size``.

An answer built from a read that began before a drop is not kept: ``epoch`` (taken before
the read) names the drop it belongs to, so a slow build cannot put a stale answer into a
fresh cache. Rate limiting is counted before the cache is asked, so a kept answer is counted
the same. Our own code, not a library (cachetools is not a dependency): an ordered dict, a
lock, and a counter; ADR 0015 and 0025.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

GENERATION = "rdap"  # the counter's name in snapshot_generations


class AnswerCache:
    def __init__(self, ttl: float, size: int = 50_000, check_every: float = 1.0) -> None:
        self.ttl = ttl  # seconds an answer is kept at most; 0 turns the cache off
        self.size = size  # answers kept at most; 0 turns the cache off
        self.check_every = check_every  # seconds between reads of the generation counter
        self._kept: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()  # answers are built in the thread pool
        self._generation: int | None = None
        self._checked_at = float("-inf")
        self.epoch = 0  # how many times everything was dropped

    @property
    def on(self) -> bool:
        return self.ttl > 0 and self.size > 0

    def due(self, now: float) -> bool:
        """Whether ``check`` at ``now`` would read the generation counter (I/O)."""
        return now - self._checked_at >= self.check_every

    def check(self, now: float, generation: Callable[[], int]) -> int:
        """Read the registry's generation (``generation()``) if ``check_every`` seconds
        passed since the last read, drop every answer if it moved; the epoch to build under."""
        if self.due(now):
            current = generation()
            with self._lock:
                self._checked_at = now
                if current != self._generation:
                    self._generation = current
                    self._drop()
        return self.epoch

    def clear(self) -> None:
        """Drop every kept answer (also after this process's own change to the registry)."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:  # the lock held
        self._kept.clear()
        self.epoch += 1

    def get(self, key: Hashable, now: float) -> bytes | None:
        """The answer kept for ``key`` if it was read less than ``ttl`` seconds before ``now``
        (a monotonic clock) and the registry has not changed since (as last checked)."""
        kept = self._kept.get(key)
        if kept is None or now - kept[0] >= self.ttl:
            return None
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)  # recently used: dropped last
        return kept[1]

    def put(self, key: Hashable, answer: bytes, now: float, epoch: int) -> None:
        """Keep ``answer``, read at ``now`` under ``epoch``; not if everything was dropped
        since (the read may predate the change that dropped it)."""
        if not self.on:
            return
        with self._lock:
            if epoch != self.epoch:
                return
            self._kept[key] = (now, answer)
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)
