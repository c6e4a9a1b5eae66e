"""Junk-SIM reconciliation at national scale: DuckDB engine against a pandas peer.

    python benchmarks/reconcile.py                       # 8,000,000 citizens, 10,000,000 SIMs
    python benchmarks/reconcile.py --citizens 800000 --subscriptions 1000000
    python benchmarks/reconcile.py --end-to-end --subscriptions 2000000   # the command itself
    python benchmarks/reconcile.py --citizens 800000 --subscriptions 1000000 --engine spark

The engine inputs (blind-indexed registry and subscriptions, with planted junk of every kind)
are generated once into benchmarks/out/ and reused. Each contender then runs in its own child
process, so the peak memory printed (the child's ru_maxrss) is that of the reconciliation
alone: reading the inputs, applying every rule, writing one Parquet file of verdicts per
carrier. Both must write the same verdicts; the run fails otherwise. ``--engine spark`` adds
the Spark engine (telecom.reconcile_spark, local mode on every core), timed beside DuckDB in
the same run on the same Parquet inputs and held to the same verdicts; its CPU and peak
memory are the Python child's and the JVM's it starts (reaped by the child).

Targets (issue 4, 2 vCPUs): DuckDB under 20 s and 3 GB for 10 M, at least 5x the pandas peer.
The import of the same 10 M subscriptions through `dinhdanh import subscriptions` is measured
by benchmarks/import_subscriptions.py (about half an hour here): this script starts from the
engine's inputs so that the reconciliation can be repeated in a minute.

`--end-to-end` times what a user runs instead: a store (SQLite) is loaded once through the
real importers (`dinhdanh import citizens`, then one `dinhdanh import subscriptions` per
carrier, the same uploads as benchmarks/import_subscriptions.py), then `dinhdanh reconcile
subscriptions` is timed as a command in a fresh process (Python's start-up, imports, reading
the store, the rules, the verdict files, lock cases) against a plain pandas script in a fresh
process that reads the same store: the subscriptions and registry tables of the database
through `pandas.read_sql`, the dates of death through the registry (they are sealed), and the
same rules as the pandas peer above. A second pandas run reads the store's Parquet snapshots
instead of the database (what the command reads), so the figure is given against both.
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


def _mb(kib: int) -> float:
    return kib / 1024


# --- data ------------------------------------------------------------------------------------


def data_dir(citizens: int, subscriptions: int) -> Path:
    return ROOT / "out" / f"reconcile-{citizens}-{subscriptions}"


def generator_fingerprint() -> str:
    """Digest of the generators' source: inputs made by other code are made again."""
    import hashlib

    import dinhdanh.synth.population
    import dinhdanh.synth.telecom

    digest = hashlib.sha256()
    for module in (dinhdanh.synth.population, dinhdanh.synth.telecom):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


def ensure_data(citizens: int, subscriptions: int, regenerate: bool) -> Path:
    from dinhdanh.crypto import generate_keyring
    from dinhdanh.synth import generate_population
    from dinhdanh.synth.telecom import write_engine_inputs

    out = data_dir(citizens, subscriptions)
    manifest = out / "manifest.json"
    fingerprint = generator_fingerprint()
    made = json.loads(manifest.read_text()) if manifest.exists() else {}
    if made.get("generator") == fingerprint and not regenerate:
        print(f"inputs: reusing {out.relative_to(ROOT.parent)} ({made['rows']:,} subscriptions, "
              f"{made['citizens']:,} citizens)")  # fmt: skip
        return out
    out.mkdir(parents=True, exist_ok=True)
    manifest.unlink(missing_ok=True)
    print(f"inputs: generating {citizens:,} citizens and {subscriptions:,} subscriptions "
          f"into {out.relative_to(ROOT.parent)} (once)", flush=True)  # fmt: skip
    started = time.perf_counter()

    def progress(done_citizens: int, rows: int) -> None:
        elapsed = time.perf_counter() - started
        print(f"  {done_citizens:>11,} citizens {rows:>11,} subscriptions  {elapsed:6.0f} s",
              flush=True)  # fmt: skip

    files = write_engine_inputs(
        generate_population(citizens, seed=SEED, today=AS_OF),
        out,
        generate_keyring(),
        subscriptions=subscriptions,
        seed=SEED,
        as_of=AS_OF,
        background=True,
        progress=progress,
    )
    elapsed = time.perf_counter() - started
    made = {
        "citizens": files.citizens,
        "rows": files.rows,
        "seconds": round(elapsed, 1),
        "generator": fingerprint,
    }
    manifest.write_text(json.dumps(made) + "\n")
    print(f"inputs: {files.rows:,} subscriptions in {elapsed:.0f} s "
          f"({files.rows / elapsed:,.0f} rows/s, blind indexes included)")  # fmt: skip
    return out


