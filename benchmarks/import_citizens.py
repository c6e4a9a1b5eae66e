"""Import N synthetic citizens with `dinhdanh import citizens` into SQLite and PostgreSQL.

Prints rows per second and the peak memory of the whole process tree (the importer and its
worker processes) for each database. The feed is generated once (fixed seed) under
benchmarks/out/ and reused.

    .venv/bin/python benchmarks/import_citizens.py [--rows 1000000] [--no-postgres]

PostgreSQL: DINHDANH_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/postgres);
a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure, scratch_postgres
from dinhdanh.synth import generate_population, write_citizens_csv

OUT = Path(__file__).parent / "out"
EXE = str(Path(sys.executable).parent / "dinhdanh")


def feed(rows: int) -> Path:
    path = OUT / f"citizens-{rows}.csv"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        t = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        write_citizens_csv(generate_population(rows, seed=20250101), tmp)
        tmp.rename(path)
        print(f"generated {rows:,} citizens in {time.perf_counter() - t:.1f} s -> {path}")
    return path


def run(label: str, path: Path, rows: int, database_url: str | None) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env["DINHDANH_DATA_DIR"] = str(data)
    if database_url:
        env["DINHDANH_DATABASE_URL"] = database_url
    try:
        measure([EXE, "init"], env)
        m = measure([EXE, "import", "citizens", str(path), "--json"], env)
        report = json.loads(m.stdout)
        assert report["created"] + report["rejected"] == rows, report
        again = measure([EXE, "import", "citizens", str(path), "--json"], env)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    result = {
        "database": label,
        "rows": rows,
        "seconds": round(m.seconds, 1),
        "rows_per_second": round(rows / m.seconds),
        "peak_mib": round(m.peak_mib),
        "reimport_seconds": round(again.seconds, 1),
        "reimport_unchanged": json.loads(again.stdout)["unchanged"],
    }
    print(
        f"{label:10} {rows:>9,} rows in {m.seconds:6.1f} s = {rows / m.seconds:8,.0f} rows/s, "
        f"peak {m.peak_mib:6.0f} MiB; unchanged re-import {again.seconds:5.1f} s"
    )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    path = feed(args.rows)
    results = [run("sqlite", path, args.rows, None)]
    if not args.no_postgres:
        with scratch_postgres() as url:
            results.append(run("postgresql", path, args.rows, url))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
