"""SybilRank and SybilSCAR over a symmetric scipy.sparse CSR adjacency (weights on the edges).

Pure functions: no I/O, no Python loop over nodes or edges; each step is one sparse product.

* ``sybilrank`` -- Cao, Sirivianos, Yang, Pregueiro, "Aiding the Detection of Fake Accounts in
  Large Scale Social Online Services", NSDI 2012. Trust starts evenly on the seeds and spreads
  by an early-terminated power iteration, ``ceil(log2 n)`` steps ``T <- W D^-1 T``; an account's
  trust is then divided by its degree. Its fake score is a rank: the share of accounts holding
  more degree-normalized trust (1: the least trusted account).
* ``sybilscar`` -- Wang, Zhang, Gong, "SybilSCAR: Sybil Detection in Online Social Networks via
  Local Rule based Propagation", INFOCOM 2017. Residual priors ``q - 1/2`` (+theta for a sybil
  label, -theta for a benign label or seed, 0 otherwise) and the local rule
  ``p - 1/2 = (q - 1/2) + sum_v 2 (w_uv - 1/2)(p_v - 1/2)``, bounded to [0, 1], iterated until
  the largest change is below ``tol`` or ``max_steps``. By default the homophily is degree-
  normalized, ``w_uv = 1/2 + alpha w(u,v) / (2 d_u)`` (the paper's SybilSCAR-D form, damped by
  ``alpha`` < 1 so the rule is a contraction); a constant ``homophily`` gives SybilSCAR-C. The
  fake score is the posterior ``p``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

Vector = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Ranking:
    """Per-account fake score in [0, 1] (higher: more likely fake) and the raw signal."""

    method: str
    score: Vector
    signal: Vector  # SybilRank: trust / degree over its mean; SybilSCAR: posterior residual
    steps: int
    converged: bool


def degrees(adj: sparse.csr_matrix) -> Vector:
    return np.asarray(adj.sum(axis=1), dtype=np.float64).ravel()


def _inverse(d: Vector) -> Vector:
    out = np.zeros_like(d)
    np.divide(1.0, d, out=out, where=d > 0)
    return out


def _rank_score(signal: Vector) -> Vector:
    """1 - (share of accounts with a lower signal), ties sharing their mean rank."""
    from scipy.stats import rankdata

    n = len(signal)
    if n <= 1:
        return np.full(n, 0.5)
    # Equal trust summed in another order differs in its last bits: rounded first, such ties
    # stay ties, so the ranking does not depend on the order of the accounts.
    tied = np.round(signal, 9)
    return np.asarray(1.0 - (rankdata(tied) - 1.0) / (n - 1.0), dtype=np.float64)


def sybilrank(adj: sparse.csr_matrix, seeds: Index, steps: int | None = None) -> Ranking:
    """Trust from ``seeds`` by ``ceil(log2 n)`` power-iteration steps, degree-normalized."""
    n = adj.shape[0]
    d = degrees(adj)
    inv = _inverse(d)
    trust = np.zeros(n)
    seeds = np.unique(seeds)
    if len(seeds):
        trust[seeds] = float(n) / len(seeds)  # total trust n, so the fixed point is ~d/mean(d)
    k = steps if steps is not None else max(1, math.ceil(math.log2(max(n, 2))))
    for _ in range(k):
        trust = adj @ (trust * inv)
    total = d.sum()
    signal = trust * inv * (total / n) if total else trust  # ~1 where trust has mixed
    return Ranking("sybilrank", _rank_score(signal), signal, k, True)


def sybilscar(
    adj: sparse.csr_matrix,
    benign: Index,
    sybil: Index,
    *,
    theta: float = 0.4,
    alpha: float = 0.9,
    homophily: float | None = None,
    tol: float = 1e-4,
    max_steps: int = 100,
) -> Ranking:
    """Posterior probability of being a Sybil by SybilSCAR's local rule.

    ``benign`` and ``sybil`` are account indexes with priors 1/2 - theta and 1/2 + theta;
    an account in both keeps the neutral prior 1/2.
    """
    n = adj.shape[0]
    prior = np.zeros(n)
    prior[np.unique(benign)] -= theta
    prior[np.unique(sybil)] += theta
    if homophily is None:
        inv = _inverse(degrees(adj))
        step = sparse.csr_matrix(
            (adj.data * np.repeat(alpha * inv, np.diff(adj.indptr)), adj.indices, adj.indptr),
            shape=adj.shape,
        )
    else:
        step = adj * (2.0 * (homophily - 0.5))
    post = prior.copy()
    converged, k = False, 0
    for k in range(1, max_steps + 1):  # noqa: B007  (k is read after the loop)
        nxt = np.clip(prior + step @ post, -0.5, 0.5)
        change = float(np.abs(nxt - post).max()) if n else 0.0
        post = nxt
        if change < tol:
            converged = True
            break
    return Ranking("sybilscar", post + 0.5, post, k, converged)
