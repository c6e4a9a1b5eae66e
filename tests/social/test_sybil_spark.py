"""SybilRank and SybilSCAR on Spark against scipy, on the same stored synthetic graph: scores
equal within 1e-6, the same steps, reason codes and outputs. (SybilSCAR runs a fixed number
of steps here: to convergence it takes about 40, each a few Spark jobs.)"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dinhdanh.social.sybil import Method, import_graph, import_labels, rank_graph, write_outputs
from dinhdanh.social.sybil.rank import sybilscar
from dinhdanh.social.sybil.rank_spark import SparkGraph, sparkgraph
from dinhdanh.social.sybil.store import graph_dir, indexes_of, load_labels, read_graph
from dinhdanh.synth.social import generate_social

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A platform's weighted graph and its labels, imported."""
    s = generate_social(1200, 6_000, attack_edges=15, seed=5)
    rng = np.random.default_rng(6)
    data = tmp_path_factory.mktemp("social")
    ids = s.accounts
    graph = pa.table(
        {
            "src_account": ids.take(pa.array(s.src)),
            "dst_account": ids.take(pa.array(s.dst)),
            "weight": pa.array(rng.choice([0.5, 1.0, 2.0, 3.0], len(s.src))),
        }
    )
    pq.write_table(graph, data / "graph.parquet")
    labels = pa.table(
        {
            "account": ids.take(pa.array(s.labelled)),
            "label": pa.array(np.where(s.label_sybil, "sybil", "benign")),
        }
    )
    pq.write_table(labels, data / "labels.parquet")
    assert import_graph(data / "graph.parquet", data, "zz").rejected_count == 0
    assert import_labels(data / "labels.parquet", data, "zz").rejected_count == 0
    return data


@pytest.fixture(scope="module")
def on_spark(spark: SparkSession, stored: Path) -> SparkGraph:
    return sparkgraph(spark, graph_dir(stored, "zz"))


def test_the_edges_are_the_stored_csr(on_spark: SparkGraph, stored: Path) -> None:
    adj = read_graph(graph_dir(stored, "zz")).adj.tocoo()
    table = on_spark.edges.toArrow()
    got = sorted(zip(*(table[c].to_pylist() for c in ("src", "dst", "w")), strict=True))
    want = sorted(zip(adj.row.tolist(), adj.col.tolist(), adj.data.tolist(), strict=True))
    assert on_spark.n == adj.shape[0]
    assert got == want


def test_spark_ranks_as_scipy_does(on_spark: SparkGraph, stored: Path, tmp_path: Path) -> None:
    """SybilRank through the whole service: scores, reasons and every output."""
    graph = read_graph(graph_dir(stored, "zz"))
    labels = load_labels(stored, "zz")
    seeds = graph.accounts.to_pylist()[::50]  # the platform's verified accounts, say
    here = rank_graph(graph, labels, Method.SYBILRANK, seeds)
    there = rank_graph(graph, labels, Method.SYBILRANK, seeds, on_spark)
    assert np.abs(there.ranking.score - here.ranking.score).max() <= 1e-6
    assert np.abs(there.ranking.signal - here.ranking.signal).max() <= 1e-6
    assert there.ranking.steps == here.ranking.steps
    assert there.reasons.to_pylist() == here.reasons.to_pylist()
    info = write_outputs(there, "zz", tmp_path / "spark")
    assert info == write_outputs(here, "zz", tmp_path / "here")
    assert info["auc_on_labels"] > 0.8  # and the ranking means something


@pytest.mark.parametrize("homophily", [None, 0.7])
def test_sybilscar_steps_are_scipys(
    homophily: float | None, on_spark: SparkGraph, stored: Path
) -> None:
    """SybilSCAR's local rule, step for step: 8 steps (each a few Spark jobs), then the
    posteriors; convergence itself is the same comparison of the largest change."""
    graph = read_graph(graph_dir(stored, "zz"))
    labels = load_labels(stored, "zz")
    benign = indexes_of(graph, labels["account"].filter(pc.equal(labels["label"], "benign")))
    sybil = indexes_of(graph, labels["account"].filter(pc.equal(labels["label"], "sybil")))
    here = sybilscar(graph.adj, benign, sybil, homophily=homophily, max_steps=8)
    there = on_spark.sybilscar(benign, sybil, homophily=homophily, max_steps=8)
    assert (there.steps, there.converged) == (here.steps, here.converged) == (8, False)
    assert np.abs(there.score - here.score).max() <= 1e-6
    assert np.abs(here.score - 0.5).max() > 0.1  # the priors spread: not a trivial vector
