"""Fake-account ranking at platform scale: SybilRank and SybilSCAR against NetworkX's PageRank.

    python benchmarks/sybil.py                                   # 1,000,000 accounts, 10 M edges
    python benchmarks/sybil.py --accounts 100000 --edges 1000000 --peer-accounts 20000

For each number of attack edges g (1,000, 10,000, 100,000, scaled with --accounts) a seeded
graph (``dinhdanh.synth.social``) is written as the platforms' upload (Parquet) and imported
with ``social.sybil.import_graph``, as `dinhdanh import social-graph` does. Each method then
runs in its own child process, so its wall time and peak memory (the child's ru_maxrss) cover
loading the stored Parquet graph and labels, ranking and reason codes, and nothing else. AUC and
precision among the 1% highest scores are measured against the generator's truth. Trust seeds:
the accounts labelled benign (noisy) and the verified ones; sybil labels are SybilSCAR's
negative priors.

The peer, NetworkX's PageRank personalized on the same seeds (an account's fake score is its
lack of PageRank), builds a Python graph object per edge: it runs at --peer-accounts and
--peer-edges (default a tenth of the full size) with g scaled alike, beside our two methods on
the same data, and is stopped after --peer-timeout seconds.

Targets (issue 10, 2 vCPUs): under 15 s and 2 GB per method at 1 M / 10 M, SybilSCAR AUC at
least 0.95 at g = 10,000.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
SEED = 20260101
ATTACKS = (1_000, 10_000, 100_000)  # at 1,000,000 accounts


def prepare(accounts: int, edges: int, g: int) -> tuple[Path, dict[str, Any]]:
    """Generate and import one graph (reused when already there); returns its directory."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dinhdanh.social.sybil import import_graph, import_labels
    from dinhdanh.synth.social import edges_table, generate_social, labels_table

    where = ROOT / "out" / f"sybil-{accounts}-{edges}-{g}"
    done = where / "prepared.json"
    if done.exists():
        return where, json.loads(done.read_text())
    where.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    s = generate_social(accounts, edges, attack_edges=g, seed=SEED)
    t_gen = time.perf_counter() - t0
    pq.write_table(edges_table(s), where / "upload.parquet")
    pq.write_table(labels_table(s), where / "labels.parquet")
    pq.write_table(
        pa.table({"account": s.accounts, "is_sybil": pa.array(s.is_sybil)}), where / "truth.parquet"
    )
    pq.write_table(
        pa.table({"account": s.accounts.take(pa.array(s.verified))}), where / "verified.parquet"
    )
    t0 = time.perf_counter()
    report = import_graph(where / "upload.parquet", where / "data", "bench")
    t_import = time.perf_counter() - t0
    import_labels(where / "labels.parquet", where / "data", "bench")
    info = {
        "accounts": accounts,
        "edges": int(s.edges),
        "attack_edges": g,
        "sybils": int(np.sum(s.is_sybil)),
        "labels": len(s.labelled),
        "verified": len(s.verified),
        "generate_s": round(t_gen, 2),
        "import_s": round(t_import, 2),
        "stored": report.stored,
    }
    done.write_text(json.dumps(info))
    return where, info


def _quality(accounts: Any, score: Any, where: Path) -> dict[str, float | None]:
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from dinhdanh.social.sybil.evaluate import auc, precision_at

    truth = pq.read_table(where / "truth.parquet")
    pos = pc.index_in(accounts, value_set=truth["account"].combine_chunks()).to_numpy()
    is_sybil = truth["is_sybil"].to_numpy()[np.asarray(pos, dtype=np.int64)]
    return {"auc": auc(score, is_sybil), "precision_top1pct": precision_at(score, is_sybil, 0.01)}


