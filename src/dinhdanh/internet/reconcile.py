"""Internet-resource reconciliation on DuckDB (issue 12, point 4): every domain name and IP
block joined with the population and business registries, with the reasons of
``internet.rules``. Everything runs as DuckDB SQL; no Python loop touches a row.

Inputs are names of relations on the connection (extra columns are ignored; blind indexes
are opaque bytes compared for equality only):

- ``domains``: registrar, ascii_name, registrant_type (person | organisation),
  registrant_tax_code, registrant_id_bidx, registrant_name_bidx, registrant_dob_bidx,
  registrant_minor BOOLEAN, created DATE, expires DATE, status;
- ``registry``: id_bidx (unique), name_bidx, dob_bidx, deceased BOOLEAN;
- ``organisations``: tax_code (unique), status, dissolved DATE;
- ``ipblocks``: cidr, holder_tax_code, status;
- ``disowned`` (optional): ascii_name, id_bidx (the registrant it was said about).

Output in ``out_dir``: ``<registrar>.parquet`` (domain as A-label, verdict, reasons),
``ipblocks.parquet`` (cidr, verdict, reasons), ``summary.json`` and ``report.html``.
Registrar codes are upper case (internet.service.REGISTRAR_CODE): no registrar's file can
be ``ipblocks.parquet``.
"""

# SQL here is built from quoted identifiers, integers from RuleConfig and fixed temp names;
# every value from data is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from dinhdanh.analytics.duck import quote_identifier
from dinhdanh.analytics.report import EMPTY, bar_chart, histogram, page
from dinhdanh.internet.rules import BITS, Reason, RuleConfig, Verdict, reasons_of
from dinhdanh.store.private import private_dir, write_private

__all__ = ["IPBLOCKS_FILE", "Progress", "Summary", "reconcile", "render_report"]

IPBLOCKS_FILE = "ipblocks.parquet"
Progress = Callable[[str], None]  # told the name of each phase as it starts
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_TEMP = "_dd_internet_"
_DOMAIN_COLUMNS = (
    "registrar",
    "ascii_name",
    "registrant_type",
    "registrant_tax_code",
    "registrant_id_bidx",
    "registrant_name_bidx",
    "registrant_dob_bidx",
    "registrant_minor",
    "created",
    "expires",
    "status",
)


@dataclass(frozen=True)
class Counts:
    rows: int
    flagged: int
    per_reason: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "per_verdict": {Verdict.OK.value: self.rows - self.flagged, "flagged": self.flagged},
            "per_reason": dict(self.per_reason),
        }


@dataclass(frozen=True)
class Summary:
    as_of: date
    domains: Counts
    per_registrar: Mapping[str, Counts]
    flagged_by_month: Mapping[str, int]  # flagged names by registration month
    ipblocks: Counts
    config: RuleConfig
    seconds: float
    files: Sequence[Path] = field(default_factory=tuple)
    phases: Mapping[str, float] = field(default_factory=dict)  # wall seconds per phase

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "domains": self.domains.to_json(),
            "per_registrar": {k: c.to_json() for k, c in self.per_registrar.items()},
            "flagged_by_month": dict(self.flagged_by_month),
            "ipblocks": self.ipblocks.to_json(),
            "config": asdict(self.config),
            "files": [p.name for p in self.files],
            "seconds": round(self.seconds, 3),
            "phases": {name: round(sec, 3) for name, sec in self.phases.items()},
        }


def _t(name: str) -> str:
    return _TEMP + name


def _require(con: duckdb.DuckDBPyConnection, relation: str, columns: Sequence[str]) -> None:
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    missing = [c for c in columns if c not in have]
    if missing:
        raise ValueError(f"{relation} lacks column(s): {', '.join(missing)}")


