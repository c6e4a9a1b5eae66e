"""Internet-resource reconciliation at national scale: the DuckDB engine against a pandas peer.

    python benchmarks/reconcile_internet.py              # 1,000,000 domains, 8,000,000 citizens,
                                                         # 1,000,000 organisations (--scale 1)
    python benchmarks/reconcile_internet.py --scale 0.1  # a tenth of each

The engine's inputs (blind indexes, tax codes, every reason code planted; see
dinhdanh/synth/internet_inputs.py) are generated once into benchmarks/out/ and reused. Each
contender then runs as its own command in a fresh process, and is timed end to end: Python's
start-up and imports, reading the inputs, every rule, writing one Parquet file per registrar
and ipblocks.parquet. Both must write the same verdicts; the run fails otherwise.

Target (issue 12, 2 vCPUs): the DuckDB command at least 5x faster than the pandas one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
AS_OF = date(2026, 1, 1)
SEED = 20260101
FULL = {
    "citizens": 8_000_000,
    "domains": 1_000_000,
    "organisations": 1_000_000,
    "ipblocks": 100_000,
}


def sizes(scale: float) -> dict[str, int]:
    return {k: max(100, int(v * scale)) for k, v in FULL.items()}


def ensure_data(scale: float, regenerate: bool) -> tuple[Path, dict[str, int]]:
    from dinhdanh.synth.internet_inputs import write_engine_inputs

    n = sizes(scale)
    out = ROOT / "out" / f"reconcile-internet-{n['domains']}-{n['citizens']}"
    manifest = out / "manifest.json"
    if manifest.exists() and not regenerate:
        print(f"inputs: reusing {out.relative_to(ROOT.parent)}")
        return out, n
    print(f"inputs: generating into {out.relative_to(ROOT.parent)} (once) ...", flush=True)
    started = time.perf_counter()
    write_engine_inputs(out, seed=SEED, **n)
    manifest.write_text(json.dumps(n | {"seconds": round(time.perf_counter() - started, 1)}))
    print(f"inputs: {time.perf_counter() - started:.0f} s")
    return out, n


# --- contenders (each its own process) ---------------------------------------------------------


def run_duckdb(data: Path, out: Path) -> dict[str, Any]:
    from dinhdanh.analytics import connect
    from dinhdanh.internet.reconcile import reconcile
    from dinhdanh.internet.rules import RuleConfig

    con = connect(temp_directory=out / ".spill")
    for name in ("domains", "registry", "organisations", "ipblocks", "disowned"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{data / name}.parquet')")
    summary = reconcile(
        con,
        domains="domains",
        registry="registry",
        organisations="organisations",
        ipblocks="ipblocks",
        disowned="disowned",
        out_dir=out,
        as_of=AS_OF,
        config=RuleConfig(),
    )
    return {"rows": summary.domains.rows, "phases": dict(summary.phases)}


def run_pandas(data: Path, out: Path) -> dict[str, Any]:
    """The same rules the way a pandas user writes them: merges, group-bys, isin."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dinhdanh.internet.rules import BITS, Reason, RuleConfig, reasons_of

    cfg = RuleConfig()
    as_of = pd.Timestamp(AS_OF)
    dom = pd.read_parquet(data / "domains.parquet")
    dom = dom[dom["status"] != "deleted"].reset_index(drop=True)
    reg = pd.read_parquet(data / "registry.parquet")
    orgs = pd.read_parquet(data / "organisations.parquet")
    blocks = pd.read_parquet(data / "ipblocks.parquet")
    disowned = pd.read_parquet(data / "disowned.parquet")
    dissolved_codes = set(
        orgs.loc[
            (orgs["status"] == "dissolved") | (pd.to_datetime(orgs["dissolved"]) <= as_of),
            "tax_code",
        ]
    )
    listed = set(orgs["tax_code"])

    person = (dom["registrant_type"] == "person").to_numpy()
    mask = np.zeros(len(dom), dtype=np.int64)

    def flag(reason: Reason, condition: Any) -> None:
        mask[np.asarray(condition, dtype=bool)] |= BITS[reason]

    m = dom.merge(reg, left_on="registrant_id_bidx", right_on="id_bidx", how="left", indicator=True)
    found = (m["_merge"] == "both").to_numpy()
    flag(Reason.REGISTRANT_NOT_FOUND, person & ~found)
    differ = (m["registrant_name_bidx"] != m["name_bidx"]) | (
        m["registrant_dob_bidx"] != m["dob_bidx"]
    )
    flag(Reason.REGISTRANT_MISMATCH, person & found & differ.to_numpy())
    flag(Reason.REGISTRANT_DECEASED, person & found & m["deceased"].fillna(False).to_numpy(bool))
    minor = dom["registrant_minor"].fillna(False).to_numpy(bool)
    flag(Reason.REGISTRANT_MINOR, person & found & minor)
    label = dom["ascii_name"].str.split(".", n=1).str[0]
    people = dom.loc[person, ["registrant_id_bidx"]].assign(label=label[person])
    labels = people.groupby("registrant_id_bidx")["label"].nunique()
    # An Index, not a set: isin() would turn a set of bytes into a NumPy 'S' array, which
    # drops trailing zero bytes and misses such keys.
    heavy = labels.index[labels > cfg.shared_registrant_limit]
    flag(Reason.SHARED_REGISTRANT, person & dom["registrant_id_bidx"].isin(heavy).to_numpy())
    keys = pd.MultiIndex.from_frame(dom[["ascii_name", "registrant_id_bidx"]])
    said = pd.MultiIndex.from_frame(disowned[["ascii_name", "id_bidx"]])
    flag(Reason.REGISTRANT_DISOWNED, person & keys.isin(said))
    codes = dom["registrant_tax_code"]
    flag(Reason.ORG_NOT_FOUND, ~person & ~codes.isin(listed).to_numpy())
    flag(Reason.ORG_DISSOLVED, ~person & codes.isin(dissolved_codes).to_numpy())
    expired = (dom["status"] == "active") & (pd.to_datetime(dom["expires"]) < as_of)
    flag(Reason.EXPIRED_ACTIVE, expired)

    blocks = blocks[blocks["status"] != "returned"]
    bmask = np.where(
        ~blocks["holder_tax_code"].isin(listed),
        BITS[Reason.HOLDER_NOT_FOUND],
        np.where(blocks["holder_tax_code"].isin(dissolved_codes), BITS[Reason.ORG_DISSOLVED], 0),
    )

    masks = np.unique(np.concatenate([mask, bmask, [0]]))
    verdicts = pa.array(["flagged" if x else "ok" for x in masks], pa.string())
    reasons = pa.array(
        [[r.value for r in reasons_of(int(x))] for x in masks], pa.list_(pa.string())
    )

    def table(key: str, values: Any, part_mask: Any) -> pa.Table:
        which = pa.array(np.searchsorted(masks, part_mask))
        return pa.table(
            {
                key: pa.array(values, pa.string()),
                "verdict": verdicts.take(which),
                "reasons": reasons.take(which),
            }
        )

    result = pd.DataFrame(
        {"domain": dom["ascii_name"], "registrar": dom["registrar"], "mask": mask}
    )
    for code, part in result.sort_values("domain").groupby("registrar", sort=True):
        pq.write_table(table("domain", part["domain"], part["mask"]), out / f"{code}.parquet")
    order = np.argsort(blocks["cidr"].to_numpy())
    pq.write_table(
        table("cidr", blocks["cidr"].to_numpy()[order], bmask[order]), out / "ipblocks.parquet"
    )
    return {"rows": len(dom)}


