"""Synthetic evaluation graphs: seeded, simple, power-law honest region, denser Sybil region."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from scipy import sparse

from dinhdanh.synth.social import edges_table, generate_social, labels_table, write_table


def test_same_seed_same_graph() -> None:
    a = generate_social(2000, 20_000, attack_edges=50, seed=3)
    b = generate_social(2000, 20_000, attack_edges=50, seed=3)
    assert a.accounts.equals(b.accounts)
    assert np.array_equal(a.src, b.src)
    assert np.array_equal(a.dst, b.dst)
    assert not np.array_equal(a.src, generate_social(2000, 20_000, seed=4).src)


def test_shape_of_the_graph() -> None:
    s = generate_social(5000, 60_000, attack_edges=40, sybil_share=0.2, seed=1)
    n = len(s.accounts)
    assert n == 5000
    assert s.is_sybil.sum() == 1000
    assert len(set(s.accounts.to_pylist())) == n
    assert not np.any(s.src == s.dst)
    keys = np.minimum(s.src, s.dst) * n + np.maximum(s.src, s.dst)
    assert len(np.unique(keys)) == s.edges  # no repeated edge
    assert 0.9 * 60_000 < s.edges <= 60_000
    across = s.is_sybil[s.src] != s.is_sybil[s.dst]
    assert across.sum() == 40  # exactly the attack edges
    deg = np.bincount(np.concatenate([s.src, s.dst]), minlength=n)
    assert deg[s.is_sybil].mean() > 1.3 * deg[~s.is_sybil].mean()  # denser Sybil region
    honest = deg[~s.is_sybil]
    assert honest.max() > 10 * np.median(honest)  # heavy tail
    adj = sparse.coo_matrix((np.ones(s.edges), (s.src, s.dst)), shape=(n, n))
    adj = (adj + adj.T).tocsr()
    triangles = (adj @ adj).multiply(adj).sum() / 6
    wedges = (deg * (deg - 1) / 2).sum()
    density = 2 * s.edges / (n * (n - 1))
    assert 3 * triangles / wedges > 5 * density  # clustered far beyond a random graph
    assert not s.is_sybil[s.verified].any()
    wrong = s.label_sybil != s.is_sybil[s.labelled]
    assert 0 < wrong.sum() < 0.2 * len(s.labelled)  # noisy, mostly right


def test_written_feeds(tmp_path: Path) -> None:
    s = generate_social(500, 3000, attack_edges=5, seed=2)
    write_table(edges_table(s), tmp_path / "g.parquet")
    write_table(labels_table(s), tmp_path / "l.csv")
    assert pq.read_table(tmp_path / "g.parquet").column_names == [
        "src_account",
        "dst_account",
        "weight",
    ]
    lines = (tmp_path / "l.csv").read_text().splitlines()
    assert lines[0] == "account,label"
    assert len(lines) == 1 + len(s.labelled)
