"""Storing a platform's ranking as the status API's risk: 1,000,000 accounts by default.

    python benchmarks/social_risk.py                       # SQLite, 1,000,000 accounts
    python benchmarks/social_risk.py --accounts 100000
    python benchmarks/social_risk.py --postgres            # a scratch database, dropped after

What `dinhdanh social rank` does after ranking, on a fresh data directory and one registered
platform: the per-platform key of every account (one HMAC each), then
``Signals.store_ranking`` in one transaction (delete the platform's previous rows, insert the
new ones in key order, commit). Run twice: the first store into an empty table, then a
replacement of all of them. Scores and reason codes are random (seeded); their values do not
change the work. Then a status read of 10 batches of 1,000 ranked ids, to show the reads still
find their rows by key. Wall and CPU time (this process's) are printed: on a machine shared
with other work the CPU time is the steadier figure. Peak memory is this process's VmHWM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _measure import scratch_postgres


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(accounts: int, database_url: str | None, data_dir: Path) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    from dinhdanh.settings import Settings
    from dinhdanh.social.signals import account_keys
    from dinhdanh.social.sybil.reasons import CODES
    from dinhdanh.wiring import build, init_data_dir

    settings = Settings(data_dir=data_dir, database_url=database_url)
    init_data_dir(settings)[1].dispose()
    c = build(settings)
    try:
        with c.unit_of_work() as s:
            c.social.add_platform(s, "bench", "Bench", ["https://bench.example/cb"], c.clock())
        rng = np.random.default_rng(20260101)
        ids = [f"acct-{i:09d}" for i in range(accounts)]
        t0, c0 = time.perf_counter(), time.process_time()
        keys = account_keys(c.ring, "bench", ids)
        t_keys, cpu_keys = time.perf_counter() - t0, time.process_time() - c0
        score = rng.random(accounts)
        n_codes = rng.integers(0, 3, accounts)
        offsets = np.zeros(accounts + 1, dtype=np.int32)
        np.cumsum(n_codes, out=offsets[1:])
        values = pa.array(np.array(CODES)[rng.integers(0, len(CODES), int(offsets[-1]))])
        reasons = pa.ListArray.from_arrays(pa.array(offsets), values)
        stores, cpu = [], []
        for _ in range(2):
            t0, c0 = time.perf_counter(), time.process_time()
            with c.unit_of_work() as s:
                c.social.signals.store_ranking(s, "bench", keys, score, reasons)
            stores.append(round(time.perf_counter() - t0, 2))
            cpu.append(round(time.process_time() - c0, 2))
        picks = rng.choice(accounts, size=10_000, replace=False).tolist()
        t0 = time.perf_counter()
        found = 0
        for i in range(0, len(picks), 1000):
            with c.unit_of_work() as s:
                batch = [ids[j] for j in picks[i : i + 1000]]
                statuses = c.social.status(s, "bench", batch, c.clock())
                found += sum(st.risk is not None for st in statuses)
        t_read = time.perf_counter() - t0
        return {
            "database": "postgresql" if database_url else "sqlite",
            "accounts": accounts,
            "keys_s": round(t_keys, 2),
            "keys_cpu_s": round(cpu_keys, 2),
            "store_first_s": stores[0],
            "store_replace_s": stores[1],
            "store_cpu_s": cpu,  # this process only (PostgreSQL works in its server too)
            "read_10x1000_s": round(t_read, 2),
            "read_found": found,
            "peak_mib": round(_peak_mib()),
        }
    finally:
        c.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, not SQLite")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-risk-"))
        url = stack.enter_context(scratch_postgres()) if args.postgres else None
        print(json.dumps(run(args.accounts, url, Path(tmp) / "var"), indent=2))


if __name__ == "__main__":
    main()
