"""A light fleet of local HTTPS endpoints for benchmarks/posture.py: one process, one event
loop, many listening sockets (one per loopback address), no thread per server.

    python benchmarks/posture_fleet.py SPEC.json

SPEC is a JSON list of ``[host, cert_path, key_path, good_headers]``. Each endpoint gets
its own TLS context (its own certificate) and answers any request with 200 and either the
good security headers or none. Once every socket listens, the process prints one JSON line,
the list of ports in SPEC's order, then serves until its standard input closes (the parent
ending, or exiting, stops it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import sys
from typing import Any

GOOD = (
    b"Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n"
    b"Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
    b"X-Content-Type-Options: nosniff\r\n"
    b"Set-Cookie: sid=abc; Secure; HttpOnly; SameSite=Lax\r\n"
)


def _answer(good: bool) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
    return head + (GOOD if good else b"") + b"\r\nok"


async def _serve(spec: list[list[Any]]) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, _ctx: None)  # failed handshakes are the point
    servers = []
    for host, cert, key, good in spec:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        answer = _answer(bool(good))

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: bytes = answer
        ) -> None:
            try:
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                writer.write(answer)
                await writer.drain()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    TimeoutError, ssl.SSLError):  # fmt: skip
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(
            handle, host, 0, ssl=ctx, backlog=256, ssl_handshake_timeout=10
        )
        servers.append(server)
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print(json.dumps(ports), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes it


def main() -> None:
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    with open(sys.argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    asyncio.run(_serve(spec))


if __name__ == "__main__":
    main()
