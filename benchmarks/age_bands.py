"""Refresh platform bindings' age bands for one month (``AgeBands.refresh``).

Imports N synthetic citizens (fixed seed) into a scratch SQLite data directory, binds up to
B of the minors at two platforms (the service's binding writer, ages read from the
registry), then times a month's refresh (birth dates of the month's 13th, 16th and 18th
birthdays, blind-index lookup, each platform's pairwise subjects, updates and events) and a
rerun that has nothing to cover. The peer in the same run is the import itself.

    .venv/bin/python benchmarks/age_bands.py [--rows 100000] [--bindings 5000]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dinhdanh.auth.oidc.pairwise import pairwise_sub
from dinhdanh.crypto.derive import pairwise_key
from dinhdanh.identity.age import is_over
from dinhdanh.identity.importer import import_citizens
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.social.service import sector_of
from dinhdanh.synth import generate_population, write_citizens_csv
from dinhdanh.wiring import build, init_data_dir

CTX = AccessContext("bench", "registry_import", "benchmark")
TODAY = date(2026, 1, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--bindings", type=int, default=5_000)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    data = Path(tempfile.mkdtemp(prefix="dinhdanh-bench-"))
    try:
        people = list(generate_population(args.rows, seed=20250101, today=TODAY))
        feed = data / "citizens.csv"
        write_citizens_csv(iter(people), feed)
        settings = Settings(data_dir=data / "var")
        init_data_dir(settings)[1].dispose()
        c = build(settings)
        now = datetime.combine(TODAY, datetime.min.time(), UTC)
        c.clock = lambda: now
        t = time.perf_counter()
        import_citizens(
            feed,
            registry=c.registry,
            unit_of_work=c.unit_of_work,
            ctx=CTX,
            clock=c.clock,
            today=TODAY,
            workers=1,
        )
        imported = time.perf_counter() - t
        minors = [p for p in people if not is_over(p.date_of_birth, 18, TODAY)]
        minors = minors[: args.bindings]
        key = pairwise_key(c.ring)
        with c.unit_of_work() as s:
            for code in ("zalo", "fb"):
                c.social.add_platform(s, code, code.title(), [f"https://{code}.example/cb"], now)
            for i, p in enumerate(minors):
                who = c.registry.subject(s, p.id_number)
                assert who is not None
                for code in ("zalo", "fb"):
                    sub = pairwise_sub(key, sector_of(code), who.subject_id)
                    c.social._bind(s, code, f"a{i}", who.subject_id, sub, "login", "1", now)
        with c.unit_of_work() as s:
            c.age_bands.refresh(s, now)  # first run: records the start
        later = now + timedelta(days=31)  # covers January 2026
        t = time.perf_counter()
        with c.unit_of_work() as s:
            done = c.age_bands.refresh(s, later)
        month = time.perf_counter() - t
        t = time.perf_counter()
        with c.unit_of_work() as s:
            c.age_bands.refresh(s, later)
        again = time.perf_counter() - t
        c.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"import (peer)  {args.rows:>9,} citizens in {imported:6.1f} s")
    print(
        f"refresh month  {done.changed:>9,} bindings raised ({len(minors):,} minors bound at "
        f"2 platforms) in {month:6.2f} s"
    )
    print(f"refresh again  nothing to cover in {again:6.3f} s")


if __name__ == "__main__":
    main()
