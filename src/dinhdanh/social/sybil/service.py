"""Rank a platform's accounts: load its graph and labels, run a ranker, write the results.

Trust seeds are the accounts labelled ``benign`` plus ``extra_seeds``: the accounts a verified
person stands behind (``social.platform_data`` passes the platform's bound accounts).
``sybil`` labels are SybilSCAR's negative priors; SybilRank uses only the seeds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dinhdanh.social.sybil import evaluate
from dinhdanh.social.sybil.rank import Index, Ranking, sybilrank, sybilscar
from dinhdanh.social.sybil.reasons import CODES, reason_codes
from dinhdanh.social.sybil.report import render_report
from dinhdanh.social.sybil.store import Graph, indexes_of, load_graph, load_labels
from dinhdanh.store.private import private_dir, write_private


class Method(StrEnum):
    SYBILSCAR = "sybilscar"
    SYBILRANK = "sybilrank"


@dataclass(frozen=True)
class Result:
    graph: Graph
    ranking: Ranking
    reasons: pa.ListArray
    benign: Index  # labelled benign (graph indexes)
    sybil: Index  # labelled sybil
    seeds: Index  # benign labels and extra seeds
    labels_outside_graph: int


class Ranker(Protocol):
    """What runs the methods: ``rank`` (scipy, here) or ``rank_spark.SparkGraph``."""

    def sybilrank(self, seeds: Index) -> Ranking: ...

    def sybilscar(self, benign: Index, sybil: Index) -> Ranking: ...


@dataclass(frozen=True)
class SciPy:
    graph: Graph

    def sybilrank(self, seeds: Index) -> Ranking:
        return sybilrank(self.graph.adj, seeds)

    def sybilscar(self, benign: Index, sybil: Index) -> Ranking:
        return sybilscar(self.graph.adj, benign, sybil)


def rank_graph(
    graph: Graph,
    labels: pa.Table,
    method: Method,
    extra_seeds: Iterable[str] = (),
    ranker: Ranker | None = None,
) -> Result:
    """Rank ``graph``'s accounts; ``ranker`` (the same graph elsewhere, on Spark say) runs
    the method instead of scipy here."""
    is_benign = pc.equal(labels["label"], "benign")
    benign = indexes_of(graph, labels["account"].filter(is_benign))
    sybil = indexes_of(graph, labels["account"].filter(pc.invert(is_benign)))
    extra = indexes_of(graph, pa.array(list(extra_seeds), pa.string()))
    seeds = np.union1d(benign, extra)
    run = ranker if ranker is not None else SciPy(graph)
    ranking = run.sybilrank(seeds) if method is Method.SYBILRANK else run.sybilscar(seeds, sybil)
    return Result(
        graph,
        ranking,
        reason_codes(graph.adj, ranking, benign, sybil),
        benign,
        sybil,
        seeds,
        labels.num_rows - len(benign) - len(sybil),
    )


def rank_platform(
    data_dir: Path, platform: str, method: Method, extra_seeds: Iterable[str] = ()
) -> Result:
    return rank_graph(
        load_graph(data_dir, platform), load_labels(data_dir, platform), method, extra_seeds
    )


def summary(result: Result, platform: str) -> dict[str, Any]:
    """Counts, the method's run, AUC on the labelled accounts when both labels exist."""
    r, adj = result.ranking, result.graph.adj
    labelled = np.concatenate([result.benign, result.sybil])
    truth = np.concatenate([np.zeros(len(result.benign), bool), np.ones(len(result.sybil), bool)])
    flat = pc.list_flatten(result.reasons)
    counts = pc.value_counts(flat).to_pylist() if len(flat) else []
    by_code = {c["values"]: c["counts"] for c in counts}
    return {
        "platform": platform,
        "method": r.method,
        "accounts": adj.shape[0],
        "edges": adj.nnz // 2,
        "steps": r.steps,
        "converged": r.converged,
        "seeds": len(result.seeds),
        "labels": {"benign": len(result.benign), "sybil": len(result.sybil)},
        "labels_outside_graph": result.labels_outside_graph,
        "auc_on_labels": evaluate.auc(r.score[labelled], truth) if len(labelled) else None,
        "score_quantiles": dict(
            zip(
                ("p50", "p90", "p99"),
                [float(q) for q in np.quantile(r.score, [0.5, 0.9, 0.99])] if len(r.score) else [],
                strict=False,
            )
        ),
        "reasons": {code: int(by_code.get(code, 0)) for code in CODES},
    }


def write_outputs(result: Result, platform: str, out: Path) -> dict[str, Any]:
    """``scores.parquet``, ``summary.json`` and ``report.html`` in ``out``; returns the summary.

    They name accounts: ``out`` is created 0700 and the files 0600, each written beside and
    renamed."""
    private_dir(out)
    scores = pa.table(
        {
            "account": result.graph.accounts,
            "score": pa.array(result.ranking.score),
            "reasons": result.reasons,
        }
    )
    partial = out / ".scores.parquet.partial"
    pq.write_table(scores, partial)
    os.chmod(partial, 0o600)
    partial.replace(out / "scores.parquet")
    info = summary(result, platform)
    write_private(out / "summary.json", json.dumps(info, indent=2) + "\n")
    write_private(out / "report.html", render_report(result_view(result), info))
    return info


def result_view(result: Result) -> dict[str, Any]:
    """What the report draws: histogram, ROC on labelled accounts, densest suspicious clusters."""
    score, adj = result.ranking.score, result.graph.adj
    hist, _ = np.histogram(score, bins=20, range=(0.0, 1.0))
    labelled = np.concatenate([result.benign, result.sybil])
    truth = np.concatenate([np.zeros(len(result.benign), bool), np.ones(len(result.sybil), bool)])
    roc = None
    if truth.any() and (~truth).any():
        fpr, tpr = evaluate.roc_curve(score[labelled], truth)
        roc = (fpr.tolist(), tpr.tolist())
    clusters = [
        {
            "size": len(c.members),
            "internal_edges": c.internal_edges,
            "boundary_edges": c.boundary_edges,
            "density": c.density,
            "mean_score": float(score[c.members].mean()),
            "sample": result.graph.accounts.take(pa.array(c.members[:5])).to_pylist(),
        }
        for c in evaluate.dense_clusters(adj, score)
    ]
    return {"histogram": hist.tolist(), "roc": roc, "clusters": clusters}
