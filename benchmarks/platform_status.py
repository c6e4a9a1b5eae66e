"""Throughput of the platforms' status API (issue 10) on PostgreSQL, under `dinhdanh serve`.

    .venv/bin/python benchmarks/platform_status.py [--accounts 100000] [--seconds 10] [--runs 3]

A fresh PostgreSQL database (DINHDANH_BENCH_POSTGRES_URL, default the local trust-auth server,
created and dropped), `dinhdanh init`, one platform registered with `dinhdanh platforms add`
(its real API key is what every request sends), and --accounts bound accounts. The bindings
are not made one ID token at a time: their rows are built here with the service's own pieces
(account key, sealed subject and its context, the platform's pairwise subject) for random
subjects, as `Social.bind_login` builds them, and loaded with the bulk path (COPY), then
VACUUM ANALYZE (what autovacuum leaves after a load); about one person in ten holds two to
seven accounts, so ACCOUNT_LIMIT flags occur. The read path is the real one: `dinhdanh serve
--workers N` (granian, default 2) over HTTP on 127.0.0.1.

Load comes from `wrk` (Debian package `wrk`) with a Lua script: single lookups
(GET .../accounts/{id}/status, ids drawn at random, one in eleven unbound) and batch calls
(POST .../accounts:status with 1,000 ids). Each scenario runs --runs times; each run prints
requests/s, p50 and p99 latency, and the CPU (cores) taken by the server's processes, by wrk
(the client), by the benchmark database's PostgreSQL backends and by everything else on the
machine (other processes share it). The table gives the median of the runs.

Targets (issue 10, 2 vCPUs, PostgreSQL): at least 2,000 single lookups/s and 100 batch calls
of 1,000 ids/s, p99 under 50 ms. At the end the platform's read counter
(``platform_status_reads``) is compared with the ids wrk got answers for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _load import WrkResult, lua_str, machine_line, require_wrk, run_wrk, tree_cpu_seconds
from _measure import scratch_postgres
from oidc import cli, expect, free_port, server

CODE = "bench"
BATCH = 1000
BODIES = 50  # distinct batch bodies, cycled through
TARGETS = {"single": 2000, "batch": 100}
P99_TARGET_MS = 50


def seed(data_dir: Path, database_url: str, accounts: int) -> list[str]:
    """Bind ``accounts`` account ids of the platform; returns them."""
    from dinhdanh.crypto import seal
    from dinhdanh.settings import Settings
    from dinhdanh.social import models as m
    from dinhdanh.store.bulk import insert_rows
    from dinhdanh.store.ids import uuid7s
    from dinhdanh.wiring import build

    c = build(Settings(data_dir=data_dir, database_url=database_url))
    rng = random.Random(20260101)
    now = datetime.now(UTC)
    social, provider = c.social, c.auth.provider
    ids = [f"acct-{i:07d}" for i in range(accounts)]
    columns = [col.name for col in m.Binding.__table__.columns]
    try:
        with c.unit_of_work() as session:
            client = c.auth.clients.get(session, social._platform(session, CODE).client_id)
            if client is None:
                raise SystemExit("the platform's client is missing")
            rows: list[tuple[Any, ...]] = []
            row_ids, subjects = uuid7s(accounts, now), iter(uuid7s(accounts, now))
            i = 0
            while i < accounts:
                subject = next(subjects)
                sub = provider.subject(client, subject)
                held = rng.randint(2, 7) if rng.random() < 0.1 else 1
                for account_id in ids[i : i + held]:
                    key = social._account_key(CODE, account_id)
                    sealed = json.dumps({"subject": subject, "account": account_id}).encode()
                    adult = rng.random() < 0.8
                    row = {
                        "id": row_ids[len(rows)],
                        "platform": CODE,
                        "account_key": key,
                        "pairwise_sub": sub,
                        "subject_sealed": seal(c.ring, sealed, social._seal_context(CODE, key)),
                        "method": "login",
                        "acr": rng.choice(["1", "2"]),
                        "age_over_13": True,
                        "age_over_16": adult or rng.random() < 0.5,
                        "age_over_18": adult,
                        "owner_deceased": rng.random() < 0.001,
                        "checked_at": now,
                        # Bound by login: no phone number, no guardian.
                        "number_key": None,
                        "number_junk": False,
                        "guardian_state": None,
                        "guardian_link": None,
                        "accounts": len(ids[i : i + held]),  # as Social._bind keeps it
                    }
                    rows.append(tuple(row[name] for name in columns))
                i += held
            insert_rows(session, m.Binding.__table__, columns, rows)  # type: ignore[arg-type]
        # As autovacuum leaves a table after a load (PostgreSQL 13+ vacuums after inserts):
        # statistics for the planner, the visibility map for index-only counts.
        with c.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE platform_bindings")
    finally:
        c.close()
    return ids


def reads_counted(data_dir: Path, database_url: str) -> int:
    from dinhdanh.settings import Settings
    from dinhdanh.wiring import build

    c = build(Settings(data_dir=data_dir, database_url=database_url))
    try:
        with c.unit_of_work() as session:
            return c.social.reads(session, CODE, datetime.now(UTC).date())
    finally:
        c.close()


def lua_single(key: str, ids_file: Path) -> str:
    return f"""