# --- end to end: a store loaded through the real importers -----------------------------------


def e2e_store(subscriptions: int) -> tuple[Path, dict[str, str]]:
    """A data directory loaded once through `dinhdanh import` (reused while its manifest
    says it finished); returns it and the environment that points the CLI at it."""
    sys.path.insert(0, str(ROOT))
    from dinhdanh.synth import generate_population, write_citizens_csv
    from import_subscriptions import CARRIERS, EXE, SUBSCRIPTIONS_PER_CITIZEN, uploads

    folder = ROOT / "out" / f"reconcile-e2e-{subscriptions}"
    data = folder / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env["DINHDANH_DATA_DIR"] = str(data)
    if (folder / "manifest.json").exists():
        print(f"store: reusing {data.relative_to(ROOT.parent)}")
        return data, env
    files = uploads(subscriptions)  # the same uploads as import_subscriptions.py
    citizens_csv = folder / "citizens.csv"
    folder.mkdir(parents=True, exist_ok=True)
    if not citizens_csv.exists():
        people = int(subscriptions / SUBSCRIPTIONS_PER_CITIZEN) + 10_000  # as uploads() does
        write_citizens_csv(generate_population(people, seed=20250101), citizens_csv)
    if data.exists():
        import shutil

        shutil.rmtree(data)
    started = time.perf_counter()

    def cli(*args: str) -> None:
        subprocess.run([EXE, *args], env=env, check=True, stdout=subprocess.DEVNULL)

    cli("init")
    cli("import", "citizens", str(citizens_csv), "--json")
    for code in CARRIERS:
        cli("carriers", "add", code, "--name", code)
        ports = files[code].with_suffix(".ports")
        if ports.exists():
            cli("carriers", "ports", "add", code, "--file", str(ports))
        cli("import", "subscriptions", str(files[code]), "--carrier", code, "--json")
    made = {"subscriptions": subscriptions, "seconds": round(time.perf_counter() - started)}
    (folder / "manifest.json").write_text(json.dumps(made) + "\n")
    print(f"store: loaded in {made['seconds']} s -> {data.relative_to(ROOT.parent)}")
    return data, env


# --- contenders (each runs in a child process) -----------------------------------------------


