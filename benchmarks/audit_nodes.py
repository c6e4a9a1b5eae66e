"""Audited reads per second with 1, 2 and 4 server processes on one PostgreSQL (issue 14.4).

    .venv/bin/python benchmarks/audit_nodes.py [--nodes 1 2 4] [--seconds 10] [--before REF]
        [--pool-size N]

Each "node" is a `dinhdanh serve --workers 1` process on a port of its own (standing in for a
machine), all on one fresh PostgreSQL database (DINHDANH_BENCH_POSTGRES_URL, default the local
trust-auth server, created and dropped), behind HAProxy (Debian package `haproxy`, round robin
per request, keep-alive to the nodes). `dinhdanh init` and `dinhdanh demo --count 1000` seed
the population and the demo officer's personal token. The load is `wrk` (Debian package
`wrk`): officer lookups (POST /api/v1/citizens:lookup, a citizen drawn at random, a legal
basis and a case reference), each of which reads a record and appends one audit entry.

The same runs are made with the code of git ref --before (default `main`: its `src/` is
exported to a temporary directory and put first on PYTHONPATH of the nodes and of the CLI
calls; same dependencies) and with this checkout's code ("after"). Each line: requests/s,
p50 and p99 latency, the CPU the nodes took (cores) and per request (ms), PostgreSQL's CPU
(cores), and the load average before the run (the machine is shared).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from _load import lua_str, machine_line, require_wrk, run_wrk
from _measure import scratch_postgres
from oidc import EXE, free_port
from platform_status import PostgresCpu

REPO = Path(__file__).resolve().parent.parent
COUNT = 1000
CONNECTIONS = 16
LAWFUL = {"legal_basis": "criminal_investigation", "case_ref": "bench 2026/001"}


def export_src(ref: str, into: Path) -> Path:
    """``src/`` of git ref ``ref``, written under ``into``; returns the directory to import."""
    archive = into / "src.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "-C", str(REPO), "archive", ref, "src"], stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def cli(env: dict[str, str], *args: str) -> Any:
    proc = subprocess.run([EXE, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"dinhdanh {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout) if "--json" in args else None


def haproxy_config(port: int, nodes: list[int]) -> str:
    servers = "\n".join(f"  server n{i} 127.0.0.1:{p}" for i, p in enumerate(nodes))
    return f"""global
  maxconn 2000
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend lb
  bind 127.0.0.1:{port}
  default_backend nodes
backend nodes
  balance roundrobin
{servers}
"""


@contextlib.contextmanager
def cluster(env: dict[str, str], n: int, work: Path) -> Iterator[tuple[int, int]]:
    """``n`` nodes under one shell (one process tree: their CPU is read at its root) and
    HAProxy before them; yields (the balancer's port, the root's pid)."""
    ports = [free_port() for _ in range(n)]
    serve = [
        shlex.join([EXE, "serve", "--workers", "1", "--host", "127.0.0.1", "--port", str(p)])
        + " --log-level warning &"
        for p in ports
    ]
    log = work / f"nodes-{n}.log"
    with log.open("wb") as out:
        root = subprocess.Popen(
            ["sh", "-c", " ".join([*serve, "wait"])],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    lb_port = free_port()
    cfg = work / "haproxy.cfg"
    cfg.write_text(haproxy_config(lb_port, ports))
    lb: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 120
        for p in ports:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{p}/healthz").status_code == 200:
                        break
                if root.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the nodes did not start:\n{log.read_text()}")
                time.sleep(0.2)
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        lb = subprocess.Popen([haproxy, "-f", str(cfg), "-db"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        yield lb_port, root.pid
    finally:
        if lb is not None:
            lb.terminate()
            lb.wait(10)
        os.killpg(root.pid, signal.SIGINT)  # each node signs its audit tip as it stops
        try:
            root.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(root.pid, signal.SIGKILL)
            root.wait()


def lua_lookups(token: str, ids_file: Path) -> str:
    lawful = ", ".join(f'"{k}":"{v}"' for k, v in LAWFUL.items())
    return f"""