wrk.headers["Authorization"] = {lua_str("Bearer " + key)}
local ids = {{}}
function init(args)
  for line in io.lines({lua_str(str(ids_file))}) do ids[#ids + 1] = line end
  math.randomseed(tid * 7919)
end
function request()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", {lua_str(f"/api/v1/platforms/{CODE}/accounts/")} .. id .. "/status")
end
function check(status, headers, body) return status == 200 end
"""


def lua_batch(key: str, bodies_dir: Path) -> str:
    return f"""
wrk.method = "POST"
wrk.headers["Authorization"] = {lua_str("Bearer " + key)}
wrk.headers["Content-Type"] = "application/json"
local bodies, i = {{}}, 0
function init(args)
  for n = 0, {BODIES - 1} do
    local f = io.open({lua_str(str(bodies_dir))} .. "/" .. n .. ".json")
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
  i = tid * 7
end
function request()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
function check(status, headers, body) return status == 200 end
"""


class PostgresCpu:
    """CPU seconds of the PostgreSQL backends serving the benchmark's database, and of the
    server's background processes (WAL writer, checkpointer, background writer, autovacuum:
    shared by every database of the server, so other sessions' work is in them too)."""

    BACKENDS = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    BACKGROUND = "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'"

    def __init__(self, url: str) -> None:
        libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.conn = psycopg.connect(libpq, autocommit=True)
        self.before: dict[int, float] = {}
        self.before_bg: dict[int, float] = {}

    def _cpu(self, sql: str) -> dict[int, float]:
        return {pid: tree_cpu_seconds(pid) for (pid,) in self.conn.execute(sql)}

    def start(self) -> None:
        self.before, self.before_bg = self._cpu(self.BACKENDS), self._cpu(self.BACKGROUND)

    def seconds(self) -> tuple[float, float]:
        """(backends, background) since start(); a process that started since counts whole,
        one that ended is lost."""
        after, bg = self._cpu(self.BACKENDS), self._cpu(self.BACKGROUND)
        return (
            sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items()),
            sum(cpu - self.before_bg.get(pid, 0.0) for pid, cpu in bg.items()),
        )


