"""Import N synthetic subscriptions with `dinhdanh import subscriptions`, one file per carrier.

Prints rows per second and the peak memory of the whole process tree (the importer and its
worker processes). The uploads (three carriers, planted junk included, fixed seed) are
generated once under benchmarks/out/ and reused. Subscriptions do not need the citizens in
the database: the import validates and seals rows; matching is the reconciliation's job
(benchmarks/reconcile.py).

    .venv/bin/python benchmarks/import_subscriptions.py [--rows 10000000] [--postgres]

`--onto N` times one upload onto a table that already holds N rows instead (issue 14): the
uploads of N + ROWS subscriptions are generated, and a base store holding the first N of them
(VTL, VNP, then MBF's first rows; imported once, kept under benchmarks/out/ and copied for
each run) receives the rest of MBF's upload, ROWS rows, as one timed `import subscriptions`
(its carrier's snapshot rewrite included). `--chunk-size` passes the importer's option.
With `--postgres` the base is a PostgreSQL database kept on the server
(dinhdanh_bench_onto_N) and each run imports into a copy of it.

    .venv/bin/python benchmarks/import_subscriptions.py --onto 10000000 --rows 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
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
from _measure import kept_postgres, measure, scratch_postgres
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


def split(files: dict[str, Path], onto: int, folder: Path) -> tuple[dict[str, Path], Path]:
    """The base's uploads (every carrier but the last whole, the last one's first rows, `onto`
    rows in all) and the rest of the last carrier's upload, the timed one."""
    base = {code: path for code, path in files.items() if code != CARRIERS[-1]}
    last = files[CARRIERS[-1]]
    with open(last, encoding="utf-8", newline="") as fh:
        lines = fh.readlines()  # a few hundred MB at 11 M rows: once, when the split is made
    header, rows = lines[0], lines[1:]
    before = 0
    for path in base.values():
        with open(path, "rb") as fh:
            before += sum(1 for _ in fh) - 1
    head = onto - before
    if not 0 < head < len(rows):
        raise SystemExit(f"cannot put {onto:,} rows in the base with these uploads")
    base[CARRIERS[-1]] = folder / f"{CARRIERS[-1]}-head.csv"
    tail = folder / f"{CARRIERS[-1]}-tail.csv"
    if not (folder / "split").exists():
        base[CARRIERS[-1]].write_text(header + "".join(rows[:head]), encoding="utf-8")
        tail.write_text(header + "".join(rows[head:]), encoding="utf-8")
        (folder / "split").touch()
    return base, tail


def onto(
    base_rows: int,
    rows: int,
    runs: int,
    chunk_size: int | None,
    base_dir: Path | None = None,
    postgres: bool = False,
) -> list[dict[str, object]]:
    """`import subscriptions` of `rows` rows onto a store that already holds `base_rows`
    (`base_dir`: another copy of that store to start from, e.g. one at an older schema).
    With `postgres` the base is a kept PostgreSQL database (its data directory holds the
    keys and snapshots) and each run imports into a copy of it (CREATE DATABASE ... TEMPLATE).
    """
    files = uploads(base_rows + rows)
    folder = OUT / f"subscriptions-onto-{base_rows}"
    folder.mkdir(parents=True, exist_ok=True)
    base_files, tail = split(files, base_rows, folder)
    base = folder / ("base-postgres" if postgres else "base")
    done = folder / ("base-postgres-done" if postgres else "base-done")
    base_db = f"dinhdanh_bench_onto_{base_rows}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    if not done.exists():
        shutil.rmtree(base, ignore_errors=True)
        env["DINHDANH_DATA_DIR"] = str(base)
        if postgres:
            env["DINHDANH_DATABASE_URL"] = kept_postgres(base_db, fresh=True)
        started = time.perf_counter()
        measure([EXE, "init"], env)
        for code, path in base_files.items():
            measure([EXE, "carriers", "add", code, "--name", code], env)
            ported_in = files[code].with_suffix(".ports")  # the whole upload's ports
            if ported_in.exists():
                measure([EXE, "carriers", "ports", "add", code, "--file", str(ported_in)], env)
            m = measure(
                [EXE, "import", "subscriptions", str(path), "--carrier", code, "--json"], env
            )
            print(
                f"  base {code}: {json.loads(m.stdout)['total_rows']:,} rows in {m.seconds:.0f} s"
            )
        done.write_text(f"{time.perf_counter() - started:.0f} s\n")
    results = []
    extra = ["--chunk-size", str(chunk_size)] if chunk_size else []
    for i in range(runs):
        data = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-", dir=OUT))
        try:
            with (
                scratch_postgres(template=base_db) if postgres else contextlib.nullcontext()
            ) as url:
                shutil.copytree(base_dir or base, data, dirs_exist_ok=True)
                env["DINHDANH_DATA_DIR"] = str(data)
                if url:
                    env["DINHDANH_DATABASE_URL"] = url
                measure([EXE, "init"], env)  # migrations since the base was built, not timed
                # The copy's gigabytes written back first: the kernel flushing them during
                # the timed import took a third more time in one run (94 s against 67 s).
                os.sync()
                load = os.getloadavg()[0]
                cmd = [EXE, "import", "subscriptions", str(tail), "--carrier", CARRIERS[-1]]
                m = measure([*cmd, "--json", *extra], env)
                load_after = os.getloadavg()[0]
        finally:
            shutil.rmtree(data, ignore_errors=True)
        report = json.loads(m.stdout)
        assert report["created"] + report["rejected"] == report["total_rows"], report
        print(
            f"run {i + 1}{' (PostgreSQL)' if postgres else ''}: {report['total_rows']:,} rows"
            f" onto {base_rows:,} in {m.seconds:.1f} s"
            f" = {report['total_rows'] / m.seconds:,.0f} rows/s, peak {m.peak_mib:,.0f} MiB,"
            f" {report['rejected']:,} rejected; load average {load:.1f} -> {load_after:.1f}",
            flush=True,
        )
        results.append(
            {
                "database": "postgresql" if postgres else "sqlite",
                "onto": base_rows,
                "rows": report["total_rows"],
                "seconds": round(m.seconds, 1),
                "rows_per_second": round(report["total_rows"] / m.seconds),
                "peak_mib": round(m.peak_mib),
                "load": [round(load, 1), round(load_after, 1)],
            }
        )
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument(
        "--postgres",
        action="store_true",
        help="also import into PostgreSQL (with --onto: onto a PostgreSQL base instead)",
    )
    ap.add_argument("--onto", type=int, help="time one upload onto a table of this many rows")
    ap.add_argument("--runs", type=int, default=1, help="with --onto: runs, each on a fresh copy")
    ap.add_argument("--chunk-size", type=int, help="with --onto: the importer's --chunk-size")
    ap.add_argument("--base-dir", type=Path, help="with --onto: copy this store, not the base")
    ap.add_argument("--build-only", action="store_true", help="with --onto: build the base only")
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    if args.onto:
        found = onto(
            args.onto,
            args.rows,
            0 if args.build_only else args.runs,
            args.chunk_size,
            args.base_dir,
            args.postgres,
        )
        print(json.dumps(found))
        return
    files = uploads(args.rows)
    results = [run("sqlite", files, args.rows, None)]
    if args.postgres:
        with scratch_postgres() as url:
            results.append(run("postgresql", files, args.rows, url))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
