"""The reconciliation use case: registry and subscriptions out of the store, verdicts from the
DuckDB engine (telecom.reconcile), lock cases opened and resolved from the verdicts."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dinhdanh.analytics.duck import connect
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.telecom.reconcile import Summary, reconcile
from dinhdanh.telecom.rules import RuleConfig
from dinhdanh.telecom.service import Telecom, Verdict
from dinhdanh.telecom.store_inputs import deaths, stage_inputs


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
) -> Outcome:
    with unit_of_work() as session:
        if carrier is not None:
            carrier = telecom.carrier(session, carrier).code  # raises UnknownCarrier
        deceased = deaths(session, registry, ctx, clock())
    con = connect(memory_limit=memory_limit)
    try:
        with tempfile.TemporaryDirectory(prefix="dinhdanh-reconcile-") as work:
            names = stage_inputs(con, engine, deceased, Path(work))
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
            written = [str(out_dir / f"{c}.parquet") for c in summary.per_carrier]
            junk = [
                Verdict(c, msisdn, tuple(reasons), action)
                for c, msisdn, reasons, action in (
                    con.execute(
                        "SELECT carrier, msisdn, reasons, action FROM read_parquet($f) "
                        "WHERE verdict = 'junk'",
                        {"f": written},
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
