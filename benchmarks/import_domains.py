"""CPU per row of a registrar's domain upload (`dinhdanh import domains`), in-process.

    .venv/bin/python benchmarks/import_domains.py [--domains 50000] [--profile]

The synthetic feed of `benchmarks/rdap.py` (`dinhdanh.synth.internet`, fixed seeds: most
names Vietnamese IDNs, half with name servers), written as CSV, then a fresh SQLite data
directory, its organisations, and the domain import through `internet.importer` with one
process (``workers=1``), so that the process's CPU clock covers validation, preparation and
storage alike. On a shared machine CPU per row is steadier than wall time.
``--profile`` prints the top of a cProfile (CPU clock) of the domain import.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _load import machine_line
from dinhdanh.internet.domains import COLUMNS as DOMAIN_COLUMNS
from dinhdanh.internet.importer import Run, import_domains, import_organisations
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.synth.internet import generate_resources
from dinhdanh.synth.population import generate_population
from dinhdanh.wiring import build
from oidc import cli
from rdap import write_csv


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", type=int, default=50_000)
    ap.add_argument("--organisations", type=int, default=20_000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    print(machine_line())
    work = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-domains-"))
    try:
        people = list(generate_population(max(1000, args.domains // 20), seed=7))
        res = generate_resources(
            organisations=args.organisations, domains=args.domains, people=people
        )
        orgs = write_csv(work / "orgs.csv", res.organisations, list(res.organisations[0]))
        domains = write_csv(work / "domains.csv", res.domains, list(DOMAIN_COLUMNS))
        env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
        env["DINHDANH_DATA_DIR"] = str(work / "data")
        cli(env, "init", "--json")
        cli(env, "registrars", "add", "BENCH", "--name", "Bench registrar", "--json")
        c = build(Settings(data_dir=work / "data"))
        ctx = AccessContext("operator:bench", "registrar_upload", "benchmark")
        run = Run(unit_of_work=c.unit_of_work, clock=c.clock, today=c.clock().date(), workers=1)
        import_organisations(orgs, internet=c.internet, ring=c.ring, ctx=ctx, run=run)
        prof = cProfile.Profile(time.process_time) if args.profile else None
        print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
        wall, cpu = time.perf_counter(), cpu_seconds()
        if prof:
            prof.enable()
        report = import_domains(
            domains, registrar="BENCH", internet=c.internet, ring=c.ring, ctx=ctx, run=run
        )
        if prof:
            prof.disable()
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        n = report.total_rows
        print(
            f"{n:,} rows ({report.counts.created:,} created, {report.rejected_count:,} "
            f"rejected): {cpu:.1f} s CPU, {n / cpu:,.0f} rows per CPU-second; "
            f"wall {wall:.1f} s; load average after {os.getloadavg()[0]:.1f}"
        )
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        c.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
