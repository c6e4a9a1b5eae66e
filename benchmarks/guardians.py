"""Derive the registry's guardian links after a citizen import (``Guardians.sync_registry``).

Imports N synthetic citizens (fixed seed) into a scratch SQLite data directory through the
importer, then times the derivation of their guardian links, and a second derivation with
nothing new (what an import that changed something but no guardian pays at least). The peer
in the same run is the import itself.

    .venv/bin/python benchmarks/guardians.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from dinhdanh.identity.importer import import_citizens
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.synth import generate_population, write_citizens_csv
from dinhdanh.wiring import build, init_data_dir

CTX = AccessContext("bench", "registry_import", "benchmark")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    data = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-"))
    try:
        feed = data / "citizens.csv"
        write_citizens_csv(generate_population(args.rows, seed=20250101), feed)
        settings = Settings(data_dir=data / "var")
        init_data_dir(settings)[1].dispose()
        c = build(settings)
        t = time.perf_counter()
        import_citizens(
            feed,
            registry=c.registry,
            unit_of_work=c.unit_of_work,
            ctx=CTX,
            clock=c.clock,
            today=c.clock().date(),
            workers=1,
        )
        imported = time.perf_counter() - t
        t = time.perf_counter()
        with c.unit_of_work() as session:
            added, _, refused = c.guardians.sync_registry(session, CTX, c.clock())
        derived = time.perf_counter() - t
        t = time.perf_counter()
        with c.unit_of_work() as session:
            c.guardians.sync_registry(session, CTX, c.clock())
        again = time.perf_counter() - t
        c.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"import (peer)  {args.rows:>9,} citizens in {imported:6.1f} s")
    print(
        f"derive links   {len(added):>9,} links in {derived:6.1f} s = "
        f"{len(added) / derived:8,.0f} links/s ({refused:,} pairs refused by the rules)"
    )
    print(f"derive again   nothing new in {again:6.1f} s")


if __name__ == "__main__":
    main()
