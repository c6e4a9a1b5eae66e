"""A tiny TCP load balancer for the multi-node tests: each new client connection goes to the
next backend port in turn (round robin), bytes copied both ways. It runs its own event loop
in a thread (never ``asyncio.run``: the browser tests keep a loop in the main thread)."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.support import free_port


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with suppress(ConnectionError, RuntimeError):
        writer.close()


class RoundRobin:
    def __init__(self, backends: list[int]) -> None:
        self.port = free_port()
        self.connections: Counter[int] = Counter()  # per backend port
        self._next = itertools.cycle(backends)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        backend = next(self._next)
        self.connections[backend] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def _serve(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, "127.0.0.1", self.port)


@contextmanager
def round_robin(backends: list[int]) -> Iterator[RoundRobin]:
    """A balancer on a free port of 127.0.0.1 in front of ``backends`` while the block runs."""
    lb = RoundRobin(backends)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(lb._serve(), loop).result(10)
    try:
        yield lb
    finally:

        async def stop() -> None:
            server.close()
            await server.wait_closed()

        with suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
