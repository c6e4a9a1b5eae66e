"""How long `dinhdanh` takes to start: whole processes, as a user runs them.

Each command runs --runs times in a fresh process; prints the median wall time and the median
CPU time (user + system) of the child. CPU time is the steadier figure on a shared machine.
With --before REF, the same commands also run from a checkout of REF (a git worktree under
benchmarks/out/, with the current virtualenv's packages and REF's source on PYTHONPATH), in
the same run, alternating with the current code. Two reconciliations run for real on an empty
initialised store (start-up and the store opened, no rows), and --floor prints what importing
the packages a reconciliation cannot do without costs, in a bare interpreter.

    .venv/bin/python benchmarks/cli_startup.py [--runs 15] [--before 92e03e4] [--floor]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "out"
# What the issue names: the help, and a reconciliation up to its own work (--help: options
# parsed, the command's module loaded, nothing read).
COMMANDS = (
    ("--help",),
    ("reconcile", "--help"),
    ("reconcile", "subscriptions", "--help"),
    ("keys", "--help"),
    ("reconcile", "subscriptions", "--out", "{out}"),
    ("reconcile", "internet", "--out", "{out}"),
)
# What a reconciliation must import whatever the code does: the CLI library (and pydantic,
# which it uses for options), the store, the settings, the key ring, DuckDB and PyArrow.
FLOOR = {
    "python": "pass",
    "typer + rich": "import typer, rich.console",
    "pydantic + pydantic-settings": "import pydantic_settings",
    "sqlalchemy (core, orm, dialects)": "import sqlalchemy.orm, sqlalchemy.dialects.postgresql",
    "cryptography": "import cryptography.hazmat.primitives.ciphers.aead",
    "duckdb": "import duckdb",
    "pyarrow (numpy)": "import pyarrow, pyarrow.parquet",
    "pandas (pa.array imports it)": "import pandas",
    "all of the above": "import typer, rich.console, pydantic_settings, sqlalchemy.orm, "
    "sqlalchemy.dialects.postgresql, cryptography.hazmat.primitives.ciphers.aead, duckdb, "
    "pyarrow, pyarrow.parquet, pandas",
}
PROGRAM = "import sys; from dinhdanh.cli.main import app; sys.argv[0] = 'dinhdanh'; app()"


def run_once(
    args: tuple[str, ...], env: dict[str, str], program: str = PROGRAM
) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", program, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def checkout(ref: str) -> Path:
    path = OUT / f"src-{ref}"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref], check=True
        )
    return path / "src"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--before", help="a git ref to compare with, in the same run")
    ap.add_argument("--floor", action="store_true", help="also time the packages' imports")
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        f", load {os.getloadavg()[0]:.1f}"
    )
    data = tempfile.mkdtemp(prefix="dinhdanh-startup-")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DINHDANH_", "PYTHON"))}
    base |= {"DINHDANH_DATA_DIR": data, "COLUMNS": "100"}
    codes = {"current": base | {"PYTHONPATH": str(ROOT / "src")}}
    if args.before:
        codes[args.before] = base | {"PYTHONPATH": str(checkout(args.before))}
    run_once(("init",), codes["current"])
    if args.floor:
        for label, program in FLOOR.items():
            figures = [run_once((), base, program) for _ in range(args.runs)]
            print(
                f"floor: {label:34} median "
                f"{statistics.median(c for _, c in figures) * 1000:6.0f} ms CPU"
            )
    for template in COMMANDS:
        command = tuple(a.format(out=f"{data}/out") for a in template)
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in codes}
        run_once(command, codes["current"])  # warm the file cache
        for _ in range(args.runs):
            for label, env in codes.items():
                runs[label].append(run_once(command, env))
        for label, figures in runs.items():
            wall = statistics.median(w for w, _ in figures)
            cpu = statistics.median(c for _, c in figures)
            print(
                f"dinhdanh {' '.join(template):40} {label:>10}: "
                f"median {wall * 1000:6.0f} ms wall, {cpu * 1000:6.0f} ms CPU"
            )


if __name__ == "__main__":
    main()