def cpu_kernel() -> tuple[float, float]:
    """(interrupts and soft interrupts, steal) CPU seconds of the machine since boot: time
    no process is charged with (loopback TCP is handled in soft interrupts), and time the
    hypervisor gave to other guests."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    return (fields[5] + fields[6]) / tick, fields[7] / tick


def cpu_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / tick, sum(fields) / tick


def bench(args: argparse.Namespace, url: str) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-status-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env |= {"DINHDANH_DATA_DIR": str(work / "data"), "DINHDANH_DATABASE_URL": url}
    try:
        return _bench(args, env, work, url)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, env: dict[str, str], work: Path, url: str) -> dict[str, Any]:
    cli(env, "init", "--json")
    plat = cli(
        env,
        "platforms",
        "add",
        CODE,
        "--name",
        "Bench platform",
        "--json",
        "--redirect-uri",
        "https://bench.example/cb",
    )
    key = plat["api_key"]
    t = time.perf_counter()
    bound = seed(work / "data", url, args.accounts)
    print(f"seeded {len(bound):,} bound accounts in {time.perf_counter() - t:.1f} s", flush=True)
    unbound = [f"none-{i:07d}" for i in range(len(bound) // 10)]
    ids_file = work / "ids.txt"
    ids_file.write_text("\n".join(bound + unbound) + "\n")
    bodies = work / "bodies"
    bodies.mkdir()
    rng = random.Random(7)
    for n in range(BODIES):
        chosen = rng.sample(bound, BATCH - BATCH // 11) + rng.sample(unbound, BATCH // 11)
        rng.shuffle(chosen)
        (bodies / f"{n}.json").write_text(json.dumps({"account_ids": chosen}))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    prefix = f"{base}/api/v1/platforms/{CODE}"
    auth = {"Authorization": f"Bearer {key}"}
    sent_ids = 0  # ids in the requests answered 200, for the counter check at the end
    runs: dict[str, list[dict[str, Any]]] = {"single": [], "batch": []}
    with server(env, port, work / "server.log", args.workers) as proc:
        # Sanity: a bound account answers verified, an unbound one not, through the real path.
        got = expect(httpx.get(f"{prefix}/accounts/{bound[0]}/status", headers=auth), 200, "read")
        if got.json()["verified"] is not True:
            raise SystemExit(f"a bound account reads as {got.json()}")
        got = expect(httpx.get(f"{prefix}/accounts/{unbound[0]}/status", headers=auth), 200, "read")
        if got.json()["verified"] is not False:
            raise SystemExit(f"an unbound account reads as {got.json()}")
        r = httpx.post(
            f"{prefix}/accounts:status", json={"account_ids": bound[:BATCH]}, headers=auth
        )
        items = expect(r, 200, "batch read").json()["items"]
        if len(items) != BATCH or not all(x["verified"] for x in items):
            raise SystemExit("a batch read of bound accounts did not answer them all verified")
        sent_ids += 2 + BATCH

        scenarios = {
            "single": (f"{prefix}/accounts/x/status", lua_single(key, ids_file), args.connections),
            "batch": (f"{prefix}/accounts:status", lua_batch(key, bodies), args.batch_connections),
        }
        pg = PostgresCpu(url)
        for name, (target, lua, conns) in scenarios.items():
            warm = run_wrk(
                target, lua, seconds=3, connections=conns, threads=1, server_pid=proc.pid
            )
            sent_ids += warm.statuses.get("200", 0) * (1 if name == "single" else BATCH)
            for n in range(args.runs):
                busy0, total0 = cpu_busy()
                irq0, steal0 = cpu_kernel()
                pg.start()
                res = run_wrk(
                    target,
                    lua,
                    seconds=args.seconds,
                    connections=conns,
                    threads=1,
                    server_pid=proc.pid,
                )
                pg_seconds, pg_background = pg.seconds()
                busy1, total1 = cpu_busy()
                irq1, steal1 = cpu_kernel()
                wall = (total1 - total0) / (os.cpu_count() or 1)
                sent_ids += res.statuses.get("200", 0) * (1 if name == "single" else BATCH)
                row = describe(res, (busy1 - busy0) / wall, pg_seconds / wall)
                row |= {
                    "pg_background_cores": round(pg_background / wall, 2),
                    "irq_cores": round((irq1 - irq0) / wall, 2),
                    "steal_cores": round((steal1 - steal0) / wall, 2),
                }
                runs[name].append(row)
                print(f"  {name:6} run {n + 1}: {line(row)}", flush=True)
    counted = reads_counted(work / "data", url)
    return {"runs": runs, "counted": counted, "sent_ids": sent_ids}


def describe(res: WrkResult, machine_cores: float, pg_cores: float) -> dict[str, Any]:
    ours = res.server_cpu_cores + res.client_cpu_cores + pg_cores
    return {
        "rate": round(res.rate, 1),
        "p50_ms": round(res.p50_ms, 2),
        "p99_ms": round(res.p99_ms, 2),
        "errors": res.errors,
        "requests": res.requests,
        "server_cores": round(res.server_cpu_cores, 2),
        "client_cores": round(res.client_cpu_cores, 2),
        "postgres_cores": round(pg_cores, 2),
        "other_cores": round(max(0.0, machine_cores - ours), 2),
    }


def line(r: dict[str, Any]) -> str:
    errors = "" if not r["errors"] else f"  <-- {r['errors']} ERRORS"
    return (
        f"{r['rate']:8,.0f}/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
        f"CPU server {r['server_cores']:.2f}, wrk {r['client_cores']:.2f}, "
        f"PostgreSQL {r['postgres_cores']:.2f}, other {r['other_cores']:.2f} cores "
        f"(of which PostgreSQL background {r.get('pg_background_cores', 0):.2f}, "
        f"interrupts {r.get('irq_cores', 0):.2f}, steal {r.get('steal_cores', 0):.2f}); "
        f"per call: server {per_call(r, 'server_cores')}, "
        f"PostgreSQL {per_call(r, 'postgres_cores')}{errors}"
    )


def per_call(r: dict[str, Any], cores: str) -> str:
    """CPU per call of the cores named, in milliseconds."""
    return f"{r[cores] / r['rate'] * 1000:.2f} ms" if r["rate"] else "-"


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000, help="bound accounts")
    ap.add_argument("--seconds", type=float, default=10, help="length of each wrk run")
    ap.add_argument("--runs", type=int, default=3, help="runs of each scenario (median)")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections, single")
    ap.add_argument("--batch-connections", type=int, default=2, help="wrk connections, batch")
    args = ap.parse_args()
    require_wrk()
    print(machine_line())
    started = time.perf_counter()
    with scratch_postgres() as url:
        result = bench(args, url)
    print(
        f"\nPostgreSQL, {args.accounts:,} bound accounts, `dinhdanh serve --workers "
        f"{args.workers}` (granian); wrk -t1, {args.connections} connections (single), "
        f"{args.batch_connections} (batch of {BATCH:,}), {args.seconds:g} s per run; "
        f"median of {args.runs} runs"
    )
    print(
        f"{'scenario':24} {'calls/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'server':>6} {'wrk':>5} "
        f"{'pg':>5} {'other':>5}  target"
    )
    for name, rows in result["runs"].items():
        med = median_row(rows)
        ok = med["rate"] >= TARGETS[name] and med["p99_ms"] < P99_TARGET_MS
        label = "single lookups" if name == "single" else f"batch calls of {BATCH:,} ids"
        print(
            f"{label:24} {med['rate']:8,.0f} {med['p50_ms']:7.2f} {med['p99_ms']:7.2f} "
            f"{med['server_cores']:6.2f} {med['client_cores']:5.2f} {med['postgres_cores']:5.2f} "
            f"{med['other_cores']:5.2f}  "
            f">= {TARGETS[name]:,}/s, p99 < {P99_TARGET_MS} ms: {'met' if ok else 'MISSED'}"
        )
    print(
        "(CPU cores used during the runs by the server's processes, wrk, the database's "
        "PostgreSQL backends, and everything else on the machine)"
    )
    counted, sent = result["counted"], result["sent_ids"]
    print(
        f"read counter: {counted:,} ids counted by the server, {sent:,} in the answers wrk got "
        f"(the server also counts requests in flight when wrk stopped)"
    )
    errors = sum(r["errors"] for rows in result["runs"].values() for r in rows)
    if errors or counted < sent:
        raise SystemExit(f"!!! {errors} errors; counter {counted} < {sent} answered ids !!!")
    print(f"total {time.perf_counter() - started:.0f} s")
    print(json.dumps(result["runs"]))


if __name__ == "__main__":
    main()