def child(where: Path, method: str) -> dict[str, Any]:
    """One contender in this process: load, rank, measure (quality checked after the clock)."""
    import pyarrow.parquet as pq

    verified = pq.read_table(where / "verified.parquet")["account"].to_pylist()
    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    if method == "networkx":
        score, accounts, per_degree = _networkx(where, verified)
    else:
        from dinhdanh.social.sybil import Method, rank_platform

        result = rank_platform(where / "data", "bench", Method(method), extra_seeds=verified)
        score, accounts = result.ranking.score, result.graph.accounts
        steps = result.ranking.steps
    wall = time.perf_counter() - t0
    peak_mb = _peak_kib() / 1024
    out = {"method": method, "wall_s": round(wall, 2), "peak_mb": round(peak_mb)}
    if method == "networkx":  # the same PageRank divided by degree, as SybilRank does
        extra = {"auc_per_degree": _quality(accounts, per_degree, where)["auc"]}
    else:
        out["steps"] = steps
    return out | _quality(accounts, score, where) | extra


def _peak_kib() -> int:
    """This process's peak resident memory. Not ru_maxrss: Linux keeps that across execve, so a
    child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _networkx(where: Path, verified: list[str]) -> tuple[Any, Any, Any]:
    import networkx as nx
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    edges = pq.read_table(where / "upload.parquet")
    labels = pq.read_table(where / "labels.parquet").to_pylist()
    graph = nx.Graph()
    graph.add_weighted_edges_from(
        zip(
            edges["src_account"].to_pylist(),
            edges["dst_account"].to_pylist(),
            edges["weight"].to_pylist(),
            strict=True,
        )
    )
    seeds = {a for a in verified if a in graph}
    seeds |= {r["account"] for r in labels if r["label"] == "benign" and r["account"] in graph}
    rank = nx.pagerank(graph, personalization=dict.fromkeys(seeds, 1.0), weight="weight")
    names = list(rank)
    pr = np.fromiter(rank.values(), dtype=np.float64, count=len(names))
    degree = np.fromiter((graph.degree(a, weight="weight") for a in names), np.float64, len(names))
    return -pr, pa.array(names), -pr / degree


def run_child(where: Path, method: str, timeout: float | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(where), "--method", method]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"method": method, "timeout_s": timeout}
    if proc.returncode != 0:
        raise SystemExit(f"{method} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.splitlines()[-1]))


def show(tag: str, row: dict[str, Any]) -> None:
    if "timeout_s" in row:
        print(f"{tag:>26}  {row['method']:<10} stopped after {row['timeout_s']:.0f} s", flush=True)
        return
    print(
        f"{tag:>26}  {row['method']:<10} {row['wall_s']:>7.2f} s {row['peak_mb']:>6} MB  "
        f"AUC {row['auc']:.4f}  precision@1% {row['precision_top1pct']:.3f}"
        + (f"  (per degree: AUC {row['auc_per_degree']:.4f})" if "auc_per_degree" in row else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=10_000_000)
    parser.add_argument("--peer-accounts", type=int, default=None)
    parser.add_argument("--peer-edges", type=int, default=None)
    parser.add_argument("--peer-timeout", type=float, default=600)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--peer-only", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.method)))
        return
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    results: list[dict[str, Any]] = []
    scale = args.accounts / 1_000_000
    for g0 in () if args.peer_only else ATTACKS:
        g = max(1, round(g0 * scale))
        where, info = prepare(args.accounts, args.edges, g)
        tag = f"{info['accounts']:,}/{info['edges']:,} g={g:,}"
        print(
            f"{tag:>26}  generated in {info['generate_s']} s, imported in {info['import_s']} s",
            flush=True,
        )
        for method in ("sybilrank", "sybilscar"):
            row = run_child(where, method, None)
            show(tag, row)
            results.append(info | row)
    if not args.no_peer:
        pa_ = args.peer_accounts or args.accounts // 10
        pe = args.peer_edges or args.edges * pa_ // args.accounts
        g = max(1, round(10_000 * pa_ / 1_000_000))
        where, info = prepare(pa_, pe, g)
        tag = f"{info['accounts']:,}/{info['edges']:,} g={g:,}"
        for method in ("sybilrank", "sybilscar", "networkx"):
            row = run_child(where, method, args.peer_timeout if method == "networkx" else None)
            show(tag, row)
            results.append(info | row)
    print(f"load average {os.getloadavg()}", flush=True)
    name = f"sybil-{args.accounts}-{args.edges}{'-peer' if args.peer_only else ''}.json"
    out = ROOT / "out" / name
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