def run_duckdb(
    data: Path, out: Path, memory_limit: str | None, threads: int | None
) -> dict[str, Any]:
    from dinhdanh.analytics import connect
    from dinhdanh.telecom.reconcile import reconcile
    from dinhdanh.telecom.rules import RuleConfig

    started = time.perf_counter()
    con = connect(memory_limit=memory_limit, threads=threads, temp_directory=out / ".spill")
    for name in ("subscriptions", "registry", "provinces"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{data / name}/*.parquet')")
    con.execute(
        f"CREATE VIEW disowned AS SELECT * FROM read_parquet('{data / 'disowned.parquet'}')"
    )
    summary = reconcile(
        con,
        "subscriptions",
        "registry",
        "disowned",
        out,
        AS_OF,
        RuleConfig(),
        provinces="provinces",
    )
    return {
        "seconds": time.perf_counter() - started,
        "rows": summary.rows,
        "phases": dict(summary.phases),
    }


def run_spark(data: Path, out: Path) -> dict[str, Any]:
    from dinhdanh.analytics import connect
    from dinhdanh.analytics.spark import LOCAL, running
    from dinhdanh.telecom.reconcile_spark import Inputs, reconcile_spark
    from dinhdanh.telecom.rules import RuleConfig

    started = time.perf_counter()
    with running(LOCAL) as spark:
        session_seconds = time.perf_counter() - started
        con = connect(temp_directory=out / ".spill")
        con.execute(
            f"CREATE VIEW provinces AS SELECT * FROM read_parquet('{data / 'provinces'}/*.parquet')"
        )
        inputs = Inputs(data / "subscriptions", data / "registry", data / "disowned.parquet")
        summary = reconcile_spark(
            spark, con, inputs, out, AS_OF, RuleConfig(), provinces="provinces"
        )
    return {
        "seconds": time.perf_counter() - started,
        "rows": summary.rows,
        "phases": {"session": session_seconds, **summary.phases},
    }


def run_pandas(data: Path, out: Path) -> dict[str, Any]:
    """The same rules, written the way a pandas user would: merges, group-bys, transforms."""
    import pandas as pd

    started = time.perf_counter()
    subs = pd.read_parquet(data / "subscriptions")
    registry = pd.read_parquet(data / "registry")
    disowned = set(pd.read_parquet(data / "disowned.parquet")["msisdn"])
    rows = pandas_rules(subs, registry, disowned, out)
    return {"seconds": time.perf_counter() - started, "rows": rows}


def pandas_rules(subs: Any, registry: Any, disowned: set[str], out: Path) -> int:
    """The rules on data frames; writes one Parquet file per carrier, returns the rows."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dinhdanh.telecom.reconcile import BITS, reasons_of
    from dinhdanh.telecom.rules import Reason, RuleConfig, decide

    cfg = RuleConfig()
    for column in ("agent_id", "imei"):  # an empty string means none, as in the engine
        subs[column] = subs[column].mask(subs[column] == "")

    act = subs[subs["status"] == "active"].reset_index(drop=True)
    act = act.merge(registry, on="id_bidx", how="left", suffixes=("", "_reg"), indicator=True)
    mask = np.zeros(len(act), dtype=np.int64)

    def flag(reason: Reason, condition: Any) -> None:
        mask[np.asarray(condition, dtype=bool)] |= BITS[reason]

    found = (act["_merge"] == "both").to_numpy()
    flag(Reason.ID_NOT_FOUND, ~found)
    flag(Reason.NAME_MISMATCH, found & (act["name_bidx"] != act["name_bidx_reg"]).to_numpy())
    flag(Reason.DOB_MISMATCH, found & (act["dob_bidx"] != act["dob_bidx_reg"]).to_numpy())
    death = pd.to_datetime(act["date_of_death"])
    as_of = pd.Timestamp(AS_OF)
    flag(
        Reason.OWNER_DECEASED,
        death.notna() & ((act["activation_at"].dt.normalize() > death) | (as_of >= death)),
    )
    flag(
        Reason.OWNER_MINOR,
        found
        & act["under_minor_age_at_activation"].fillna(False).to_numpy()
        & ~act["has_guardian"].fillna(False).astype(bool).to_numpy(),
    )
    flag(Reason.ID_FORMAT, ~act["id_dob_consistent"].fillna(True).astype(bool))

    online = act[act["channel"] == "online"].sort_values(["activation_at", "msisdn", "carrier"])
    rank = online.groupby("id_bidx", sort=False).cumcount()
    flag(Reason.ONLINE_OVER_LIMIT, act.index.isin(rank[rank >= cfg.online_limit].index))
    numbers = act.groupby("id_bidx", sort=False)["msisdn"].transform("nunique")
    flag(Reason.OVER_THRESHOLD, numbers >= cfg.over_threshold)
    ids_per_imei = act.groupby("imei", sort=False)["id_bidx"].transform("nunique")
    flag(Reason.SHARED_IMEI, ids_per_imei.fillna(0) > cfg.shared_imei_k)
    by_number = act.groupby("msisdn", sort=False)
    duplicate = (by_number["carrier"].transform("nunique") > 1) | (
        by_number["id_bidx"].transform("nunique") > 1
    )
    flag(Reason.DUPLICATE_MSISDN, duplicate)
    flag(Reason.DISOWNED, act["msisdn"].isin(disowned))

    # Agent bursts over every activation, terminated ones too: for each activation, the
    # activations of the same agent within the next M minutes (a sorted search), expanded to
    # pairs, distinct IDs per window counted; a row is in a burst if any bursting window
    # that starts at most M minutes before it holds it.
    agents = subs[subs["agent_id"].notna()].sort_values(["agent_id", "activation_at"])
    code = agents["agent_id"].astype("category").cat.codes.to_numpy(np.int64)
    seconds = agents["activation_at"].to_numpy("datetime64[s]").astype(np.int64)
    key = code * (1 << 40) + (seconds - seconds.min())
    end = np.searchsorted(key, key + cfg.agent_burst_minutes * 60, side="right")
    sizes = end - np.arange(len(key))
    anchor = np.repeat(np.arange(len(key)), sizes)
    member = anchor + (np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    ids = agents["id_bidx"].to_numpy()
    pairs = pd.DataFrame({"anchor": anchor, "id": ids[member], "member": member})
    distinct = pairs.drop_duplicates(["anchor", "id"]).groupby("anchor").size()
    bursting = distinct[distinct > cfg.agent_burst_n].index
    inside = np.unique(pairs.loc[pairs["anchor"].isin(bursting), "member"])
    burst_rows = agents.iloc[inside]
    burst_rows = burst_rows[burst_rows["status"] == "active"]
    burst_keys = pd.MultiIndex.from_frame(burst_rows[["carrier", "msisdn"]])
    flag(
        Reason.AGENT_BURST,
        pd.MultiIndex.from_frame(act[["carrier", "msisdn"]]).isin(burst_keys),
    )

    # Verdict, reasons and action per distinct mask, taken row by row in Arrow.
    masks = np.unique(mask)
    decided = [decide(reasons_of(int(m))) for m in masks]
    verdicts = pa.array([v.value for v, _, _ in decided], pa.string())
    reasons = pa.array([[r.value for r in rs] for _, rs, _ in decided], pa.list_(pa.string()))
    actions = pa.array([a.value for _, _, a in decided], pa.string())
    result = pd.DataFrame({"msisdn": act["msisdn"], "carrier": act["carrier"], "mask": mask})
    rows = 0
    for carrier, part in result.groupby("carrier", sort=True):
        which = pa.array(np.searchsorted(masks, part["mask"].to_numpy()))
        table = pa.table(
            {
                "msisdn": pa.array(part["msisdn"], pa.string()),
                "carrier": pa.array(part["carrier"], pa.string()),
                "verdict": verdicts.take(which),
                "reasons": reasons.take(which),
                "action": actions.take(which),
            }
        )
        pq.write_table(table, out / f"{carrier}.parquet", compression="zstd")
        rows += len(part)
    return rows


def run_pandas_store(data_dir: Path, out: Path, snapshots: bool) -> dict[str, Any]:
    """The pandas peer as a script on the store: the tables through `pandas.read_sql` (or,
    with `snapshots`, the Parquet snapshots the command reads), the dates of death through
    the registry (sealed; each opening audited, as the command does)."""
    import sqlite3

    import pandas as pd

    from dinhdanh.privacy.audit import AccessContext
    from dinhdanh.settings import Settings
    from dinhdanh.wiring import build

    started = time.perf_counter()
    c = build(Settings(data_dir=data_dir))
    with c.unit_of_work() as session:
        ctx = AccessContext("bench", "telecom_reconciliation", "pandas peer")
        ids, dates = c.registry.dates_of_death(session, ctx, c.clock())
    deaths = pd.DataFrame({"id_bidx": ids, "date_of_death": dates})
    con = sqlite3.connect(data_dir / "dinhdanh.db")
    disowned = set(
        pd.read_sql_query(
            """SELECT DISTINCT d.msisdn FROM number_declarations d JOIN subscriptions s
               ON s.id = d.subscription_id AND s.id_bidx = d.id_bidx
              AND s.activation_at = d.activation_at
               WHERE d.declaration = 'disowned' AND s.status = 'active'""",
            con,
        )["msisdn"]
    )
    if snapshots:
        files = sorted((data_dir / "snapshots").glob("*.parquet"))
        subs = pd.concat(
            [pd.read_parquet(f) for f in files if f.name.startswith("subscriptions-")],
            ignore_index=True,
        )
        registry = pd.read_parquet(next(f for f in files if f.name.startswith("citizens.")))
    else:
        subs = pd.read_sql_query(
            """SELECT carrier, msisdn, id_bidx, name_bidx, dob_bidx, id_dob_consistent,
                      minor_at_activation AS under_minor_age_at_activation, activation_at,
                      channel, agent_id, hex(imei_bidx) AS imei, status FROM subscriptions""",
            con,
        )
        subs["activation_at"] = pd.to_datetime(subs["activation_at"])
        for flag in ("id_dob_consistent", "under_minor_age_at_activation"):
            subs[flag] = subs[flag].astype(bool)
        registry = pd.read_sql_query(
            """SELECT id_bidx, name_bidx, dob_bidx, guardian_bidx IS NOT NULL AS has_guardian
               FROM citizens""",
            con,
        )
    registry = registry.merge(deaths, on="id_bidx", how="left")
    rows = pandas_rules(subs, registry, disowned, out)
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child(kind: str, data: Path, out: Path, memory_limit: str | None, threads: int | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.parquet"):
        old.unlink()
    if kind == "duckdb":
        result = run_duckdb(data, out, memory_limit, threads)
    elif kind == "spark":
        result = run_spark(data, out)
    elif kind == "pandas":
        result = run_pandas(data, out)
    else:
        result = run_pandas_store(data, out, snapshots=kind == "pandas-snap")
    print(json.dumps(result))


def measure(kind: str, data: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one contender in a fresh process; add its peak RSS (ru_maxrss of that child)."""
    command = [sys.executable, __file__, "--child", kind, "--data", str(data), "--out", str(out)]
    if args.memory_limit:
        command += ["--memory-limit", args.memory_limit]
    if args.threads:
        command += ["--threads", str(args.threads)]
    before = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stdout = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - before
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{kind} run failed (exit {process.returncode})")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = _mb(usage.ru_maxrss)
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    result["process_seconds"] = wall
    return result


PEERS = ("pandas-db", "pandas-snap")


def _timed(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """A whole command in a fresh process: wall, CPU (user + system) and peak RSS."""
    before = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - before
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return {
        "seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": _mb(usage.ru_maxrss),
    }


def end_to_end(args: argparse.Namespace) -> None:
    """`dinhdanh reconcile subscriptions` against the pandas script, same store, same run."""
    import statistics

    sys.path.insert(0, str(ROOT))
    from import_subscriptions import EXE

    data, env = e2e_store(args.subscriptions)
    folder = data.parent
    command = [EXE, "reconcile", "subscriptions", "--as-of", AS_OF.isoformat()]
    command += ["--memory-limit", args.memory_limit, "--json", "--out"]
    snapshots = data / "snapshots"
    print(f"snapshots before the first run: {sorted(p.name for p in snapshots.glob('*'))}")
    first = _timed([*command, str(folder / "verdicts-command")], env)
    print(f"first run (refreshes any stale snapshot): {first['seconds']:.2f} s, "
          f"{first['cpu_seconds']:.2f} s CPU")  # fmt: skip
    times: dict[str, list[dict[str, float]]] = {"command": [], **{p: [] for p in PEERS}}
    load = os.getloadavg()
    for _ in range(args.runs):  # alternating, so that a busier minute hits each alike
        times["command"].append(_timed([*command, str(folder / "verdicts-command")], env))
        for peer in PEERS:
            out = folder / f"verdicts-{peer}"
            out.mkdir(exist_ok=True)
            peer_cmd = [sys.executable, __file__, "--child", peer, "--data", str(data)]
            times[peer].append(_timed([*peer_cmd, "--out", str(out)], env))
    load_after = os.getloadavg()
    print(f"\nend to end, {args.subscriptions:,} subscriptions in the store, {args.runs} "
          f"runs each, medians; load average {load[0]:.1f} before, "
          f"{load_after[0]:.1f} after")  # fmt: skip
    print(f"{'':12} {'wall s':>8} {'cpu s':>7} {'peak MB':>8}   runs (wall s)")
    median = {}
    for kind, runs in times.items():
        median[kind] = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        every = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"{kind:12} {median[kind]:8.2f} {cpu:7.2f} {peak:8,.0f}   {every}")
    for peer in PEERS:
        differ, counts = compare(folder / "verdicts-command", folder / f"verdicts-{peer}")
        print(f"command vs {peer}: {median[peer] / median['command']:.1f}x; verdicts {counts}, "
              f"rows that differ: {differ:,}")  # fmt: skip
        if differ:
            raise SystemExit("the command and the pandas script disagree")


def compare(a: Path, b: Path) -> tuple[int, dict[str, int]]:
    """Rows on which the two outputs differ, and the verdict counts (which must be equal)."""
    from dinhdanh.analytics import connect

    con = connect()
    differ = con.execute(
        f"""SELECT count(*) FROM read_parquet('{a}/*.parquet') x
        FULL JOIN read_parquet('{b}/*.parquet') y USING (carrier, msisdn)
        WHERE x.verdict IS DISTINCT FROM y.verdict OR x.reasons IS DISTINCT FROM y.reasons
           OR x.action IS DISTINCT FROM y.action"""
    ).fetchone()
    counts = dict(
        con.execute(
            f"SELECT verdict, count(*) FROM read_parquet('{a}/*.parquet') GROUP BY ALL"
        ).fetchall()
    )
    return (int(differ[0]) if differ else -1), counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=8_000_000)
    parser.add_argument("--subscriptions", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit (default 2GB)")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    parser.add_argument("--skip-pandas", action="store_true", help="run the DuckDB engine only")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the inputs")
    parser.add_argument("--end-to-end", action="store_true", help="time the command on a store")
    parser.add_argument("--build-store", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--child", choices=["duckdb", "pandas", "spark", *PEERS], help=argparse.SUPPRESS
    )
    parser.add_argument("--runs", type=int, default=3, help="end to end: runs of each")
    parser.add_argument(
        "--engine",
        action="append",
        choices=["spark"],
        default=[],
        help="also time this engine beside DuckDB (spark: local mode, every core)",
    )
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.out, args.memory_limit, args.threads)
        return
    if args.build_store:
        e2e_store(args.subscriptions)
        return
    if args.end_to_end:
        end_to_end(args)
        return

    data = ensure_data(args.citizens, args.subscriptions, args.regenerate)
    results = {}
    kinds = ["duckdb", *args.engine] + ([] if args.skip_pandas else ["pandas"])
    for kind in kinds:
        print(f"{kind}: reconciling ...", flush=True)
        results[kind] = measure(kind, data, data / f"verdicts-{kind}", args)

    read = json.loads((data / "manifest.json").read_text())["rows"]
    print()
    given = results["duckdb"]["rows"]
    print(f"reconciliation: {read:,} subscriptions read, {given:,} active ones given a "
          f"verdict, against {args.citizens:,} citizens ({os.cpu_count()} CPUs)")  # fmt: skip
    print("rows/s counts subscriptions read; peak MB is the child process's ru_maxrss")
    print(f"{'':8} {'wall s':>8} {'rows/s':>12} {'peak MB':>9} {'cpu s':>7}")
    for kind, r in results.items():
        print(f"{kind:8} {r['seconds']:8.2f} {read / r['seconds']:12,.0f} "
              f"{r['peak_mb']:9,.0f} {r['cpu_seconds']:7.1f}")  # fmt: skip
    for kind in ("duckdb", *args.engine):
        phases = results[kind].get("phases", {})
        print(f"{kind} phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    for kind in args.engine:
        differ, counts = compare(data / "verdicts-duckdb", data / f"verdicts-{kind}")
        print(f"{kind}: {results[kind]['seconds'] / results['duckdb']['seconds']:.1f}x "
              f"DuckDB's wall time; rows that differ from DuckDB's: {differ:,}")  # fmt: skip
        if differ:
            raise SystemExit(f"{kind} and DuckDB disagree")
    if "pandas" in results:
        speedup = results["pandas"]["seconds"] / results["duckdb"]["seconds"]
        differ, counts = compare(data / "verdicts-duckdb", data / "verdicts-pandas")
        print(f"speed-up over pandas: {speedup:.1f}x")
        print(f"verdicts: {counts}; rows that differ between the two: {differ:,}")
        if differ:
            raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
