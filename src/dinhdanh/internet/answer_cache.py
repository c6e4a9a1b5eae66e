"""Anonymous RDAP answers kept a few seconds in each server process.

What is kept is public: an anonymous answer has every person's data removed (RFC 9537), and
an officer's answer is never kept (each is built, opened and audited). An answer is served
for at most ``ttl`` seconds after it was read; it says when (its ``last update of RDAP
database`` event), so a client can tell how fresh it is. There is no invalidation: imports
run in other processes, so a change shows within ``ttl`` seconds in every process alike.
Rate limiting is counted before the cache is asked, so a kept answer is counted the same.
Our own code, not a library (cachetools is not a dependency): a dict in insertion order,
oldest entries dropped past ``size``; docs/adr/0015-rdap-answer-cache.md.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class AnswerCache:
    def __init__(self, ttl: float, size: int = 20_000) -> None:
        self.ttl = ttl
        self.size = size
        self._kept: dict[Hashable, tuple[float, bytes]] = {}
        self._lock = threading.Lock()  # answers are built in the thread pool

    def get(self, key: Hashable, now: float) -> bytes | None:
        """The answer kept for ``key`` if it was read less than ``ttl`` seconds before ``now``
        (a monotonic clock)."""
        kept = self._kept.get(key)
        if kept is None or now - kept[0] >= self.ttl:
            return None
        return kept[1]

    def put(self, key: Hashable, answer: bytes, now: float) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._kept.pop(key, None)  # re-inserted last: the oldest stay first
            self._kept[key] = (now, answer)
            while len(self._kept) > self.size:
                del self._kept[next(iter(self._kept))]
