"""Run the scanner's coroutines from synchronous code, whether or not a loop is running."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``; in a thread of its own when this thread already runs an event
    loop (an async caller, or a process that drives a browser through Playwright's sync API),
    where ``asyncio.run`` refuses to nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1, thread_name_prefix="posture") as pool:
        return pool.submit(asyncio.run, coro).result()
