"""Perimeter scan of local endpoints (issue 13): ours end to end against sslyze's own
concurrent scanner, in the same run, on the same servers.

    .venv/bin/python benchmarks/posture.py [--endpoints 2000] [--concurrency 32]
        [--tls-batch 25] [--tls-parallel 2] [--fleet 2] [--peer-first]

--endpoints HTTPS servers listen on distinct loopback addresses (127.11.0.0/16), served by
--fleet processes of benchmarks/posture_fleet.py (one event loop each, no thread per
server); one in four has a self-signed certificate, one in four no security headers. A
fresh SQLite data directory gets the internet register (an
organisation, its 127.11.0.0/16 block), the agency and one system holding every endpoint.

Ours: `Scanner.run` (sslyze per endpoint in its own environment, the HTTP header probe,
the checks, findings stored per item), no risky-port or DNS items. Peer: sslyze's own
concurrent scanner (benchmarks/sslyze_peer.py: ``sslyze.Scanner`` over all endpoints at
once, the same scan commands, TLS only), allowed as many connections at a time as ours
(tls_parallel x 10 servers x 5 connections). Printed: endpoints per second, CPU seconds
(the process and its children, the fleet excluded), peak memory, the load average, and
whether the TLS findings agree (the peer's JSON judged by the same check_tls).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).parent.parent))

from tests.posture.servers import make_ca, make_leaf

from dinhdanh.crypto import generate_keyring, keyring_to_json
from dinhdanh.internet.importer import Run, import_ip_blocks, import_organisations
from dinhdanh.posture.checks import FAMILIES
from dinhdanh.posture.checks.tls import check_tls, from_sslyze, load_roots
from dinhdanh.posture.findings import findings
from dinhdanh.posture.probes import SSLYZE_COMMANDS, Sslyze, resolver_for
from dinhdanh.posture.register import EVERYONE
from dinhdanh.posture.scan import ScanConfig, Scanner
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.wiring import build, init_data_dir

ORG = "0100233488"
SSLYZE = ".venv-sslyze/bin/python"
SSLYZE_SCANS = 10  # sslyze's default number of servers scanned at once, per process
HERE = Path(__file__).parent
FLEET: list[int] = []  # pids of the fleet's processes
CTX = AccessContext("operator:bench", "operator", "posture benchmark")


def host(i: int) -> str:
    return f"127.11.{i // 250}.{i % 250 + 1}"


class Side(NamedTuple):
    """One contender's run: wall seconds, CPU seconds (itself and its children), the fleet's
    CPU seconds while serving it, and what else it prints."""

    wall: float
    cpu: float
    fleet: float
    extra: str


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User and system CPU of this process and of its children that ended."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def fleet_cpu(pids: list[int]) -> float:
    """CPU seconds the fleet's processes used so far (/proc/PID/stat utime + stime)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def fleet(stack: ExitStack, tmp: Path, spec: list[list[object]], part: int) -> list[int]:
    """One fleet process (benchmarks/posture_fleet.py) serving ``spec``; its ports."""
    path = tmp / f"fleet-{part}.json"
    path.write_text(json.dumps(spec))
    proc = stack.enter_context(
        subprocess.Popen(
            [sys.executable, str(HERE / "posture_fleet.py"), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    )
    stack.callback(proc.wait, 30)
    stack.callback(proc.stdin.close)  # type: ignore[union-attr]
    ports: list[int] = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
    FLEET.append(proc.pid)
    return ports


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoints", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--tls-batch", type=int, default=ScanConfig().tls_batch)
    ap.add_argument("--tls-parallel", type=int, default=ScanConfig().tls_parallel)
    ap.add_argument("--fleet", type=int, default=2, help="server processes")
    ap.add_argument("--peer-first", action="store_true", help="scan with the peer first")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="posture-bench-"))
    settings = Settings(data_dir=tmp / "var", keyring=keyring_to_json(generate_keyring()))
    init_data_dir(settings)[1].dispose()
    c = build(settings)
    now = datetime.now(UTC)
    run = Run(unit_of_work=c.unit_of_work, clock=lambda: now, today=now.date())
    org = {"tax_code": ORG, "name": "Cục Thử", "address": "", "status": "active",
           "established": "", "dissolved": "", "legal_rep_id_number": ""}  # fmt: skip
    import_organisations(
        write_csv(tmp / "o.csv", [org]), internet=c.internet, ring=c.ring, ctx=CTX, run=run
    )
    block = {"cidr": "127.11.0.0/16", "holder_tax_code": ORG, "asn": "", "allocated": "",
             "status": "allocated"}  # fmt: skip
    import_ip_blocks(write_csv(tmp / "b.csv", [block]), internet=c.internet, run=run)
    ca = make_ca()
    spec = []
    for i in range(args.endpoints):
        h = host(i)
        cert, key = make_leaf([h], None if i % 4 == 1 else ca).write(tmp, h)
        spec.append([h, str(cert), str(key), i % 4 != 2])  # one in four without headers
    with ExitStack() as stack:
        ports: list[int] = []
        for part in range(args.fleet):
            ports += fleet(stack, tmp, spec[part :: args.fleet], part)
        order = [i for part in range(args.fleet) for i in range(part, args.endpoints, args.fleet)]
        at = dict(zip(order, ports, strict=True))
        urls = [f"https://{host(i)}:{at[i]}" for i in range(args.endpoints)]
        targets = [u.removeprefix("https://") for u in urls]
        with c.unit_of_work() as s:
            c.posture.register.add_agency(s, ORG, EVERYONE, now)
            c.posture.register.add_system(
                s, ORG, "Benchmark", 3, endpoints=urls, blocks=["127.11.0.0/16"],
                scope=EVERYONE, by=CTX, now=now,
            )  # fmt: skip
        roots = load_roots(ca.pem())
        config = ScanConfig(
            concurrency=args.concurrency, per_host=2, timeout=10, retries=1,
            tls_batch=args.tls_batch, tls_parallel=args.tls_parallel,
        )  # fmt: skip
        scanner = Scanner(
            c.posture.register, config, Sslyze(SSLYZE, None), roots, resolver_for(None, 5)
        )
        load_before = os.getloadavg()
        out = tmp / "peer.json"
        # The same number of connections at a time: sslyze opens 5 per server, and ours
        # runs tls_parallel processes of 10 server scans each (sslyze's default).
        scans = SSLYZE_SCANS * args.tls_parallel

        def scan_ours() -> Side:
            cpu0, fleet0 = cpu_seconds(), fleet_cpu(FLEET)
            t0 = time.perf_counter()
            report = scanner.run(c.unit_of_work, c.clock)
            wall = time.perf_counter() - t0
            # The children's peak is the largest child so far: the peer's when it ran first.
            child = maxrss_mib(resource.RUSAGE_CHILDREN)
            largest = "n/a, the peer ran first" if args.peer_first else f"{child:.0f} MiB"
            extra = (
                f"done {report.done} failed {report.failed}  peak RSS "
                f"{maxrss_mib(resource.RUSAGE_SELF):.0f} MiB, largest sslyze {largest}  "
                f"({args.tls_parallel} sslyze processes x {SSLYZE_SCANS} servers x 5 "
                f"connections, batches of {args.tls_batch})"
            )
            return Side(wall, cpu_seconds() - cpu0, fleet_cpu(FLEET) - fleet0, extra)

        def scan_peer() -> Side:
            cpu0, fleet0 = cpu_seconds(), fleet_cpu(FLEET)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [SSLYZE, str(HERE / "sslyze_peer.py"), str(scans), str(out), *SSLYZE_COMMANDS,
                 *targets],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            wall = time.perf_counter() - t0
            extra = (
                f"peak RSS {float(proc.stdout.split()[-1]):.0f} MiB  (sslyze.Scanner, {scans} "
                f"servers x 5 connections, TLS only)"
            )
            return Side(wall, cpu_seconds() - cpu0, fleet_cpu(FLEET) - fleet0, extra)

        # The machine's load can change during a long run: --peer-first swaps the order, so
        # that two runs in both orders show whether going first favoured either side.
        if args.peer_first:
            peer_side = scan_peer()
            ours_side = scan_ours()
        else:
            ours_side = scan_ours()
            peer_side = scan_peer()
        load_after = os.getloadavg()
    peer: dict[str, set[str]] = {}
    for server in json.loads(out.read_text())["server_scan_results"]:
        loc = server["server_location"]
        url = f"https://{loc['hostname']}:{loc['port']}"
        try:
            obs = from_sslyze(url, loc["hostname"], server, False)
        except ValueError:
            continue
        peer[url] = {f.code for f in check_tls(obs, roots, c.clock())}
    ours: dict[str, set[str]] = {u: set() for u in urls}
    with c.unit_of_work() as s:
        for f in findings(s, c.clock(), include_info=True):
            if f.code in FAMILIES["tls"]:
                ours[f.target].add(f.code)
    agree = sum(ours[u] == peer.get(u) for u in urls)
    n = args.endpoints
    first = "peer" if args.peer_first else "ours"
    print(f"posture scan, {n} HTTPS endpoints on loopback ({args.fleet} fleet processes), "
          f"{os.cpu_count()} CPUs, {first} first; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after")  # fmt: skip
    for name, side in (("ours", ours_side), ("peer", peer_side)):
        per = 1000 * side.cpu / n
        print(f"  {name} : {side.wall:8.1f} s  {n / side.wall:7.2f} endpoints/s  CPU "
              f"{side.cpu:7.1f} s ({per:.0f} ms/endpoint)  {side.extra}")  # fmt: skip
    print(f"  TLS findings identical on {agree} of {n} endpoints")
    print(f"  fleet CPU serving ours {ours_side.fleet:.1f} s, serving the peer "
          f"{peer_side.fleet:.1f} s")  # fmt: skip
    c.close()


if __name__ == "__main__":
    main()
