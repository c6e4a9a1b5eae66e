"""The junk-SIM reconciliation on Apache Spark, for data beyond one machine (ADR 0019).

The same inputs as ``telecom.reconcile`` (as Parquet files or directories that every
executor can read), the same rules (``telecom.rule_sql``, in Spark's dialect) and the same
outputs. Spark computes every active subscription's reason mask over the whole country and
writes (carrier, msisdn, activation_at, mask) as Parquet; the small remainder (one verdict
per distinct mask from ``rules.decide``, the per-carrier files, summary and report) is
``telecom.reconcile.finish`` on DuckDB over that Parquet, exactly as the DuckDB engine ends.

Spark needs no candidate narrowing: every group rule is a shuffle by its key, which a
cluster spreads over its executors. On a cluster, ``out_dir`` (where the verdicts are
written before the files are made) must be storage every executor reaches.
"""

# SQL here comes from rule_sql and fixed view names; the carrier filter is a bound column
# comparison, paths are quoted literals.
# ruff: noqa: S608

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from dinhdanh.analytics.duck import quote_identifier
from dinhdanh.store.private import private_dir
from dinhdanh.telecom.reconcile import (
    REGISTRY_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    Summary,
    check_carrier,
    finish,
)
from dinhdanh.telecom.rule_sql import (
    SPARK,
    active_sql,
    group_flags_sql,
    normalized_sql,
    registry_sql,
    row_mask_sql,
)
from dinhdanh.telecom.rules import RuleConfig

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["Inputs", "reconcile_spark"]

_VIEW = "_dd_spark_"


@dataclass(frozen=True)
class Inputs:
    """Parquet files (or directories of them) holding the engine's input relations."""

    subscriptions: Path
    registry: Path
    disowned: Path | None = None


def _read(spark: SparkSession, path: Path, columns: tuple[str, ...], what: str) -> DataFrame:
    frame = spark.read.parquet(str(path))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s): {', '.join(missing)}")
    return frame


def reconcile_spark(
    spark: SparkSession,
    con: duckdb.DuckDBPyConnection,
    inputs: Inputs,
    out_dir: Path,
    as_of: date,
    config: RuleConfig,
    carrier: str | None = None,
    *,
    provinces: str | None = None,
) -> Summary:
    """``telecom.reconcile.reconcile`` with the rules run by ``spark``; ``con`` (DuckDB)
    writes the files from Spark's verdicts and holds ``provinces`` when given."""
    started = time.perf_counter()
    check_carrier(carrier)
    prov = quote_identifier(provinces) if provinces is not None else None
    v = {name: _VIEW + name for name in ("src", "registry", "disowned", "subs", "active")}
    subs = _read(spark, inputs.subscriptions, SUBSCRIPTION_COLUMNS, "subscriptions")
    subs.createOrReplaceTempView(v["src"])
    _read(spark, inputs.registry, REGISTRY_COLUMNS, "registry").createOrReplaceTempView(
        v["registry"]
    )
    if inputs.disowned is not None:
        disowned = _read(spark, inputs.disowned, ("msisdn",), "disowned")
    else:
        disowned = spark.createDataFrame([], "msisdn STRING")
    disowned.selectExpr("CAST(msisdn AS STRING) AS msisdn").distinct().createOrReplaceTempView(
        v["disowned"]
    )
    spark.sql(f"CREATE OR REPLACE TEMP VIEW {v['subs']} AS {normalized_sql(v['src'])}")
    spark.sql(f"CREATE OR REPLACE TEMP VIEW {v['active']} AS {active_sql(v['subs'])}")

    private_dir(out_dir)
    scratch = Path(tempfile.mkdtemp(prefix=".spark-", dir=out_dir))
    view = "_dd_reconcile_spark_verdicts"
    try:
        repeated = spark.sql(
            f"""SELECT count(*) FROM (SELECT carrier, msisdn FROM {v["active"]}
            GROUP BY carrier, msisdn HAVING count(*) > 1) pairs"""
        ).first()
        if repeated is not None and repeated[0]:
            raise ValueError(
                f"{repeated[0]} (carrier, msisdn) pair(s) have more than one active subscription"
            )
        flags = group_flags_sql(
            config, {"active": v["active"], "activations": v["subs"]}, v["disowned"], SPARK
        )
        verdicts = spark.sql(
            f"""SELECT a.carrier, a.msisdn,
                   CAST(a.activation_at AS TIMESTAMP_NTZ) AS activation_at,
                   {row_mask_sql(as_of)} | coalesce(g.bits, 0) AS mask
            FROM {v["active"]} a
            LEFT JOIN ({registry_sql(v["registry"])}) r ON r.id_bidx = a.id_bidx
            LEFT JOIN ({flags}) g ON g.carrier = a.carrier AND g.msisdn = a.msisdn"""
        )
        if carrier is not None:
            verdicts = verdicts.where(verdicts["carrier"] == carrier)
        written = scratch / "verdicts"
        verdicts.write.mode("error").parquet(str(written))
        flagged = time.perf_counter() - started
        glob = str(written / "*.parquet").replace("'", "''")
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS "
            f"SELECT carrier, msisdn, activation_at, mask FROM read_parquet('{glob}')"
        )
        return finish(
            con, view, out_dir, as_of, config, carrier,
            provinces=prov, started=started, flags_seconds=flagged,
        )  # fmt: skip
    finally:
        con.execute(f"DROP VIEW IF EXISTS {view}")
        for name in v.values():
            spark.catalog.dropTempView(name)
        shutil.rmtree(scratch, ignore_errors=True)
