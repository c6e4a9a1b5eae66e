"""The reconciliation engine's inputs, read from our own database through DuckDB's scanners.

DuckDB attaches the SQLite file or the PostgreSQL database read-only (extensions loaded from
their wheels, see analytics/duck.py) and copies what the rules need to Parquet once. Only
blind indexes and non-identifying flags cross over; the one personal value the rules need,
a date of death, is opened by the registry for the deceased only (about 0.5 % of the
registry), each opening audited. The registry's side comes from ``identity`` as a query
(``registry_select``): its table and columns are not named here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dinhdanh.analytics.duck import stage
from dinhdanh.analytics.store import STORE, attach
from dinhdanh.identity.service import Registry, registry_select
from dinhdanh.privacy.audit import AccessContext


def deaths(session: Session, registry: Registry, ctx: AccessContext, now: datetime) -> pa.Table:
    """(id_bidx, date_of_death) of the deceased, each opening audited by the registry."""
    ids, dates = registry.dates_of_death(session, ctx, now)
    return pa.table(
        {"id_bidx": pa.array(ids, pa.binary()), "date_of_death": pa.array(dates, pa.date32())}
    )


def stage_inputs(
    con: duckdb.DuckDBPyConnection, engine: Engine, deceased: pa.Table, workdir: Path
) -> dict[str, str]:
    """Create the views `subscriptions`, `registry`, `disowned`, `provinces`; return names."""
    attach(con, engine)
    workdir.mkdir(parents=True, exist_ok=True)
    con.register("deaths_in", deceased)
    stage(
        con,
        f"""SELECT carrier, msisdn, id_bidx, name_bidx, dob_bidx,
                   id_dob_consistent::BOOLEAN AS id_dob_consistent,
                   minor_at_activation::BOOLEAN AS under_minor_age_at_activation,
                   activation_at::TIMESTAMP AS activation_at, channel, agent_id,
                   hex(imei_bidx) AS imei, status
            FROM {STORE}.subscriptions""",
        workdir / "subscriptions.parquet",
        "subscriptions",
    )
    stage(
        con,
        f"""SELECT c.id_bidx, c.name_bidx, c.dob_bidx, c.has_guardian, d.date_of_death
            FROM ({registry_select(STORE)}) c LEFT JOIN deaths_in d ON d.id_bidx = c.id_bidx""",
        workdir / "registry.parquet",
        "registry",
    )
    # A declaration counts while its subscription still has the declarer and activation:
    # a previous owner's "not mine" never flags the next owner (finding 6).
    con.execute(
        f"""CREATE OR REPLACE VIEW disowned AS SELECT DISTINCT d.msisdn
            FROM {STORE}.number_declarations d JOIN {STORE}.subscriptions s
              ON s.id = d.subscription_id AND s.id_bidx = d.id_bidx
             AND s.activation_at::TIMESTAMP = d.activation_at::TIMESTAMP
            WHERE d.declaration = 'disowned' AND s.status = 'active'"""
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW provinces AS
            SELECT msisdn, any_value(province) AS province
            FROM {STORE}.subscriptions GROUP BY msisdn"""
    )
    return {
        "subscriptions": "subscriptions",
        "registry": "registry",
        "disowned": "disowned",
        "provinces": "provinces",
    }


def verdict_rows(
    con: duckdb.DuckDBPyConnection, out_dir: Path
) -> list[tuple[str, str, list[str], str]]:
    """(carrier, msisdn, reasons, action) of every row the engine wrote, junk and ok."""
    files = sorted(str(p) for p in out_dir.glob("*.parquet"))
    if not files:
        return []
    rows = con.execute(
        "SELECT carrier, msisdn, reasons, action FROM read_parquet($files)", {"files": files}
    ).fetchall()
    return [(c, msisdn, list(reasons), action) for c, msisdn, reasons, action in rows]
