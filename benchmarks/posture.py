"""Perimeter scan of local endpoints (issue 13): ours end to end against sslyze's own
concurrent scanner, in the same run, on the same servers.

    .venv/bin/python benchmarks/posture.py [--endpoints 2000] [--concurrency 32]

--endpoints HTTPS servers (Python's ssl + http.server, one thread each) listen on distinct
loopback addresses (127.11.0.0/16); one in four has a self-signed certificate, one in four
no security headers. A fresh SQLite data directory gets the internet register (an
organisation, its 127.11.0.0/16 block), the agency and one system holding every endpoint.

Ours: `Scanner.run` (sslyze per endpoint in its own environment, the HTTP header probe,
the checks, findings stored per item), no risky-port or DNS items. Peer: one
`python -m sslyze` over all endpoints at once with the same scan commands (TLS only).
Printed: endpoints per second of each, peak memory (this process, and the largest child),
and whether the TLS findings agree (the peer's JSON judged by the same check_tls).
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

sys.path.insert(0, str(Path(__file__).parent.parent))

from tests.posture.servers import GOOD_HEADERS, http_server, make_ca, make_leaf, tls_context

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
CTX = AccessContext("operator:bench", "operator", "posture benchmark")


def host(i: int) -> str:
    return f"127.11.{i // 250}.{i % 250 + 1}"


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoints", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
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
    with ExitStack() as stack:
        urls, targets = [], []
        for i in range(args.endpoints):
            h = host(i)
            cert, key = make_leaf([h], None if i % 4 == 1 else ca).write(tmp, h)
            headers = () if i % 4 == 2 else GOOD_HEADERS
            port = stack.enter_context(
                http_server(h, headers=headers, context=tls_context(cert, key))
            )
            urls.append(f"https://{h}:{port}")
            targets.append(f"{h}:{port}")
        with c.unit_of_work() as s:
            c.posture.register.add_agency(s, ORG, EVERYONE, now)
            c.posture.register.add_system(
                s, ORG, "Benchmark", 3, endpoints=urls, blocks=["127.11.0.0/16"],
                scope=EVERYONE, by=CTX, now=now,
            )  # fmt: skip
        roots = load_roots(ca.pem())
        config = ScanConfig(concurrency=args.concurrency, per_host=2, timeout=10, retries=1)
        scanner = Scanner(
            c.posture.register, config, Sslyze(SSLYZE, None), roots, resolver_for(None, 5)
        )
        t0 = time.perf_counter()
        report = scanner.run(c.unit_of_work, c.clock)
        ours_s = time.perf_counter() - t0
        ours_rss = maxrss_mib(resource.RUSAGE_SELF)
        ours_child = maxrss_mib(resource.RUSAGE_CHILDREN)
        out = tmp / "peer.json"
        t0 = time.perf_counter()
        subprocess.run(
            [SSLYZE, "-m", "sslyze", f"--json_out={out}", "--quiet", *SSLYZE_COMMANDS, *targets],
            check=True, capture_output=True,
        )  # fmt: skip
        peer_s = time.perf_counter() - t0
        peer_child = maxrss_mib(resource.RUSAGE_CHILDREN)
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
    print(f"posture scan, {n} HTTPS endpoints on loopback, concurrency {args.concurrency}, "
          f"{os.cpu_count()} CPUs (shared, loaded machine)")  # fmt: skip
    print(f"  ours : {ours_s:8.1f} s  {n / ours_s:7.2f} endpoints/s  done {report.done} "
          f"failed {report.failed}  peak RSS {ours_rss:.0f} MiB "
          f"(largest child {ours_child:.0f} MiB)")  # fmt: skip
    print(f"  peer : {peer_s:8.1f} s  {n / peer_s:7.2f} endpoints/s  (sslyze's own scanner, "
          f"TLS only; largest child {peer_child:.0f} MiB)")  # fmt: skip
    print(f"  TLS findings identical on {agree} of {n} endpoints")
    c.close()


if __name__ == "__main__":
    main()