def _flag_sql(
    config: RuleConfig, dom: str, reg: str, orgs: str, blocks: str, dis: str | None
) -> list[str]:
    bit = {r.name: v for r, v in BITS.items()}
    disowned = (
        f"SELECT DISTINCT CAST(ascii_name AS VARCHAR) AS ascii_name, id_bidx FROM {dis}"
        if dis is not None
        else "SELECT NULL::VARCHAR AS ascii_name, NULL::BLOB AS id_bidx WHERE false"
    )
    dissolved = "(o.status = 'dissolved' OR o.dissolved <= $as_of)"
    return [
        # Casts make SQLite-typed sources (0/1 booleans, text dates) behave.
        f"""CREATE OR REPLACE TEMP TABLE {_t("domains")} AS
        SELECT CAST(registrar AS VARCHAR) AS registrar,
               CAST(ascii_name AS VARCHAR) AS ascii_name,
               CAST(registrant_type AS VARCHAR) = 'person' AS person,
               CAST(registrant_tax_code AS VARCHAR) AS tax_code,
               registrant_id_bidx AS id_bidx, registrant_name_bidx AS name_bidx,
               registrant_dob_bidx AS dob_bidx,
               coalesce(CAST(registrant_minor AS BOOLEAN), false) AS minor,
               CAST(created AS DATE) AS created, CAST(expires AS DATE) AS expires,
               CAST(status AS VARCHAR) AS status
        FROM {dom} WHERE CAST(status AS VARCHAR) <> 'deleted'""",
        f"""CREATE OR REPLACE TEMP TABLE {_t("orgs")} AS
        SELECT CAST(tax_code AS VARCHAR) AS tax_code, CAST(status AS VARCHAR) AS status,
               CAST(dissolved AS DATE) AS dissolved
        FROM {orgs}""",
        f"CREATE OR REPLACE TEMP TABLE {_t('disowned')} AS {disowned}",
        # Related names share their label under the public suffix: the first label.
        f"""CREATE OR REPLACE TEMP TABLE {_t("shared")} AS
        SELECT id_bidx FROM {_t("domains")} WHERE person
        GROUP BY id_bidx
        HAVING count(DISTINCT split_part(ascii_name, '.', 1)) > {config.shared_registrant_limit}""",
        f"""CREATE OR REPLACE TEMP TABLE {_t("verdicts")} AS
        SELECT d.registrar, d.ascii_name, d.created, CAST(
            CASE WHEN d.person THEN
                (CASE WHEN r.id_bidx IS NULL THEN {bit["REGISTRANT_NOT_FOUND"]} ELSE
                    (CASE WHEN r.name_bidx IS DISTINCT FROM d.name_bidx
                            OR r.dob_bidx IS DISTINCT FROM d.dob_bidx
                          THEN {bit["REGISTRANT_MISMATCH"]} ELSE 0 END)
                  | (CASE WHEN coalesce(CAST(r.deceased AS BOOLEAN), false)
                          THEN {bit["REGISTRANT_DECEASED"]} ELSE 0 END)
                  | (CASE WHEN d.minor THEN {bit["REGISTRANT_MINOR"]} ELSE 0 END)
                 END)
              | (CASE WHEN s.id_bidx IS NOT NULL THEN {bit["SHARED_REGISTRANT"]} ELSE 0 END)
              | (CASE WHEN x.ascii_name IS NOT NULL THEN {bit["REGISTRANT_DISOWNED"]} ELSE 0 END)
            ELSE
                (CASE WHEN o.tax_code IS NULL THEN {bit["ORG_NOT_FOUND"]}
                      WHEN {dissolved} THEN {bit["ORG_DISSOLVED"]} ELSE 0 END)
            END
          | (CASE WHEN d.status = 'active' AND d.expires < $as_of
                  THEN {bit["EXPIRED_ACTIVE"]} ELSE 0 END)
        AS USMALLINT) AS mask
        FROM {_t("domains")} d
        LEFT JOIN (SELECT id_bidx, name_bidx, dob_bidx, deceased FROM {reg}) r
               ON r.id_bidx = d.id_bidx
        LEFT JOIN {_t("orgs")} o ON o.tax_code = d.tax_code
        LEFT JOIN {_t("shared")} s ON s.id_bidx = d.id_bidx
        LEFT JOIN {_t("disowned")} x ON x.ascii_name = d.ascii_name AND x.id_bidx = d.id_bidx""",
        f"""CREATE OR REPLACE TEMP TABLE {_t("block_verdicts")} AS
        SELECT CAST(b.cidr AS VARCHAR) AS cidr, CAST(
            CASE WHEN o.tax_code IS NULL THEN {bit["HOLDER_NOT_FOUND"]}
                 WHEN {dissolved} THEN {bit["ORG_DISSOLVED"]} ELSE 0 END
        AS USMALLINT) AS mask
        FROM {blocks} b LEFT JOIN {_t("orgs")} o
          ON o.tax_code = CAST(b.holder_tax_code AS VARCHAR)
        WHERE CAST(b.status AS VARCHAR) <> 'returned'""",
    ]