wrk.method = "POST"
wrk.headers["Authorization"] = {lua_str("Bearer " + token)}
wrk.headers["Content-Type"] = "application/json"
local ids = {{}}
function init(args)
  for line in io.lines({lua_str(str(ids_file))}) do ids[#ids + 1] = line end
  math.randomseed(tid * 7919)
end
function request()
  local id = ids[math.random(#ids)]
  return wrk.format(nil, nil, nil, '{{"id_number":"' .. id .. '",{lawful}}}')
end
function check(status, headers, body) return status == 200 end
"""


def one_code(label: str, pythonpath: str | None, args: argparse.Namespace) -> list[dict[str, Any]]:
    from dinhdanh.cli.demo.base import DEMO_SEED
    from dinhdanh.synth import generate_population

    rows = []
    with scratch_postgres() as url:
        work = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-nodes-"))
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
            env |= {"DINHDANH_DATA_DIR": str(work / "data"), "DINHDANH_DATABASE_URL": url}
            if pythonpath:
                env["PYTHONPATH"] = pythonpath
            if args.pool_size:
                env["DINHDANH_DB_POOL_SIZE"] = str(args.pool_size)
            cli(env, "init", "--json")
            cli(env, "demo", "--count", str(COUNT), "--json")
            token = (work / "data" / "demo-officer.key").read_text().strip()
            ids = [p.id_number for p in generate_population(COUNT, seed=DEMO_SEED)]
            ids_file = work / "ids.txt"
            ids_file.write_text("\n".join(ids) + "\n")
            pg = PostgresCpu(url)
            for n in args.nodes:
                with cluster(env, n, work) as (port, root):
                    base = f"http://127.0.0.1:{port}"
                    body = {"id_number": ids[0], **LAWFUL}
                    auth = {"Authorization": f"Bearer {token}"}
                    r = httpx.post(f"{base}/api/v1/citizens:lookup", json=body, headers=auth)
                    if r.status_code != 200:
                        raise SystemExit(f"a lookup answered {r.status_code}: {r.text}")
                    target = f"{base}/api/v1/citizens:lookup"
                    lua = lua_lookups(token, ids_file)
                    run_wrk(
                        target, lua, seconds=3, connections=CONNECTIONS, threads=1, server_pid=root
                    )
                    load = os.getloadavg()[0]
                    pg.start()
                    res = run_wrk(
                        target,
                        lua,
                        seconds=args.seconds,
                        connections=CONNECTIONS,
                        threads=1,
                        server_pid=root,
                    )
                    backends, _background = pg.seconds()
                    pg_cores = backends / res.seconds if res.seconds else 0.0
                row = {
                    "code": label,
                    "nodes": n,
                    "rate": round(res.rate, 1),
                    "p50_ms": round(res.p50_ms, 1),
                    "p99_ms": round(res.p99_ms, 1),
                    "errors": res.errors,
                    "node_cores": round(res.server_cpu_cores, 2),
                    "cpu_ms_per_read": round(1000 * res.server_cpu_cores / res.rate, 2)
                    if res.rate
                    else None,
                    "pg_cores": round(pg_cores, 2),
                    "load_before": round(load, 2),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
            verified = cli(env, "audit", "verify", "--json")
            print(f"  {label}: audit verify {verified}", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--before", default="main", help="git ref of the code before")
    ap.add_argument("--only", choices=["before", "after"], help="run one side only")
    ap.add_argument(
        "--pool-size", type=int, help="DINHDANH_DB_POOL_SIZE of the nodes (default: theirs)"
    )
    args = ap.parse_args()
    require_wrk()
    print(machine_line(), flush=True)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dinhdanh-before-") as tmp:
        if args.only != "after":
            rows += one_code("before", str(export_src(args.before, Path(tmp))), args)
        if args.only != "before":
            rows += one_code("after", None, args)
    print(
        "\n| code | nodes | audited reads/s | p50 | p99 | node CPU | CPU/read | PostgreSQL | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['code']} | {r['nodes']} | {r['rate']} | {r['p50_ms']} ms | {r['p99_ms']} ms"
            f" | {r['node_cores']} cores | {r['cpu_ms_per_read']} ms | {r['pg_cores']} cores"
            f" | {r['load_before']} |"
        )


if __name__ == "__main__":
    sys.exit(main())
