"""SybilRank and SybilSCAR on Apache Spark, for graphs beyond one machine (ADR 0019).

The same methods as ``rank`` (read its docstring for the papers and the formulas), on the
same stored graph: Spark reads ``accounts.parquet`` and ``adjacency.parquet`` of a graph
version (``store.graph_dir``) and each step is one join of the edges with the current vector
and one sum per account, spread over the executors. Only the final vectors (one float per
account) come back to the driver, where ``rank`` turns them into scores exactly as it does
(the ranking of SybilRank, the posterior of SybilSCAR): the two engines agree to within
floating-point summation order.

The edge list is rebuilt from the CSR layout: account i's cells are rows
[offset_i, offset_i + degree_i) of the adjacency file, matched by each file's row index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dinhdanh.social.sybil.rank import Index, Ranking, Vector, _inverse, _rank_score

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkGraph", "sparkgraph"]


@dataclass(frozen=True)
class SparkGraph:
    """A stored graph as Spark sees it: ``edges`` (src, dst, w), both directions of each
    edge; ``degree`` (node, d), the weighted degree of every account with an edge."""

    spark: SparkSession
    n: int
    edges: DataFrame
    degree: DataFrame

    def _vector(self, frame: DataFrame, column: str) -> Vector:
        out = np.zeros(self.n)
        table = frame.select("node", column).toArrow()
        out[table["node"].to_numpy()] = table[column].to_numpy()
        return out

    def _sparse(self, index: Index, value: float, column: str) -> DataFrame:
        rows = [(int(i), value) for i in np.unique(index)]
        return self.spark.createDataFrame(rows, f"node LONG, {column} DOUBLE")

    def sybilrank(self, seeds: Index, steps: int | None = None) -> Ranking:
        """``rank.sybilrank``: trust from the seeds, ``ceil(log2 n)`` power-iteration steps."""
        from pyspark.sql import functions as F  # noqa: N812  (Spark's own idiom)

        seeds = np.unique(seeds)
        trust = self._sparse(seeds, float(self.n) / len(seeds) if len(seeds) else 0.0, "t")
        k = steps if steps is not None else max(1, math.ceil(math.log2(max(self.n, 2))))
        for _ in range(k):
            spread = trust.join(self.degree, "node").select(
                F.col("node").alias("dst"), (F.col("t") * (F.lit(1.0) / F.col("d"))).alias("x")
            )
            trust = (
                self.edges.join(spread, "dst")
                .groupBy(F.col("src").alias("node"))
                .agg(F.sum(F.col("w") * F.col("x")).alias("t"))
                .localCheckpoint()
            )
        t, d = self._vector(trust, "t"), self._vector(self.degree, "d")
        total = d.sum()
        signal = t * _inverse(d) * (total / self.n) if total else t
        return Ranking("sybilrank", _rank_score(signal), signal, k, True)

    def sybilscar(
        self,
        benign: Index,
        sybil: Index,
        *,
        theta: float = 0.4,
        alpha: float = 0.9,
        homophily: float | None = None,
        tol: float = 1e-4,
        max_steps: int = 100,
    ) -> Ranking:
        """``rank.sybilscar``: SybilSCAR's local rule until the largest change is below
        ``tol`` or ``max_steps``."""
        from pyspark.sql import functions as F  # noqa: N812  (Spark's own idiom)

        prior_vec = np.zeros(self.n)
        prior_vec[np.unique(benign)] -= theta
        prior_vec[np.unique(sybil)] += theta
        labelled = np.flatnonzero(prior_vec)
        prior = self.spark.createDataFrame(
            [(int(i), float(prior_vec[i])) for i in labelled], "node LONG, q DOUBLE"
        ).localCheckpoint()
        # Each account's factor on its neighbours' sum: alpha / d_u, or a constant.
        if homophily is None:
            scale = F.lit(alpha) * (F.lit(1.0) / F.col("d"))
            factor = self.degree.select("node", scale.alias("f"))
        else:
            factor = self.degree.select("node", F.lit(2.0 * (homophily - 0.5)).alias("f"))
        factor = factor.localCheckpoint()
        post = prior.select("node", F.col("q").alias("p"))
        converged, k = False, 0
        for k in range(1, max_steps + 1):  # noqa: B007  (k is read after the loop)
            sums = (
                self.edges.join(post.withColumnRenamed("node", "dst"), "dst")
                .groupBy(F.col("src").alias("node"))
                .agg(F.sum(F.col("w") * F.col("p")).alias("s"))
                .join(factor, "node")
                .select("node", (F.col("s") * F.col("f")).alias("s"))
            )
            # The next posterior beside the last one, kept (one job), then the largest change.
            both = (
                prior.join(sums, "node", "full")
                .join(post.withColumnRenamed("p", "old"), "node", "full")
                .select(
                    "node",
                    F.least(
                        F.lit(0.5),
                        F.greatest(
                            F.lit(-0.5), F.coalesce("q", F.lit(0.0)) + F.coalesce("s", F.lit(0.0))
                        ),
                    ).alias("p"),
                    F.coalesce("old", F.lit(0.0)).alias("old"),
                )
                .localCheckpoint()
            )
            row = both.select(F.max(F.abs(F.col("p") - F.col("old")))).first()
            change = float(row[0]) if row is not None and row[0] is not None else 0.0
            post = both.where(F.col("p") != 0.0).select("node", "p")
            if change < tol:
                converged = True
                break
        p = self._vector(post, "p")
        return Ranking("sybilscar", p + 0.5, p, k, converged)


def sparkgraph(spark: SparkSession, where: Path) -> SparkGraph:
    """The graph stored in ``where`` (``store.graph_dir``) as edges and degrees on Spark."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812  (Spark's own idiom)

    accounts = spark.read.parquet(str(where / "accounts.parquet")).select(
        F.col("_metadata.row_index").alias("node"), "degree"
    )
    # Offsets by a running sum in account order: one partition, over the accounts only.
    before = Window.orderBy("node").rowsBetween(Window.unboundedPreceding, -1)
    rows = (
        accounts.where(F.col("degree") > 0)
        .withColumn("start", F.coalesce(F.sum("degree").over(before), F.lit(0)))
        .select(
            "node",
            F.explode(
                F.sequence(
                    F.col("start").cast("long"),
                    (F.col("start") + F.col("degree") - 1).cast("long"),
                )
            ).alias("cell"),
        )
    )
    cells = spark.read.parquet(str(where / "adjacency.parquet")).select(
        F.col("_metadata.row_index").alias("cell"),
        F.col("col").cast("long").alias("dst"),
        F.col("weight").cast("double").alias("w"),
    )
    edges = rows.join(cells, "cell").select(F.col("node").alias("src"), "dst", "w")
    edges = edges.localCheckpoint()
    degree = edges.groupBy(F.col("src").alias("node")).agg(F.sum("w").alias("d")).localCheckpoint()
    return SparkGraph(spark, accounts.count(), edges, degree)
