"""Parallel attempts released at the same instant, as parallel requests would arrive: each in
its own thread (and so its own connection and unit of work)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
BURST = 12  # within the connection pool (5 + 10 overflow), so all of them run at once


def burst(fn: Callable[[int], T], n: int = BURST) -> list[T | Exception]:
    """``fn(0)`` ... ``fn(n - 1)`` released together; results, or the exception raised."""
    gate = threading.Barrier(n)

    def run(i: int) -> T | Exception:
        gate.wait()
        try:
            return fn(i)
        except Exception as exc:  # the test inspects what each one got
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def only(outcomes: list[T | Exception], *allowed: type[Exception]) -> None:
    """No exception but the ``allowed`` ones (anything else, e.g. IntegrityError, is a 500)."""
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, allowed)]
    assert unexpected == [], unexpected
