"""SybilRank and SybilSCAR: hand-computed cases, properties, and separation on a synthetic graph."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from dinhdanh.social.sybil import sybilrank, sybilscar
from dinhdanh.social.sybil.evaluate import auc, dense_clusters, precision_at
from dinhdanh.social.sybil.reasons import reason_codes
from dinhdanh.synth.social import generate_social


def graph(n: int, edges: list[tuple[int, int]], weights: list[float] | None = None):
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array(weights if weights is not None else [1.0] * len(edges))
    m = sparse.coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    ).tocsr()
    m.sum_duplicates()
    return m


PATH = graph(3, [(0, 1), (1, 2)])
NONE = np.array([], dtype=np.int64)


def test_sybilrank_on_a_path_by_hand() -> None:
    # n = 3: ceil(log2 3) = 2 steps. T0 = (3,0,0); T1 = A(T0/d) = (0,3,0); T2 = (1.5,0,1.5).
    # Degree-normalized over the mean trust per degree (n / vol = 3/4): (2, 0, 2).
    r = sybilrank(PATH, np.array([0]))
    assert r.steps == 2
    assert r.signal == pytest.approx([2.0, 0.0, 2.0])
    assert r.score == pytest.approx([0.25, 1.0, 0.25])  # 1 - (rank - 1) / (n - 1), ties shared


def test_sybilscar_constant_homophily_by_hand() -> None:
    # w = 0.6: residual rule p = q + 0.2 * sum(neighbours). By symmetry p_b = 0, so
    # p_a = -0.4 and p_c = +0.4: posteriors 0.1, 0.5, 0.9.
    r = sybilscar(PATH, np.array([0]), np.array([2]), homophily=0.6, tol=1e-12)
    assert r.converged
    assert r.score == pytest.approx([0.1, 0.5, 0.9])


def test_sybilscar_bounds_the_residual() -> None:
    # One edge, a benign: a = clip(-0.4 + 0.9 b), b = 0.9 a. Unbounded, a = -0.4 / 0.19 < -0.5;
    # the bound holds a at -0.5, so b = -0.45.
    r = sybilscar(graph(2, [(0, 1)]), np.array([0]), NONE, tol=1e-12)
    assert r.score == pytest.approx([0.0, 0.05])


def test_an_account_labelled_both_ways_keeps_the_neutral_prior() -> None:
    r = sybilscar(graph(2, [(0, 1)]), np.array([0]), np.array([0]))
    assert r.score == pytest.approx([0.5, 0.5])


def test_reason_codes_by_hand() -> None:
    # 0 - 1 - 2, 3 isolated; 2 labelled sybil, 0 benign.
    adj = graph(4, [(0, 1), (1, 2)])
    r = sybilscar(adj, np.array([0]), np.array([2]), homophily=0.6, tol=1e-12)
    codes = reason_codes(adj, r, np.array([0]), np.array([2])).to_pylist()
    assert codes == [
        [],
        [],  # one sybil and one benign neighbour: no majority
        ["LOW_TRUST", "LABELLED_SYBIL"],
        ["ISOLATED"],
    ]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 25))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=80)
    )
    edges = [(a, b) for a, b in pairs if a != b] or [(0, 1)]
    weights = draw(st.lists(st.floats(0.1, 10), min_size=len(edges), max_size=len(edges)))
    benign = np.array(
        sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=4))), np.int64
    )
    sybil = np.array(sorted(draw(st.sets(st.integers(0, n - 1), max_size=4))), np.int64)
    return graph(n, edges, weights), benign, sybil


@settings(max_examples=60, deadline=None)
@given(graphs(), st.randoms(use_true_random=False))
def test_scores_are_in_the_unit_interval_and_ignore_node_order(g, rnd) -> None:
    adj, benign, sybil = g
    n = adj.shape[0]
    perm = np.array(rnd.sample(range(n), n))  # new index of old node i is perm[i]
    inv = np.argsort(perm)
    moved = adj[inv][:, inv].tocsr()
    for run in (
        lambda a, p: sybilrank(a, p(benign)),
        lambda a, p: sybilscar(a, p(benign), p(sybil), tol=1e-10, max_steps=1000),
    ):
        base = run(adj, lambda x: x)
        other = run(moved, lambda x: perm[x])
        assert np.all((base.score >= 0) & (base.score <= 1))
        assert other.score[perm] == pytest.approx(base.score, abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_sybilscar_converges_within_its_step_cap(g) -> None:
    # alpha < 1 makes the degree-normalized rule a contraction, and the bound does not expand.
    adj, benign, sybil = g
    r = sybilscar(adj, benign, sybil, tol=1e-6, max_steps=200)
    assert r.converged
    again = sybilscar(adj, benign, sybil, tol=1e-6, max_steps=r.steps + 50)
    assert again.score == pytest.approx(r.score, abs=1e-4)


@pytest.fixture(scope="module")
def sample():
    return generate_social(3000, 30_000, attack_edges=30, seed=7)


def _inputs(s):
    adj = graph(len(s.accounts), list(zip(s.src.tolist(), s.dst.tolist(), strict=True)))
    benign = np.union1d(s.labelled[~s.label_sybil], s.verified)
    return adj, benign, s.labelled[s.label_sybil]


def test_a_sybil_region_behind_few_attack_edges_ranks_as_fake(sample) -> None:
    adj, benign, sybil = _inputs(sample)
    for r in (sybilrank(adj, benign), sybilscar(adj, benign, sybil)):
        assert auc(r.score, sample.is_sybil) > 0.95, r.method
        # The top 1% (30 accounts) may hold the honest accounts given a wrong sybil label.
        assert precision_at(r.score, sample.is_sybil, 0.01) > 0.8, r.method


def test_the_densest_suspicious_cluster_is_sybil(sample) -> None:
    adj, benign, sybil = _inputs(sample)
    r = sybilscar(adj, benign, sybil)
    top = dense_clusters(adj, r.score, share=0.05)[0]
    assert sample.is_sybil[top.members].mean() > 0.9
    assert 0 < top.density <= 1


def test_auc_by_hand() -> None:
    score = np.array([0.9, 0.8, 0.3, 0.8])
    positive = np.array([True, False, False, True])
    # pairs (pos, neg): (0.9,0.8) 1, (0.9,0.3) 1, (0.8,0.8) 1/2, (0.8,0.3) 1 -> 3.5 / 4
    assert auc(score, positive) == pytest.approx(0.875)
    assert auc(score, np.ones(4, bool)) is None
