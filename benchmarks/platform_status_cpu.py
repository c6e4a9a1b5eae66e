"""Server CPU per status call (issue 10), in-process: the ASGI app called directly.

    .venv/bin/python benchmarks/platform_status_cpu.py [--accounts 10000] [--singles 4000]
        [--batches 60] [--concurrency 16] [--profile]

A fresh PostgreSQL database (as benchmarks/platform_status.py: `dinhdanh init`, one platform,
--accounts bindings loaded with the service's own pieces), then the app of `web.app` is called
through ASGI with no HTTP server and no client library: --concurrency tasks on one event loop
send single lookups (ids at random, one in eleven unbound) and then batch calls of 1,000 ids.
The figure is the CPU of this process (time.process_time: event loop and thread pool) per
call, which the load of other processes on a shared machine inflates far less than it cuts
throughput; PostgreSQL's own CPU is not in it. --profile prints cProfile's top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _measure import scratch_postgres
from oidc import cli
from platform_status import BATCH, CODE, seed


async def call(app: Any, method: str, path: str, key: str, body: bytes = b"") -> int:
    headers = [(b"authorization", f"Bearer {key}".encode()), (b"host", b"bench")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: Any, requests: list[tuple[str, str, bytes]], key: str, tasks: int) -> None:
    queue = iter(requests)

    async def worker() -> None:
        for method, path, body in queue:
            got = await call(app, method, path, key, body)
            if got != 200:
                raise SystemExit(f"{method} {path} answered {got}")

    await asyncio.gather(*(worker() for _ in range(tasks)))


def measure(
    app: Any, name: str, requests: list[tuple[str, str, bytes]], key: str, args: Any
) -> None:
    asyncio.run(drive(app, requests[: max(1, len(requests) // 10)], key, args.concurrency))  # warm
    prof = cProfile.Profile(time.process_time) if args.profile else None
    if prof and args.concurrency == 1:  # the thread pool's work, one call at a time
        from dinhdanh.web.routers import platforms

        read = platforms.read
        wrapped = prof
        platforms.read = lambda *a: wrapped.runcall(read, *a)  # type: ignore[assignment]
        prof = None
    else:
        wrapped = None
    cpu, loop, wall = time.process_time(), time.thread_time(), time.perf_counter()
    if prof:
        prof.enable()
    asyncio.run(drive(app, requests, key, args.concurrency))
    if prof:
        prof.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    loop = time.thread_time() - loop  # the event loop's thread; the rest is the thread pool
    n = len(requests)
    print(
        f"{name:6}: {n:,} calls, {cpu / n * 1000:.3f} ms CPU per call, of which "
        f"{loop / n * 1000:.3f} on the event loop "
        f"({n / wall:,.0f} calls/s in-process, {cpu / wall:.2f} cores)",
        flush=True,
    )
    if wrapped:
        platforms.read = read
        pstats.Stats(wrapped).sort_stats("cumulative").print_stats(60)
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--singles", type=int, default=4000)
    ap.add_argument("--batches", type=int, default=60)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=1, help="measure each scenario this often")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} at the start, {os.cpu_count()} CPUs", flush=True)
    with scratch_postgres() as url:
        work = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-status-cpu-"))
        try:
            run(args, url, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def run(args: Any, url: str, work: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env |= {"DINHDANH_DATA_DIR": str(work / "data"), "DINHDANH_DATABASE_URL": url}
    cli(env, "init", "--json")
    add = ["platforms", "add", CODE, "--name", "Bench", "--json"]
    key = cli(env, *add, "--redirect-uri", "https://bench.example/cb")["api_key"]
    bound = seed(work / "data", url, args.accounts)
    unbound = [f"none-{i:07d}" for i in range(len(bound) // 10)]
    os.environ.update({k: v for k, v in env.items() if k.startswith("DINHDANH_")})

    from dinhdanh.settings import Settings
    from dinhdanh.web.app import create_app
    from dinhdanh.wiring import build

    c = build(Settings(data_dir=work / "data", database_url=url))
    try:
        app = create_app(c)
        rng = random.Random(7)
        ids = bound + unbound
        prefix = f"/api/v1/platforms/{CODE}/accounts"
        singles = [("GET", f"{prefix}/{rng.choice(ids)}/status", b"") for _ in range(args.singles)]
        for _ in range(args.repeat):
            measure(app, "single", singles, key, args)
        batches = []
        for _ in range(args.batches):
            chosen = rng.sample(bound, BATCH - BATCH // 11) + rng.sample(unbound, BATCH // 11)
            batches.append(
                ("POST", f"{prefix}:status", json.dumps({"account_ids": chosen}).encode())
            )
        for _ in range(args.repeat):
            measure(app, "batch", batches, key, args)
    finally:
        c.close()


if __name__ == "__main__":
    main()
