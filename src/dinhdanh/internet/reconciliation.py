"""The internet reconciliation use case: registrations and registries out of the store (SQLite
or PostgreSQL through DuckDB's scanners), verdicts from the engine (internet.reconcile), the
run kept for the console and the registrars' action feed updated from the verdicts.

Only blind indexes, tax codes and the registry's clear ``deceased`` flag cross over: no
sealed value is opened, so nothing personal is read (and there is nothing to audit).
"""

# Table names come from our models and STORE, never from input.
# ruff: noqa: S608

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dinhdanh.analytics.duck import connect, stage
from dinhdanh.analytics.store import STORE, attach
from dinhdanh.identity.service import registry_select
from dinhdanh.internet import models as m
from dinhdanh.internet.reconcile import IPBLOCKS_FILE, Progress, Summary, reconcile
from dinhdanh.internet.rules import RuleConfig
from dinhdanh.internet.service import Internet
from dinhdanh.store.ids import uuid7s


@dataclass(frozen=True, slots=True)
class Outcome:
    summary: Summary
    flags_opened: int
    flags_cleared: int


def stage_inputs(con: duckdb.DuckDBPyConnection, engine: Engine, workdir: Path) -> None:
    """Create the views ``domains``, ``registry``, ``organisations``, ``ipblocks`` and
    ``disowned`` the engine reads."""
    attach(con, engine)
    workdir.mkdir(parents=True, exist_ok=True)
    stage(
        con,
        f"""SELECT registrar, ascii_name, registrant_type, registrant_tax_code,
                   registrant_id_bidx, registrant_name_bidx, registrant_dob_bidx,
                   registrant_minor::BOOLEAN AS registrant_minor, created::DATE AS created,
                   expires::DATE AS expires, status
            FROM {STORE}.{m.Domain.__tablename__}""",
        workdir / "domains.parquet",
        "domains",
    )
    stage(
        con,
        f"SELECT id_bidx, name_bidx, dob_bidx, deceased FROM ({registry_select(STORE)})",
        workdir / "registry.parquet",
        "registry",
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW organisations AS SELECT tax_code, status,
            dissolved::DATE AS dissolved FROM {STORE}.{m.Organisation.__tablename__}"""
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW ipblocks AS SELECT cidr, holder_tax_code, status
            FROM {STORE}.{m.IpBlock.__tablename__}"""
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW disowned AS SELECT ascii_name, id_bidx
            FROM {STORE}.{m.DomainDisownment.__tablename__}"""
    )


def flagged_rows(out_dir: Path, registrars: list[str]) -> list[tuple[str, str, list[str]]]:
    """(registrar, domain, reasons) of every flagged name in a run's files."""
    con = duckdb.connect()
    try:
        rows: list[tuple[str, str, list[str]]] = []
        for code in registrars:
            path = out_dir / f"{code}.parquet"
            rows += [
                (code, name, list(reasons))
                for name, reasons in con.execute(
                    "SELECT domain, reasons FROM read_parquet($f) WHERE verdict = 'flagged'",
                    {"f": str(path)},
                ).fetchall()
            ]
        return rows
    finally:
        con.close()


def reconcile_store(
    *,
    engine: Engine,
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    internet: Internet,
    rules: RuleConfig,
    actor: str,
    clock: Callable[[], datetime],
    as_of: date,
    out_dir: Path,
    memory_limit: str | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Run the engine on the store, then update the registrars' action feed from the
    flagged names (``Internet.apply_verdicts``) and keep the run's summary."""
    tell = progress or (lambda _phase: None)
    con = connect(memory_limit=memory_limit)
    try:
        with tempfile.TemporaryDirectory(prefix="dinhdanh-reconcile-") as work:
            tell("staging")
            stage_inputs(con, engine, Path(work))
            summary = reconcile(
                con,
                domains="domains",
                registry="registry",
                organisations="organisations",
                ipblocks="ipblocks",
                disowned="disowned",
                out_dir=out_dir,
                as_of=as_of,
                config=rules,
                progress=progress,
            )
    finally:
        con.close()
    tell("feed")
    registrars = [p.stem for p in summary.files if p.name != IPBLOCKS_FILE]
    flagged = flagged_rows(out_dir, registrars)
    with unit_of_work() as session:
        now = clock()
        counts = internet.apply_verdicts(session, flagged, now)
        session.add(
            m.ReconciliationRun(
                id=uuid7s(1, now)[0],
                as_of=as_of,
                finished_at=now,
                actor=actor[:200],
                summary=json.dumps(summary.to_json(), ensure_ascii=False),
                flags_opened=counts["opened"],
                flags_cleared=counts["cleared"],
            )
        )
    return Outcome(summary, counts["opened"], counts["cleared"])