def reconcile(
    con: duckdb.DuckDBPyConnection,
    *,
    domains: str,
    registry: str,
    organisations: str,
    ipblocks: str,
    disowned: str | None,
    out_dir: Path,
    as_of: date,
    config: RuleConfig,
    progress: Progress | None = None,
) -> Summary:
    """Give every domain and IP block a verdict; write the Parquet files, summary, report.

    Files of registrars that no longer have names are left alone; ours are replaced
    atomically. A rerun on the same inputs writes the same rows.
    """
    tell = progress or (lambda _phase: None)
    started = time.perf_counter()
    dom, reg = quote_identifier(domains), quote_identifier(registry)
    orgs, blocks = quote_identifier(organisations), quote_identifier(ipblocks)
    dis = quote_identifier(disowned) if disowned is not None else None
    _require(con, dom, _DOMAIN_COLUMNS)
    _require(con, reg, ("id_bidx", "name_bidx", "dob_bidx", "deceased"))
    _require(con, orgs, ("tax_code", "status", "dissolved"))
    _require(con, blocks, ("cidr", "holder_tax_code", "status"))
    if dis is not None:
        _require(con, dis, ("ascii_name", "id_bidx"))

    phases: dict[str, float] = {}
    scratch: Path | None = None
    try:
        tell("flags")
        for statement in _flag_sql(config, dom, reg, orgs, blocks, dis):
            con.execute(statement, {"as_of": as_of} if "$as_of" in statement else None)
        phases["flags"] = time.perf_counter() - started
        tell("write")
        private_dir(out_dir)  # verdicts name registrations: 0700, files 0600
        scratch = Path(tempfile.mkdtemp(prefix=".reconcile-", dir=out_dir))
        counts = con.execute(
            f"SELECT registrar, mask, count(*) FROM {_t('verdicts')} GROUP BY ALL"
        ).fetchall()
        block_counts = con.execute(
            f"SELECT mask, count(*) FROM {_t('block_verdicts')} GROUP BY ALL"
        ).fetchall()
        registrars = sorted({str(r[0]) for r in counts})
        if any(not _SAFE_CODE.fullmatch(code) for code in registrars):
            raise ValueError("a registrar code in the domains is not a safe file name")
        _create_lookup(con, {int(r[1]) for r in counts} | {int(r[0]) for r in block_counts})
        files = [
            _write(
                con,
                f"""SELECT v.ascii_name AS domain, l.verdict, l.reasons
                FROM {_t("verdicts")} v JOIN {_t("lookup")} l USING (mask)
                WHERE v.registrar = $code ORDER BY v.ascii_name""",
                {"code": code},
                out_dir / f"{code}.parquet",
                scratch,
            )
            for code in registrars
        ]
        files.append(
            _write(
                con,
                f"""SELECT b.cidr, l.verdict, l.reasons
                FROM {_t("block_verdicts")} b JOIN {_t("lookup")} l USING (mask)
                ORDER BY b.cidr""",
                {},
                out_dir / IPBLOCKS_FILE,
                scratch,
            )
        )
        phases["write"] = time.perf_counter() - started - phases["flags"]
        tell("summary")
        months = con.execute(
            f"""SELECT strftime(created, '%Y-%m') AS m, count(*) FROM {_t("verdicts")}
            WHERE mask <> 0 GROUP BY ALL ORDER BY m"""
        ).fetchall()
    finally:
        _drop_temps(con)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    summary = Summary(
        as_of=as_of,
        domains=_count([(m, n) for _, m, n in counts]),
        per_registrar={
            code: _count([(m, n) for r, m, n in counts if r == code]) for code in registrars
        },
        flagged_by_month={str(m): int(n) for m, n in months},
        ipblocks=_count([(int(m), int(n)) for m, n in block_counts]),
        config=config,
        seconds=0.0,
        files=tuple(files),
    )
    write_private(out_dir / "report.html", render_report(summary))
    phases["summary"] = time.perf_counter() - started - phases["flags"] - phases["write"]
    summary = replace(summary, seconds=time.perf_counter() - started, phases=dict(phases))
    write_private(out_dir / "summary.json", json.dumps(summary.to_json(), indent=2) + "\n")
    return summary


