"""Ranking quality, vectorized: ROC curve, AUC (Mann-Whitney), precision among the top scores,
and the densest clusters of suspicious accounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.stats import rankdata

Vector = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


def auc(score: Vector, positive: Mask) -> float | None:
    """Probability that a random positive outranks a random negative (ties count half)."""
    pos, neg = int(positive.sum()), int((~positive).sum())
    if pos == 0 or neg == 0:
        return None
    ranks = rankdata(score)
    return float((ranks[positive].sum() - pos * (pos + 1) / 2) / (pos * neg))


def roc_curve(score: Vector, positive: Mask, points: int = 101) -> tuple[Vector, Vector]:
    """(false positive rate, true positive rate) at ``points`` thresholds, for drawing."""
    order = np.argsort(-score, kind="stable")
    hits = positive[order]
    tp = np.concatenate([[0], np.cumsum(hits)])
    fp = np.concatenate([[0], np.cumsum(~hits)])
    pick = np.linspace(0, len(order), points).astype(np.int64)
    return fp[pick] / max(int(fp[-1]), 1), tp[pick] / max(int(tp[-1]), 1)


def precision_at(score: Vector, positive: Mask, share: float = 0.01) -> float:
    """Share of true positives among the ``share`` highest scores."""
    k = max(1, round(len(score) * share))
    top = np.argpartition(-score, k - 1)[:k]
    return float(positive[top].mean())


@dataclass(frozen=True)
class Cluster:
    members: npt.NDArray[np.int64]  # account indexes, the most suspicious first
    internal_edges: int
    boundary_edges: int

    @property
    def density(self) -> float:
        n = len(self.members)
        return 2 * self.internal_edges / (n * (n - 1)) if n > 1 else 0.0


def dense_clusters(
    adj: sparse.csr_matrix, score: Vector, share: float = 0.01, limit: int = 10, min_size: int = 3
) -> list[Cluster]:
    """Connected groups among the ``share`` most suspicious accounts, by internal edges."""
    n = adj.shape[0]
    k = min(n, max(min_size, round(n * share)))
    if n == 0:
        return []
    top = np.sort(np.argpartition(-score, k - 1)[:k])
    sub = adj[top][:, top]
    _, comp = connected_components(sub, directed=False)
    size = np.bincount(comp)
    internal = np.bincount(comp[sub.tocoo().row], minlength=len(size)) // 2
    boundary = np.diff(adj.indptr)[top]
    outside = np.bincount(comp, weights=boundary, minlength=len(size)) - 2 * internal
    big = np.flatnonzero(size >= min_size)
    big = big[np.lexsort((-size[big], -internal[big]))][:limit]
    clusters = []
    for c in big.tolist():  # at most `limit` clusters
        members = top[comp == c]
        members = members[np.argsort(-score[members], kind="stable")]
        clusters.append(Cluster(members, int(internal[c]), int(outside[c])))
    return clusters
