"""The reconciliation use case: registry and subscriptions out of the store, verdicts from the
DuckDB engine (telecom.reconcile) or the Spark one (telecom.reconcile_spark), lock cases opened
and resolved from the verdicts."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dinhdanh.analytics.duck import connect, stage
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.private import private_dir
from dinhdanh.telecom.reconcile import Summary, reconcile
from dinhdanh.telecom.rules import RuleConfig
from dinhdanh.telecom.service import Telecom, Verdict
from dinhdanh.telecom.store_inputs import deaths, snapshot_inputs, stage_inputs


@dataclass(frozen=True, slots=True)
class Outcome:
    summary: Summary
    cases_opened: int
    cases_resolved: int
    junk: Sequence[Verdict] = ()  # the run's junk verdicts (for social.phone's recheck)


def reconcile_store(
    *,
    engine: Engine,
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    registry: Registry,
    telecom: Telecom,
    rules: RuleConfig,
    ctx: AccessContext,
    clock: Callable[[], datetime],
    as_of: date,
    out_dir: Path,
    carrier: str | None = None,
    memory_limit: str | None = None,
    snapshots: Path | None = None,
    spark_master: str | None = None,
) -> Outcome:
    """With ``snapshots`` (a directory, store.snapshots) the inputs are read from the
    importers' Parquet snapshots, refreshed first where stale; without, copied from the
    database for this run. ``spark_master`` None: the rules run on DuckDB here; else on
    Spark at that master, from inputs copied under ``out_dir`` (which a cluster's executors
    must reach)."""
    with unit_of_work() as session:
        if carrier is not None:
            carrier = telecom.carrier(session, carrier).code  # raises UnknownCarrier
        carriers = [c.code for c in telecom.carriers(session)]
        deceased = deaths(session, registry, ctx, clock())
    con = connect(memory_limit=memory_limit)
    try:
        where = private_dir(out_dir) if spark_master is not None else None
        with tempfile.TemporaryDirectory(prefix=".dinhdanh-reconcile-", dir=where) as work:
            if spark_master is not None:
                stage_inputs(con, engine, deceased, Path(work))
                summary = _on_spark(con, spark_master, Path(work), out_dir, as_of, rules, carrier)
            else:
                if snapshots is None:
                    names = stage_inputs(con, engine, deceased, Path(work))
                else:
                    names = snapshot_inputs(
                        con, engine, unit_of_work, snapshots, carriers, deceased, Path(work)
                    )
                summary = reconcile(
                    con,
                    names["subscriptions"],
                    names["registry"],
                    names["disowned"],
                    out_dir,
                    as_of,
                    rules,
                    carrier,
                    provinces=names["provinces"],
                )
            # Literal paths, no bound list: binding a Python value makes DuckDB import pandas.
            written = ", ".join(
                "'" + str(out_dir / f"{c}.parquet").replace("'", "''") + "'"
                for c in summary.per_carrier
            )
            junk = [
                Verdict(c, msisdn, tuple(reasons), action)
                for c, msisdn, reasons, action in (
                    con.execute(
                        "SELECT carrier, msisdn, reasons, action "  # noqa: S608 (quoted paths)
                        f"FROM read_parquet([{written}]) WHERE verdict = 'junk'"
                    ).fetchall()
                    if written
                    else []
                )
            ]
    finally:
        con.close()
    with unit_of_work() as session:
        now = clock()
        counts = telecom.apply_verdicts(session, junk, list(summary.per_carrier), ctx, now)
        telecom.record_run(
            session, summary.to_json(), counts["opened"], counts["resolved"], ctx.actor, now
        )
    return Outcome(summary, counts["opened"], counts["resolved"], junk)


def _on_spark(
    con: duckdb.DuckDBPyConnection,
    master: str,
    work: Path,
    out_dir: Path,
    as_of: date,
    rules: RuleConfig,
    carrier: str | None,
) -> Summary:
    from dinhdanh.analytics.spark import running
    from dinhdanh.telecom.reconcile_spark import Inputs, reconcile_spark

    with running(master) as spark:
        disowned = work / "disowned.parquet"
        stage(con, "SELECT msisdn FROM disowned", disowned, "disowned_staged")
        inputs = Inputs(work / "subscriptions.parquet", work / "registry.parquet", disowned)
        return reconcile_spark(
            spark, con, inputs, out_dir, as_of, rules, carrier, provinces="provinces"
        )
