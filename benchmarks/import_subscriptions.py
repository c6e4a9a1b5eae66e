"""Import N synthetic subscriptions with `dinhdanh import subscriptions`, one file per carrier.

Prints rows per second and the peak memory of the whole process tree (the importer and its
worker processes). The uploads (three carriers, planted junk included, fixed seed) are
generated once under benchmarks/out/ and reused. Subscriptions do not need the citizens in
the database: the import validates and seals rows; matching is the reconciliation's job
(benchmarks/reconcile.py).

    .venv/bin/python benchmarks/import_subscriptions.py [--rows 10000000] [--postgres]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure, scratch_postgres
from dinhdanh.synth import generate_population
from dinhdanh.synth.telecom import generate_subscriptions, ported
from dinhdanh.telecom.feed import COLUMNS

OUT = Path(__file__).parent / "out"
EXE = str(Path(sys.executable).parent / "dinhdanh")
CARRIERS = ("VTL", "VNP", "MBF")
SUBSCRIPTIONS_PER_CITIZEN = 1.2  # what the generator yields per citizen, children included


def uploads(rows: int) -> dict[str, Path]:
    """One CSV upload per carrier, `rows` subscriptions in all (made once, then reused)."""
    folder = OUT / f"subscriptions-{rows}"
    files = {code: folder / f"{code}.csv" for code in CARRIERS}
    if (folder / "done").exists():
        return files
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    citizens = generate_population(int(rows / SUBSCRIPTIONS_PER_CITIZEN) + 10_000, seed=20250101)
    handles = {code: path.open("w", encoding="utf-8", newline="") for code, path in files.items()}
    # Numbers the generator moved to another carrier: that carrier declares them ported in.
    ports = {c: p.with_suffix(".ports").open("w", encoding="utf-8") for c, p in files.items()}
    writers = {code: csv.writer(fh) for code, fh in handles.items()}
    for writer in writers.values():
        writer.writerow(COLUMNS)
    written = 0
    try:
        for sub in islice(generate_subscriptions(citizens, carriers=CARRIERS), rows):
            row = sub.upload_row()
            writers[sub.carrier].writerow([row[c] for c in COLUMNS])
            if ported(sub):
                ports[sub.carrier].write(sub.msisdn + "\n")
            written += 1
            if written % 1_000_000 == 0:
                print(f"  generated {written:,} rows", flush=True)
    finally:
        for fh in (*handles.values(), *ports.values()):
            fh.close()
    if written < rows:
        raise SystemExit(f"the generator gave {written:,} rows, fewer than {rows:,}")
    (folder / "done").touch()
    print(f"generated {rows:,} subscriptions in {time.perf_counter() - started:.0f} s -> {folder}")
    return files


def run(
    label: str, files: dict[str, Path], rows: int, database_url: str | None
) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env["DINHDANH_DATA_DIR"] = str(data)
    if database_url:
        env["DINHDANH_DATABASE_URL"] = database_url
    seconds, peak, imported, rejected = 0.0, 0.0, 0, 0
    try:
        measure([EXE, "init"], env)
        for code, path in files.items():
            measure([EXE, "carriers", "add", code, "--name", code], env)
            if path.with_suffix(".ports").exists():
                ported_in = str(path.with_suffix(".ports"))
                measure([EXE, "carriers", "ports", "add", code, "--file", ported_in], env)
            m = measure(
                [EXE, "import", "subscriptions", str(path), "--carrier", code, "--json"], env
            )
            report = json.loads(m.stdout)
            seconds += m.seconds
            peak = max(peak, m.peak_mib)
            imported += report["created"]
            rejected += report["rejected"]
            print(
                f"  {label} {code}: {report['total_rows']:,} rows in {m.seconds:.1f} s", flush=True
            )
    finally:
        shutil.rmtree(data, ignore_errors=True)
    assert imported + rejected == rows, (imported, rejected, rows)
    print(
        f"{label:10} {rows:>10,} rows in {seconds:6.1f} s = {rows / seconds:8,.0f} rows/s, "
        f"peak {peak:6.0f} MiB ({rejected:,} rejected)"
    )
    return {
        "database": label,
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "peak_mib": round(peak),
        "rejected": rejected,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--postgres", action="store_true", help="also import into PostgreSQL")
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    files = uploads(args.rows)
    results = [run("sqlite", files, args.rows, None)]
    if args.postgres:
        with scratch_postgres() as url:
            results.append(run("postgresql", files, args.rows, url))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
