"""CPU per RDAP lookup, in-process: requests driven straight into the ASGI app (no socket,
no HTTP client), the server process's CPU clock read around N of them.

    .venv/bin/python benchmarks/rdap_cpu.py [--domains 5000] [--blocks 5000] [-n 3000]
        [--backend sqlite|postgres|both] [--profile]

On a shared machine a wall-clock rate mostly measures the neighbours; the CPU the app spends
per answer does not (much). Data: the same synthetic feeds and real importers as
`benchmarks/rdap.py` (a fresh data directory; PostgreSQL a scratch database). Each scenario
asks for names (A-labels) or addresses drawn at random from the loaded ones, every answer
checked 200, after a warm-up of a tenth of N: anonymous domain and IP lookups, each answer
built (the answer cache off) with the database limiter (or Redis, ``--redis URL``) counting
each (its limit out of reach), each through the fast path (web/rdap_fast.py) and through
FastAPI's routes (``create_app(..., rdap_fast_path=False)``), anonymous lookups repeated
from a small set (50 names, served by the answer cache
unless --cache-seconds 0), and an officer's domain lookups.
``--profile`` prints the top of a cProfile of the anonymous domain runs on the fast path
(built, and the 50 names kept).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
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
from _load import machine_line
from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build
from oidc import cli
from rdap import BASIS, database, load, officer_token


class Driver:
    """GET requests into an ASGI app, one at a time, on one event loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    async def _get(self, path: str, headers: list[tuple[bytes, bytes]]) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"rdap.test"), *headers],
            "client": ("192.0.2.7", 40000),
            "server": ("rdap.test", 80),
        }
        status = 0
        done = False

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, done
            if message["type"] == "http.response.start":
                status = message["status"]
            elif not message.get("more_body"):
                done = True

        await self.app(scope, receive, send)
        assert done
        return status

    def run(self, paths: list[str], headers: dict[str, str]) -> None:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def all_of() -> None:
            for p in paths:
                status = await self._get(p, raw)
                if status != 200:
                    raise SystemExit(f"{p}: HTTP {status}")

        self.loop.run_until_complete(all_of())


def scenario(driver: Driver, paths: list[str], headers: dict[str, str], profile: bool) -> float:
    """CPU milliseconds per request of this process (all threads) over ``paths``."""
    driver.run(paths[: max(1, len(paths) // 10)], headers)  # warm-up
    prof = cProfile.Profile(time.process_time) if profile else None
    t0 = time.process_time()
    if prof:
        prof.enable()
    driver.run(paths, headers)
    if prof:
        prof.disable()
    took = time.process_time() - t0
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
    return took * 1000 / len(paths)


def run_backend(args: argparse.Namespace, backend: str, url: str | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-rdapcpu-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env |= {"DINHDANH_DATA_DIR": str(work / "data"), "DINHDANH_RDAP_RATE_LIMIT": "1000000000"}
    if url:
        env["DINHDANH_DATABASE_URL"] = url
    try:
        cli(env, "init", "--json")
        names, addresses, _ = load(env, work, args)
        token = officer_token(env)
        settings = Settings(
            data_dir=work / "data",
            database_url=url,
            rdap_rate_limit=1_000_000_000,
            redis_url=args.redis,
        )
        c = build(settings)
        if args.profile:  # the database work inline, where the profiler sees it
            from dinhdanh.web import rdap_fast
            from dinhdanh.web.routers import rdap as router

            async def inline(_request: Any, fn: Any, *a: Any) -> Any:
                return fn(*a)

            async def inline_sync(fn: Any, *a: Any, **_kw: Any) -> Any:
                return fn(*a)

            router.in_db_thread = inline  # type: ignore[assignment]
            rdap_fast.run_sync = inline_sync  # type: ignore[assignment]
        fast = Driver(create_app(c))
        app = Driver(create_app(c, rdap_fast_path=False))
        rng = random.Random(3)
        n = args.n
        staff = {"Authorization": f"Bearer {token}"} | BASIS
        hot = rng.sample(names, 50)
        limiter = "redis" if args.redis else "database"
        domain_paths = [f"/rdap/domain/{rng.choice(names)}" for _ in range(n)]
        ip_paths = [f"/rdap/ip/{rng.choice(addresses)}" for _ in range(n)]
        hot_paths = [f"/rdap/domain/{rng.choice(hot)}" for _ in range(n)]
        runs = [
            ("anonymous domain, fast path", fast, domain_paths, {}),
            ("anonymous domain, app", app, domain_paths, {}),
            ("anonymous IP, fast path", fast, ip_paths, {}),
            ("anonymous IP, app", app, ip_paths, {}),
            ("anonymous 50 names, fast path", fast, hot_paths, {}),
            ("anonymous 50 names, app", app, hot_paths, {}),
            ("officer domain", fast, domain_paths[: n // 3], staff),
        ]
        for label, driver, paths, headers in runs:
            # Every answer built, but the 50 names', which the answer cache may serve.
            c.rdap_answers.ttl = args.cache_seconds if "50 names" in label else 0
            profile = args.profile and label in (
                "anonymous domain, fast path",
                "anonymous 50 names, fast path",
            )
            ms = scenario(driver, paths, headers, profile)
            print(
                f"  {backend:8} {limiter:8} {label:30} {ms:6.3f} ms CPU per lookup "
                f"({1000 / ms:,.0f} per CPU-second, n={len(paths)})",
                flush=True,
            )
        c.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", type=int, default=5000)
    ap.add_argument("--blocks", type=int, default=5000)
    ap.add_argument("--organisations", type=int, default=2000)
    ap.add_argument("-n", type=int, default=3000)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--cache-seconds", type=float, default=300)
    ap.add_argument("--redis", default=None, help="count in Redis at this URL (else the database)")
    args = ap.parse_args()
    print(machine_line())
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        with database(backend) as url:
            run_backend(args, backend, url)


if __name__ == "__main__":
    main()
