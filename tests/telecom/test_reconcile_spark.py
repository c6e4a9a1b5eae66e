"""The Spark reconciliation engine against the DuckDB one: the same Parquet inputs must give
identical files (verdicts, reasons, actions) and the same summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dinhdanh.analytics import connect
from dinhdanh.analytics.spark import SparkUnavailable, session
from dinhdanh.crypto import KeyRing
from dinhdanh.synth import generate_population
from dinhdanh.synth.telecom import engine_inputs, generate_subscriptions, ground_truth
from dinhdanh.telecom.reconcile import Summary, reconcile
from dinhdanh.telecom.reconcile_spark import Inputs, reconcile_spark
from dinhdanh.telecom.rule_sql import GROUP_RULES, ROW_RULES
from dinhdanh.telecom.rules import Reason, RuleConfig
from tests.telecom.test_reconcile import (
    Result,
    _msisdns,
    _random_rows,
    _registry_table,
    _subs_table,
    read_result,
)
from tests.telecom.test_rules import AS_OF, number, sub

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Run = tuple[Summary, Result, dict[str, Any]]


def _inputs(
    tmp: Path, subs: pa.Table, registry: pa.Table, disowned: pa.Table, provinces: pa.Table | None
) -> tuple[Inputs, Path | None]:
    tmp.mkdir(parents=True, exist_ok=True)
    paths = {"subscriptions": tmp / "subs.parquet", "registry": tmp / "registry.parquet"}
    pq.write_table(subs, paths["subscriptions"])
    pq.write_table(registry, paths["registry"])
    pq.write_table(disowned, tmp / "disowned.parquet")
    prov = None
    if provinces is not None:
        prov = tmp / "provinces.parquet"
        pq.write_table(provinces, prov)
    return Inputs(paths["subscriptions"], paths["registry"], tmp / "disowned.parquet"), prov


def _summary(out: Path) -> dict[str, Any]:
    import json

    info = json.loads((out / "summary.json").read_text())
    return {k: v for k, v in info.items() if k not in ("seconds", "phases")}


def _both(
    spark: SparkSession,
    tmp: Path,
    tables: tuple[pa.Table, pa.Table, pa.Table, pa.Table | None],
    *,
    as_of: date = AS_OF,
    config: RuleConfig | None = None,
    carrier: str | None = None,
) -> tuple[Run, Run]:
    """DuckDB, then Spark, on the same Parquet files."""
    inputs, prov = _inputs(tmp / "in", *tables)
    config = config or RuleConfig()
    runs = []
    for engine in ("duckdb", "spark"):
        out = tmp / engine
        con = connect()
        if prov is not None:
            con.execute(f"CREATE VIEW provinces AS SELECT * FROM read_parquet('{prov}')")
        provinces = "provinces" if prov is not None else None
        if engine == "duckdb":
            for name, path in (
                ("s", inputs.subscriptions),
                ("r", inputs.registry),
                ("d", inputs.disowned),
            ):
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
            summary = reconcile(
                con, "s", "r", "d", out, as_of, config, carrier, provinces=provinces
            )
        else:
            summary = reconcile_spark(
                spark, con, inputs, out, as_of, config, carrier, provinces=provinces
            )
        con.close()
        runs.append((summary, read_result(out), _summary(out)))
    return runs[0], runs[1]


def test_the_rule_table_names_every_reason_once() -> None:
    reasons = [r.reason for r in ROW_RULES] + [r.reason for r in GROUP_RULES]
    assert sorted(reasons) == sorted(Reason)


@pytest.mark.parametrize("seed", [1])
def test_spark_agrees_with_duckdb_on_random_rows(
    spark: SparkSession, seed: int, tmp_path: Path
) -> None:
    subs, owners, disowned = _random_rows(seed, 3000)
    config = RuleConfig(
        over_threshold=4, agent_burst_n=3, agent_burst_minutes=24 * 60, shared_imei_k=2
    )
    tables = (_subs_table(subs), _registry_table(owners), _msisdns(disowned), None)
    (_, duck, duck_info), (_, got, info) = _both(spark, tmp_path, tables, config=config)
    assert len(got) > 2000
    assert got == duck  # every verdict, sorted reason list and action
    assert info == duck_info
    fired = {r for _, reasons, _ in got.values() for r in reasons}
    assert fired == {r.value for r in Reason}, "the random rows exercise every rule"


def test_spark_finds_the_planted_junk_as_duckdb_does(
    spark: SparkSession, ring: KeyRing, tmp_path: Path
) -> None:
    population = list(generate_population(4_000, seed=31, today=AS_OF))
    subs = list(generate_subscriptions(population, seed=32, as_of=AS_OF, junk_rate=0.25))
    inputs = engine_inputs(subs, population, ring)
    tables = (inputs.subscriptions, inputs.registry, inputs.disowned, inputs.provinces)
    (_, duck, duck_info), (summary, got, info) = _both(spark, tmp_path, tables)
    assert got == duck
    truth = ground_truth(subs)
    assert {k: set(r) for k, (_, r, _) in got.items()} == {
        k: {r.value for r in v} for k, v in truth.items()
    }
    assert info == duck_info  # counts, per carrier, per province, per month
    assert info["per_province"]
    assert info["junk_by_month"]
    assert summary.rows == len(truth)
    files = sorted(p.name for p in (tmp_path / "spark").iterdir())
    assert files == ["MBF.parquet", "VNP.parquet", "VTL.parquet", "report.html", "summary.json"]
    assert pq.read_schema(tmp_path / "spark" / "VTL.parquet") == pq.read_schema(
        tmp_path / "duckdb" / "VTL.parquet"
    )


def test_one_carrier_is_written_from_rules_over_all(spark: SparkSession, tmp_path: Path) -> None:
    # Ten numbers of one holder over two carriers: the threshold counts both.
    holder = [sub(100 + i, carrier="VTL" if i < 6 else "VNP") for i in range(10)]
    tables = (
        _subs_table(holder),
        _registry_table([]),
        _msisdns([]),
        None,
    )
    (_, duck, duck_info), (_, got, info) = _both(spark, tmp_path, tables, carrier="VNP")
    assert got == duck
    assert set(got) == {("VNP", number(100 + i)) for i in range(6, 10)}
    assert got[("VNP", number(106))] == ("junk", ["ID_NOT_FOUND", "OVER_THRESHOLD"], "notify")
    assert info == duck_info


def test_two_active_rows_for_one_number_are_refused(spark: SparkSession, tmp_path: Path) -> None:
    rows = _subs_table([sub(1), sub(1)])
    inputs, _ = _inputs(tmp_path, rows, _registry_table([]), _msisdns([]), None)
    con = connect()
    with pytest.raises(ValueError, match="more than one active subscription"):
        reconcile_spark(spark, con, inputs, tmp_path / "out", AS_OF, RuleConfig())
    con.close()


def test_a_missing_column_is_named(spark: SparkSession, tmp_path: Path) -> None:
    rows = _subs_table([sub(1)]).drop_columns(["imei"])
    inputs, _ = _inputs(tmp_path, rows, _registry_table([]), _msisdns([]), None)
    with pytest.raises(ValueError, match="subscriptions lacks column"):
        reconcile_spark(spark, connect(), inputs, tmp_path / "out", AS_OF, RuleConfig())


def test_no_download_is_ever_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--packages org.example:thing:1.0 pyspark-shell")
    with pytest.raises(SparkUnavailable, match="never downloads"):
        session()


def test_without_java_the_reason_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SparkUnavailable, match="needs a Java runtime"):
        session()