def _create_lookup(con: duckdb.DuckDBPyConnection, masks: set[int]) -> None:
    """mask -> verdict and sorted reason codes, once per distinct mask."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('lookup')} "
        "(mask USMALLINT, verdict VARCHAR, reasons VARCHAR[])"
    )
    rows = [
        (m, (Verdict.FLAGGED if m else Verdict.OK).value, [r.value for r in reasons_of(m)])
        for m in sorted(masks)
    ]
    if rows:
        con.executemany(f"INSERT INTO {_t('lookup')} VALUES (?, ?, ?)", rows)


def _write(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: Mapping[str, Any],
    target: Path,
    scratch: Path,
) -> Path:
    # DuckDB creates files 0644: written in the 0700 scratch directory, made 0600, moved.
    partial = scratch / target.name
    literal = str(partial).replace("'", "''")
    con.execute(
        f"COPY ({query}) TO '{literal}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)",
        dict(params),
    )
    os.chmod(partial, 0o600)
    partial.replace(target)
    return target


def _drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    for (name,) in con.execute(
        """SELECT table_name FROM information_schema.tables
        WHERE table_catalog = 'temp' AND starts_with(table_name, ?)""",
        [_TEMP],
    ).fetchall():
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _count(rows: Sequence[tuple[int, int]]) -> Counts:
    per_reason = dict.fromkeys((r.value for r in sorted(Reason)), 0)
    total = flagged = 0
    for mask, n in rows:
        total += n
        flagged += n if mask else 0
        for reason in reasons_of(mask):
            per_reason[reason.value] += n
    return Counts(total, flagged, per_reason)


# --- the HTML report (analytics/report.py: inline SVG, no script, no network) ------------------


def _by_count(per: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(((k, n) for k, n in per.items() if n), key=lambda kv: (-kv[1], kv[0]))


def render_report(summary: Summary) -> str:
    d, b = summary.domains, summary.ipblocks
    share = f"{100 * d.flagged / d.rows:.2f} %" if d.rows else "0 %"
    rows = "".join(
        f"<tr><td>{html.escape(code)}</td><td>{c.rows:,}</td>"
        f"<td>{c.rows - c.flagged:,}</td><td>{c.flagged:,}</td></tr>"
        for code, c in summary.per_registrar.items()
    )
    charts = [
        bar_chart(
            "Domain names per reason",
            _by_count(d.per_reason),
            note="A name counts once under each reason that applies to it.",
        ),
        bar_chart(
            "Flagged domain names per registrar",
            [(code, c.flagged) for code, c in summary.per_registrar.items()],
        ),
        histogram("Flagged domain names by registration month", summary.flagged_by_month),
        bar_chart("IP blocks per reason", _by_count(b.per_reason)),
    ]
    body = f"""<p>{d.rows:,} domain names: {d.rows - d.flagged:,} ok, {d.flagged:,} flagged
({share}); {b.rows:,} IP blocks: {b.flagged:,} flagged. Rules and thresholds in
<code>summary.json</code>.</p>
<table><tr><th>registrar</th><th>names</th><th>ok</th><th>flagged</th></tr>{rows}</table>
{"".join(charts) if d.rows or b.rows else f'<p class="empty">{EMPTY}</p>'}"""
    return page(f"Internet-resource reconciliation as of {summary.as_of.isoformat()}", body)