def child(kind: str, data: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.parquet"):
        old.unlink()
    print(json.dumps(run_duckdb(data, out) if kind == "duckdb" else run_pandas(data, out)))


def measure(kind: str, data: Path, out: Path) -> dict[str, Any]:
    """The contender's whole command in a fresh process: wall time, CPU, peak RSS."""
    command = [sys.executable, __file__, "--child", kind, "--data", str(data), "--out", str(out)]
    before = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stdout = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - before
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{kind} run failed")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result | {
        "seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
    }


def compare(a: Path, b: Path) -> tuple[int, dict[str, int]]:
    """Rows whose verdicts differ between the two outputs, and the verdict counts."""
    from dinhdanh.analytics import connect

    con = connect()

    def files(d: Path, blocks: bool) -> list[str]:
        return sorted(
            str(p) for p in d.glob("*.parquet") if (p.name == "ipblocks.parquet") == blocks
        )

    differ = 0
    for blocks, key in ((False, "domain"), (True, "cidr")):
        row = con.execute(
            f"""SELECT count(*) FROM read_parquet($a) x FULL JOIN read_parquet($b) y USING ({key})
            WHERE x.verdict IS DISTINCT FROM y.verdict OR x.reasons IS DISTINCT FROM y.reasons""",
            {"a": files(a, blocks), "b": files(b, blocks)},
        ).fetchone()
        differ += int(row[0]) if row else 1
    counts = dict(
        con.execute(
            "SELECT verdict, count(*) FROM read_parquet($a) GROUP BY ALL", {"a": files(a, False)}
        ).fetchall()
    )
    return differ, counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    parser.add_argument("--skip-pandas", action="store_true", help="run the DuckDB engine only")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the inputs")
    parser.add_argument("--child", choices=["duckdb", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.out)
        return

    data, n = ensure_data(args.scale, args.regenerate)
    print(f"sizes: {n['domains']:,} domains, {n['citizens']:,} citizens, "
          f"{n['organisations']:,} organisations, {n['ipblocks']:,} IP blocks "
          f"(scale {args.scale}; {os.cpu_count()} CPUs)")  # fmt: skip
    results = {}
    for kind in ["duckdb"] if args.skip_pandas else ["duckdb", "pandas"]:
        print(f"{kind}: reconciling ...", flush=True)
        results[kind] = measure(kind, data, data / f"verdicts-{kind}")
    print("seconds: the whole command (start-up, imports, reading, rules, writing)")
    print(f"{'':8} {'wall s':>8} {'domains/s':>12} {'peak MB':>9} {'cpu s':>7}")
    for kind, r in results.items():
        print(f"{kind:8} {r['seconds']:8.2f} {n['domains'] / r['seconds']:12,.0f} "
              f"{r['peak_mb']:9,.0f} {r['cpu_seconds']:7.1f}")  # fmt: skip
    phases = results["duckdb"]["phases"]
    print("duckdb engine phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    if "pandas" in results:
        speedup = results["pandas"]["seconds"] / results["duckdb"]["seconds"]
        differ, counts = compare(data / "verdicts-duckdb", data / "verdicts-pandas")
        print(f"speed-up over pandas: {speedup:.1f}x (target: at least 5x)")
        print(f"domain verdicts: {counts}; rows that differ between the two: {differ:,}")
        if differ:
            raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
