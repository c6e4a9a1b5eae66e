"""RDAP lookups per second (issue 12) against `dinhdanh serve`, end to end over HTTP.

    .venv/bin/python benchmarks/rdap.py [--domains 1000000] [--blocks 100000]
        [--backend sqlite|postgres|both] [--seconds 5] [--runs 3] [--workers 2]
        [--connections 16] [--uncached] [--redis] [--env KEY=VALUE] [--prepare]

The store: `dinhdanh init`, a registrar, synthetic organisations and --domains names (half
to persons, half to organisations; `dinhdanh.synth`, fixed seed) and --blocks IP blocks
(four in five IPv4 /24, the rest IPv6 /48, spread over the organisations), loaded with the
real importers (`dinhdanh import ...`) into SQLite once per size and kept under
benchmarks/out/rdap-store-D-B-O/ with its key ring and the names and addresses wrk asks for
(a million names take minutes to import; `--prepare` only makes it). Each run copies it: for
SQLite the data directory, for PostgreSQL (a scratch database, DINHDANH_BENCH_POSTGRES_URL or
the local trust-auth server) the importers' rows copied over with COPY after `dinhdanh init`
made the schema. Then one officer with a personal token, `dinhdanh serve --workers N`
(granian) and `wrk` (Debian package `wrk`) with a Lua script drawing random names (A-labels)
or random addresses inside the loaded blocks (20,000 of each):

- anonymous domain and IP lookups, counted by the rate limiter (its limit raised out of
  reach, so every query is counted and none refused), with the answer cache on (the
  default; after the warm-up nearly every answer is a kept one) and, with --uncached, off
  (every answer read and built); --redis adds the Redis limiter (DINHDANH_BENCH_REDIS_URL,
  default redis://127.0.0.1:6379/0);
- an officer's domain and IP lookups (a legal basis, an audit entry per person read).

Each row is the median of --runs runs by rate (its p50 and p99 those of that run), with
every run's rate, the CPU cores taken by the server, by wrk and by everything else on the
machine (other processes share it), and the 1-minute load average when the run began.
Target (2 vCPUs): 3,000 anonymous lookups/s with p99 under 20 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _load import lua_str, machine_line, require_wrk, run_wrk
from _measure import scratch_postgres
from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.internet.domains import COLUMNS as DOMAIN_COLUMNS
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.synth.internet import generate_resources
from dinhdanh.synth.population import generate_population
from dinhdanh.wiring import build
from oidc import cli, expect, free_port, server
from platform_status import cpu_busy

REGISTRAR = "BENCH"
SAMPLE = 20_000  # distinct names and addresses wrk draws from
ANON_TARGET, P99_TARGET_MS = 3000, 20
BASIS = {"X-Legal-Basis": "criminal_investigation", "X-Case-Ref": "BENCH-2026-1"}
REDIS_URL = os.environ.get("DINHDANH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    return path


def ip_blocks(n: int, holders: list[str], rng: random.Random) -> list[dict[str, str]]:
    """Disjoint blocks: IPv4 /24s from 1.0.0.0 up, IPv6 /48s under 2402::/16."""
    rows = []
    for i in range(n):
        if i % 5:
            net: IPv4Network | IPv6Network = IPv4Network(((1 << 24) + i * 256, 24))
        else:
            net = IPv6Network(((0x2402 << 112) | (i << 80), 48))
        rows.append(
            {
                "cidr": str(net),
                "holder_tax_code": holders[rng.randrange(len(holders))],
                "asn": "",
                "allocated": "2010-01-01",
                "status": "allocated",
            }
        )
    return rows


def address_in(cidr: str, rng: random.Random) -> str:
    net = IPv4Network(cidr) if ":" not in cidr else IPv6Network(cidr)
    return str(net.network_address + rng.randrange(net.num_addresses))


def load(
    env: dict[str, str], work: Path, args: argparse.Namespace
) -> tuple[list[str], list[str], dict[str, float]]:
    """Feeds through the real importers; the names and addresses wrk will ask for."""
    rng = random.Random(12)
    people = list(generate_population(max(1000, args.domains // 20), seed=7))
    res = generate_resources(organisations=args.organisations, domains=args.domains, people=people)
    heads = [o["tax_code"] for o in res.organisations if "-" not in o["tax_code"]]
    orgs = write_csv(work / "orgs.csv", res.organisations, list(res.organisations[0]))
    domains = write_csv(work / "domains.csv", res.domains, list(DOMAIN_COLUMNS))
    blocks = ip_blocks(args.blocks, heads, rng)
    blocks_file = write_csv(work / "blocks.csv", blocks, list(blocks[0]))
    cli(env, "registrars", "add", REGISTRAR, "--name", "Bench registrar", "--json")
    timings: dict[str, float] = {}
    for what, path, extra in [
        ("organisations", orgs, []),
        ("domains", domains, ["--registrar", REGISTRAR]),
        ("ipblocks", blocks_file, []),
    ]:
        t = time.perf_counter()
        report = cli(env, "import", what, str(path), *extra, "--json")
        took = time.perf_counter() - t
        timings[f"import_{what}_s"] = round(took, 1)
        print(
            f"  import {what}: {report['created']:,} created, {report['rejected']:,} rejected, "
            f"{took:.1f} s",
            flush=True,
        )
    names = [r["domain"] for r in rng.sample(res.domains, min(SAMPLE, len(res.domains)))]
    names = [n.encode("idna").decode() if not n.isascii() else n for n in names]
    addresses = [address_in(b["cidr"], rng) for b in rng.sample(blocks, min(SAMPLE, len(blocks)))]
    return names, addresses, timings


def officer_token(env: dict[str, str]) -> str:
    """A citizen with an account, an officer grant and its personal token."""
    settings = Settings(
        data_dir=Path(env["DINHDANH_DATA_DIR"]), database_url=env.get("DINHDANH_DATABASE_URL")
    )
    c = build(settings)
    now = datetime.now(UTC)
    by = AccessContext("operator:bench", "operator", "benchmark setup")
    try:
        with c.unit_of_work() as s:
            rec = CitizenRecord(
                "001090099999", "Cán Bộ Thử", now.date().replace(year=1980), Sex.MALE, "001"
            )
            c.registry.upsert(s, [rec], by, now)
            view = c.registry.get_by_id_number(s, rec.id_number, by, now)
            assert view is not None
            c.auth.accounts.create(s, view.subject_id, 1, now)
            grant = c.staff.grant(
                s,
                view.subject_id,
                "officer",
                "Bench police",
                now + timedelta(days=7),
                "bench",
                by,
                now,
            )
            _, token, _ = c.staff.issue_token(s, grant.id, "bench", by, now)
        return token
    finally:
        c.close()


def lua(path_prefix: str, inputs: Path, headers: dict[str, str]) -> str:
    sets = "".join(f"wrk.headers[{lua_str(k)}] = {lua_str(v)}\n" for k, v in headers.items())
    return f"""
{sets}
local items = {{}}
function init(args)
  for line in io.lines({lua_str(str(inputs))}) do items[#items + 1] = line end
  math.randomseed(tid * 7919)
end
function request()
  return wrk.format("GET", {lua_str(path_prefix)} .. items[math.random(#items)])
end
function check(status, headers, body) return status == 200 end
"""


def redis_answers() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception:
        return False
    return True


OUT = Path(__file__).parent / "out"
COPIED = ("organisations", "registrars", "domains", "ip_blocks", "asns")  # what lookups read


def cached_store(args: argparse.Namespace) -> Path:
    """A SQLite store loaded through the real importers, made once per size under
    benchmarks/out/ (with its key ring, and the names and addresses wrk asks for); reruns
    copy it. A million names take minutes of import, more on a shared machine."""
    store = OUT / f"rdap-store-{args.domains}-{args.blocks}-{args.organisations}"
    if (store / "done.json").exists():
        print(f"  reusing {store} ({json.loads((store / 'done.json').read_text())})", flush=True)
        return store
    partial = store.with_name(store.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env["DINHDANH_DATA_DIR"] = str(partial / "data")
    started = time.perf_counter()
    cli(env, "init", "--json")
    names, addresses, took = load(env, partial, args)
    (partial / "names.txt").write_text("\n".join(names) + "\n")
    (partial / "ips.txt").write_text("\n".join(addresses) + "\n")
    for feed in ("orgs.csv", "domains.csv", "blocks.csv"):
        (partial / feed).unlink()
    took["total_s"] = round(time.perf_counter() - started, 1)
    (partial / "done.json").write_text(json.dumps(took))
    partial.rename(store)
    return store


def copy_to_postgres(sqlite_db: Path, url: str) -> float:
    """The importers' rows, as stored in the cached SQLite store, copied into PostgreSQL
    (`dinhdanh init` made its schema) with COPY: the same rows, without importing twice."""
    import psycopg
    from sqlalchemy import create_engine, select
    from sqlalchemy.engine import make_url

    from dinhdanh.internet import models
    from dinhdanh.store import Base

    assert models.Domain.__tablename__ in Base.metadata.tables  # the models are registered
    started = time.perf_counter()
    source = create_engine(f"sqlite:///{sqlite_db}")
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    tables = Base.metadata.tables  # the models' types read SQLite's dates, booleans, blobs
    with source.connect() as src, psycopg.connect(libpq) as dst:
        for name in COPIED:
            table = tables[name]
            cols = [c.name for c in table.columns]
            n = 0
            with dst.cursor().copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in src.execution_options(yield_per=20_000).execute(select(table)):
                    copy.write_row(tuple(row))
                    n += 1
            print(f"  copied {n:,} {name} rows to PostgreSQL", flush=True)
        dst.execute("ANALYZE")
        dst.commit()
    source.dispose()
    return time.perf_counter() - started


def run_backend(args: argparse.Namespace, backend: str, url: str | None) -> list[dict[str, Any]]:
    store = cached_store(args)
    work = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-rdap-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env |= {"DINHDANH_DATA_DIR": str(work / "data"), "DINHDANH_RDAP_RATE_LIMIT": "1000000000"}
    env |= dict(args.env)
    if url:
        env["DINHDANH_DATABASE_URL"] = url
    rows: list[dict[str, Any]] = []
    try:
        t = time.perf_counter()
        shutil.copytree(store / "data", work / "data")
        if url:
            (work / "data" / "dinhdanh.db").unlink()
            for extra in ("dinhdanh.db-wal", "dinhdanh.db-shm"):
                (work / "data" / extra).unlink(missing_ok=True)
            cli(env, "init", "--json")
            copy_to_postgres(store / "data" / "dinhdanh.db", url)
        print(f"  store ready in {time.perf_counter() - t:.1f} s", flush=True)
        names = (store / "names.txt").read_text().split()
        addresses = (store / "ips.txt").read_text().split()
        shutil.copy(store / "names.txt", work / "names.txt")
        shutil.copy(store / "ips.txt", work / "ips.txt")
        token = officer_token(env)
        staff = {"Authorization": f"Bearer {token}"} | BASIS
        servers = [("database", "on", {})]
        if args.redis and redis_answers():
            servers.append(("redis", "on", {"DINHDANH_REDIS_URL": REDIS_URL}))
        if args.uncached:  # every answer built: what a name not asked for lately costs
            servers.append(("database", "off", {"DINHDANH_RDAP_CACHE_SIZE": "0"}))
        for limiter, cache, extra in servers:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with server(env | extra, port, work / f"server-{limiter}.log", args.workers) as proc:
                expect(httpx.get(f"{base}/rdap/domain/{names[0]}"), 200, "domain lookup")
                expect(httpx.get(f"{base}/rdap/ip/{addresses[0]}"), 200, "ip lookup")
                got = expect(httpx.get(f"{base}/rdap/domain/{names[0]}", headers=staff), 200, "x")
                assert "Full record" in got.text
                scenarios = [
                    ("anonymous", "domain", "/rdap/domain/", work / "names.txt", {}),
                    ("anonymous", "ip", "/rdap/ip/", work / "ips.txt", {}),
                ]
                if (limiter, cache) == ("database", "on"):  # officers: not limited, not kept
                    scenarios += [
                        ("officer", "domain", "/rdap/domain/", work / "names.txt", staff),
                        ("officer", "ip", "/rdap/ip/", work / "ips.txt", staff),
                    ]
                for who, kind, prefix, inputs, headers in scenarios:
                    script = lua(prefix, inputs, headers)
                    run_wrk(
                        base + prefix,
                        script,
                        seconds=args.warmup,
                        connections=args.connections,
                        threads=1,
                        server_pid=proc.pid,
                    )  # warm-up (and, with the cache on, it fills)
                    runs = []
                    for _ in range(args.runs):
                        load0 = os.getloadavg()[0]
                        busy0, total0 = cpu_busy()
                        res = run_wrk(
                            base + prefix,
                            script,
                            seconds=args.seconds,
                            connections=args.connections,
                            threads=1,
                            server_pid=proc.pid,
                        )
                        busy1, total1 = cpu_busy()
                        wall = (total1 - total0) / (os.cpu_count() or 1)
                        other = max(
                            0.0,
                            (busy1 - busy0) / wall - res.server_cpu_cores - res.client_cpu_cores,
                        )
                        runs.append((res, other, load0))
                    runs.sort(key=lambda r: r[0].rate)
                    res, other, load0 = runs[len(runs) // 2]  # the median run by rate
                    row = {
                        "backend": backend,
                        "limiter": limiter if who == "anonymous" else "-",
                        "cache": cache if who == "anonymous" else "-",
                        "who": who,
                        "lookup": kind,
                        "rate": round(res.rate, 1),
                        "rates": [round(r[0].rate) for r in runs],
                        "p50_ms": round(res.p50_ms, 2),
                        "p99_ms": round(res.p99_ms, 2),
                        "errors": sum(r[0].errors for r in runs),
                        "server_cores": round(res.server_cpu_cores, 2),
                        "client_cores": round(res.client_cpu_cores, 2),
                        "other_cores": round(other, 2),
                        "load1": round(load0, 1),
                    }
                    rows.append(row)
                    print(f"  {line(row)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def line(r: dict[str, Any]) -> str:
    errors = "" if not r["errors"] else f"  <-- {r['errors']} ERRORS"
    return (
        f"{r['backend']:8} {r['who']:9} {r['lookup']:6} limiter {r['limiter']:8} "
        f"cache {r['cache']:3} {r['rate']:7,.0f}/s (runs {r['rates']})  "
        f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  load {r['load1']}  "
        f"CPU server {r['server_cores']:.2f}, wrk {r['client_cores']:.2f}, "
        f"other {r['other_cores']:.2f}{errors}"
    )


@contextmanager
def database(backend: str) -> Iterator[str | None]:
    with scratch_postgres() if backend == "postgres" else nullcontext(None) as url:
        yield url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", type=int, default=1_000_000)
    ap.add_argument("--blocks", type=int, default=100_000)
    ap.add_argument("--organisations", type=int, default=20_000)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3, help="runs per row; the median is shown")
    ap.add_argument("--warmup", type=float, default=3, help="seconds before the runs")
    ap.add_argument("--redis", action="store_true", help="also the Redis limiter")
    ap.add_argument(
        "--uncached", action="store_true", help="also anonymous runs with the answer cache off"
    )
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        type=lambda kv: tuple(kv.split("=", 1)),
        help="KEY=VALUE for the server (e.g. DINHDANH_RDAP_CACHE_SIZE=0), repeatable",
    )
    ap.add_argument("--prepare", action="store_true", help="only make the cached store, then exit")
    args = ap.parse_args()
    if args.prepare:
        cached_store(args)
        return
    require_wrk()
    print(machine_line())
    print(
        f"{args.domains:,} domains, {args.blocks:,} IP blocks, {args.organisations:,} "
        f"organisations; `dinhdanh serve --workers {args.workers}`; wrk -t1 "
        f"-c{args.connections}, {args.seconds:g} s per run",
        flush=True,
    )
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        print(f"{backend}:", flush=True)
        with database(backend) as url:
            rows += run_backend(args, backend, url)
    print("\nsummary (target: anonymous >= 3,000/s, p99 < 20 ms)")
    for r in rows:
        met = r["rate"] >= ANON_TARGET and r["p99_ms"] < P99_TARGET_MS
        mark = "" if r["who"] != "anonymous" else ("  met" if met else "  MISSED")
        print(line(r) + mark)
    print(f"total {time.perf_counter() - started:.0f} s")
    print(json.dumps(rows))
    if any(r["errors"] for r in rows):
        raise SystemExit("!!! errors in the runs !!!")


if __name__ == "__main__":
    main()
