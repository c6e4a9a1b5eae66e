"""National junk-SIM reconciliation on DuckDB (issue 4, item 3; Decree 163/2024/ND-CP).

Every active subscription is joined with the population registry through blind indexes and
gets a verdict with every reason code of ``telecom.rules`` that applies; ``rules.verdict`` is
the row-by-row reference this engine is tested against. Everything runs as DuckDB SQL: no
Python loop ever touches a row (DESIGN.md, "Persistence and scale").

Inputs are names of relations (tables or views) on the connection, with at least these
columns; extra columns are ignored. Blind indexes are opaque byte strings compared for
equality only: the engine never sees personal data.

- ``subscriptions``: carrier VARCHAR, msisdn VARCHAR (E.164), id_bidx BLOB, name_bidx BLOB,
  dob_bidx BLOB, id_dob_consistent BOOLEAN, under_minor_age_at_activation BOOLEAN,
  activation_at TIMESTAMP, channel VARCHAR, agent_id VARCHAR, imei VARCHAR, status VARCHAR.
  At most one *active* row per (carrier, msisdn).
- ``registry``: id_bidx BLOB (unique), name_bidx BLOB, dob_bidx BLOB, has_guardian BOOLEAN,
  date_of_death DATE.
- ``disowned`` (optional): msisdn VARCHAR.
- ``provinces`` (optional, for the report's junk-per-province chart): msisdn VARCHAR,
  province VARCHAR. Only the junk numbers are looked up.

Inputs are scanned several times; stage SQLite or PostgreSQL sources to Parquet first
(``analytics.stage``). Output, in ``out_dir``: ``<carrier>.parquet`` (msisdn, carrier,
verdict, reasons as a sorted list of codes, action), ``summary.json`` and ``report.html``.

How it stays fast: each group rule first finds candidates with a cheap count that every
flagged group must pass (a group with more than K different IDs has more than K rows), and
only then computes the exact, costlier condition on that small remainder. Reasons travel as
a 12-bit mask; verdict, sorted reasons and action come from ``rules.decide`` once per
distinct mask, joined in at the end.
"""

# SQL here is built from quoted identifiers (quote_identifier), integers from a validated
# RuleConfig, fixed temp-table names, our own enum values, and two values written as literals:
# the day (date.isoformat) and carrier codes (checked against _CARRIER_CODE first). Nothing
# is bound from Python: binding any value makes DuckDB import pandas (half a second of CPU).
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
from dinhdanh.store.private import private_dir, write_private
from dinhdanh.telecom.rule_sql import (
    BITS,
    DUCKDB,
    active_sql,
    group_flags_sql,
    normalized_sql,
    registry_sql,
    row_mask_sql,
)
from dinhdanh.telecom.rules import Action, Reason, RuleConfig, Verdict, decide

__all__ = [
    "BITS",
    "CHART_TEXTS",
    "REGISTRY_COLUMNS",
    "SUBSCRIPTION_COLUMNS",
    "CarrierSummary",
    "Summary",
    "check_carrier",
    "finish",
    "reasons_of",
    "reconcile",
    "render_report",
    "report_charts",
]


_CARRIER_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
SUBSCRIPTION_COLUMNS = (
    "carrier",
    "msisdn",
    "id_bidx",
    "name_bidx",
    "dob_bidx",
    "id_dob_consistent",
    "under_minor_age_at_activation",
    "activation_at",
    "channel",
    "agent_id",
    "imei",
    "status",
)
REGISTRY_COLUMNS = ("id_bidx", "name_bidx", "dob_bidx", "has_guardian", "date_of_death")
_TEMP = "_dd_reconcile_"


def reasons_of(mask: int) -> list[Reason]:
    """The reasons whose bits are set in ``mask``, sorted by code."""
    return sorted(r for r, bit in BITS.items() if mask & bit)


@dataclass(frozen=True)
class CarrierSummary:
    rows: int
    ok: int
    junk: int
    per_reason: Mapping[str, int]
    per_action: Mapping[str, int]


@dataclass(frozen=True)
class Summary:
    as_of: date
    carrier: str | None
    rows: int
    ok: int
    junk: int
    per_reason: Mapping[str, int]
    per_action: Mapping[str, int]
    per_carrier: Mapping[str, CarrierSummary]
    junk_by_month: Mapping[str, int]
    per_province: Mapping[str, Mapping[str, int]] | None
    config: RuleConfig
    seconds: float
    files: Sequence[Path] = field(default_factory=tuple)
    # Wall seconds per phase: flags (all rules), write (Parquet), summary.
    phases: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "carrier": self.carrier,
            "rows": self.rows,
            "per_verdict": {Verdict.OK.value: self.ok, Verdict.JUNK.value: self.junk},
            "per_reason": dict(self.per_reason),
            "per_action": dict(self.per_action),
            "per_carrier": {
                code: {
                    "rows": c.rows,
                    "per_verdict": {Verdict.OK.value: c.ok, Verdict.JUNK.value: c.junk},
                    "per_reason": dict(c.per_reason),
                    "per_action": dict(c.per_action),
                }
                for code, c in self.per_carrier.items()
            },
            "junk_by_month": dict(self.junk_by_month),
            "per_province": None if self.per_province is None else dict(self.per_province),
            "config": asdict(self.config),
            "files": [p.name for p in self.files],
            "seconds": round(self.seconds, 3),
            "phases": {name: round(sec, 3) for name, sec in self.phases.items()},
        }


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _require(con: duckdb.DuckDBPyConnection, relation: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in _columns(con, relation)]
    if missing:
        raise ValueError(f"{relation} lacks column(s): {', '.join(missing)}")


def _temp(name: str) -> str:
    return _TEMP + name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _flag_sql(
    config: RuleConfig,
    subs: str,
    registry: str,
    disowned: str | None,
    as_of: date,
    carrier: str | None,
) -> list[str]:
    """Statements that leave one row per active subscription in ``verdicts`` with its mask.

    The rules come from ``rule_sql`` (shared with the Spark engine); what is DuckDB's own
    here is the narrowing of each group rule's rows to candidates first.
    """
    t = _temp
    only = "true" if carrier is None else f"a.carrier = {_literal(carrier)}"
    limit, threshold = config.online_limit, config.over_threshold
    burst_n, imei_k = config.agent_burst_n, config.shared_imei_k
    window_ms = 60_000 * config.agent_burst_minutes
    disowned_sql = (
        f"SELECT DISTINCT CAST(msisdn AS VARCHAR) AS msisdn FROM {disowned}"
        if disowned is not None
        else "SELECT NULL::VARCHAR AS msisdn WHERE false"
    )
    group_flags = group_flags_sql(
        config, {"active": t("candidates"), "activations": t("bursting")}, t("disowned"), DUCKDB
    )
    return [
        f"""CREATE OR REPLACE TEMP VIEW {t("subs")} AS {normalized_sql(subs)}""",
        # Only active rows get verdicts and feed the rules about holdings.
        f"""CREATE OR REPLACE TEMP VIEW {t("active")} AS {active_sql(t("subs"))}""",
        f"""CREATE OR REPLACE TEMP TABLE {t("disowned")} AS {disowned_sql}""",
        # Candidates, each from a count every flagged group must pass. Per ID the count is
        # by a 64-bit hash of the index: a collision only adds candidates, never hides one.
        f"""CREATE OR REPLACE TEMP TABLE {t("id_groups")} AS
        SELECT hash(id_bidx) AS h, count(*) AS n,
               count(*) FILTER (WHERE channel = 'online') AS n_online
        FROM {t("active")} GROUP BY ALL
        HAVING count(*) >= {threshold}
            OR count(*) FILTER (WHERE channel = 'online') > {limit}""",
        f"""CREATE OR REPLACE TEMP TABLE {t("number_groups")} AS
        SELECT msisdn FROM {t("active")} GROUP BY msisdn HAVING count(*) > 1""",
        f"""CREATE OR REPLACE TEMP TABLE {t("imei_groups")} AS
        SELECT imei FROM {t("active")} WHERE imei IS NOT NULL
        GROUP BY imei HAVING count(*) > {imei_k}""",
        # A window of M minutes, [s, s + M], lies inside one 2M-minute bucket of one of two
        # grids offset by M: only such a bucket with more than N activations can burst.
        # Agents count by hash, again only adding candidates.
        f"""CREATE OR REPLACE TEMP TABLE {t("agent_groups")} AS
        SELECT DISTINCT h FROM (
            SELECT hash(agent_id) AS h FROM {t("subs")} WHERE agent_id IS NOT NULL
            GROUP BY h, epoch_ms(activation_at) // {2 * window_ms}
            HAVING count(*) > {burst_n}
            UNION ALL
            SELECT hash(agent_id) AS h FROM {t("subs")} WHERE agent_id IS NOT NULL
            GROUP BY h, (epoch_ms(activation_at) + {window_ms}) // {2 * window_ms}
            HAVING count(*) > {burst_n})""",
        # The rows each group rule reads: whole groups, for every group that passed its
        # count (a group only partly here is one that cannot reach its threshold).
        f"""CREATE OR REPLACE TEMP TABLE {t("candidates")} AS
        SELECT carrier, msisdn, id_bidx, imei, channel, activation_at
        FROM {t("active")}
        WHERE hash(id_bidx) IN (SELECT h FROM {t("id_groups")})
           OR msisdn IN (SELECT msisdn FROM {t("number_groups")})
           OR imei IN (SELECT imei FROM {t("imei_groups")})
           OR msisdn IN (SELECT msisdn FROM {t("disowned")})""",
        f"""CREATE OR REPLACE TEMP VIEW {t("bursting")} AS
        SELECT * FROM {t("subs")}
        WHERE agent_id IS NOT NULL AND hash(agent_id) IN (SELECT h FROM {t("agent_groups")})""",
        f"""CREATE OR REPLACE TEMP TABLE {t("repeated")} AS
        SELECT carrier, msisdn, id_bidx FROM {t("candidates")}
        WHERE msisdn IN (SELECT msisdn FROM {t("number_groups")})""",
        # Every group rule's verdict, as bits on the few subscriptions that have any.
        f"""CREATE OR REPLACE TEMP TABLE {t("group_flags")} AS {group_flags}""",
        # One row per active subscription: the registry join and the group flags.
        f"""CREATE OR REPLACE TEMP TABLE {t("verdicts")} AS
        SELECT a.carrier, a.msisdn, a.activation_at, CAST(
              {row_mask_sql(as_of)} | coalesce(g.bits, 0) AS USMALLINT) AS mask
        FROM {t("active")} a
        LEFT JOIN ({registry_sql(registry)}) r ON r.id_bidx = a.id_bidx
        LEFT JOIN {t("group_flags")} g ON g.carrier = a.carrier AND g.msisdn = a.msisdn
        WHERE {only}""",
    ]


def reconcile(
    con: duckdb.DuckDBPyConnection,
    subscriptions: str,
    registry: str,
    disowned: str | None,
    out_dir: Path,
    as_of: date,
    config: RuleConfig,
    carrier: str | None = None,
    *,
    provinces: str | None = None,
) -> Summary:
    """Give every active subscription a verdict; write per-carrier Parquet, summary, report.

    The group rules always see every carrier (a holder's numbers at all carriers count
    towards the threshold); ``carrier`` only limits what is written and summarized.
    ``as_of`` decides "still active after the date of death". Existing files of other
    carriers in ``out_dir`` are left alone; ours are replaced atomically.
    """
    started = time.perf_counter()
    check_carrier(carrier)
    subs, reg = quote_identifier(subscriptions), quote_identifier(registry)
    dis = quote_identifier(disowned) if disowned is not None else None
    prov = quote_identifier(provinces) if provinces is not None else None
    _require(con, subs, SUBSCRIPTION_COLUMNS)
    _require(con, reg, REGISTRY_COLUMNS)
    if dis is not None:
        _require(con, dis, ("msisdn",))
    if prov is not None:
        _require(con, prov, ("msisdn", "province"))

    optimizers = _disable_build_side_flip(con)
    try:
        for statement in _flag_sql(config, subs, reg, dis, as_of, carrier):
            con.execute(statement)
        _check_unique(con)
        flagged = time.perf_counter() - started
        return finish(
            con, _temp("verdicts"), out_dir, as_of, config, carrier,
            provinces=prov, started=started, flags_seconds=flagged,
        )  # fmt: skip
    finally:
        _drop_temps(con)
        con.execute(f"SET disabled_optimizers = {_literal(optimizers)}")


def check_carrier(carrier: str | None) -> None:
    if carrier is not None and not _CARRIER_CODE.fullmatch(carrier):
        raise ValueError("carrier codes are 1-32 letters, digits, '_' or '-'")


def finish(
    con: duckdb.DuckDBPyConnection,
    verdicts: str,
    out_dir: Path,
    as_of: date,
    config: RuleConfig,
    carrier: str | None,
    *,
    provinces: str | None,
    started: float,
    flags_seconds: float,
) -> Summary:
    """From ``verdicts`` (carrier, msisdn, activation_at, mask; one row per active
    subscription in scope), whichever engine made it: the per-carrier Parquet files,
    ``summary.json`` and ``report.html``. ``provinces`` is a quoted relation or None."""
    phases: dict[str, float] = {"flags": flags_seconds}
    scratch: Path | None = None
    try:
        # Verdicts name numbers: the directory is created 0700, every file 0600, and DuckDB's
        # files (which it creates 0644) are made in a 0700 scratch directory inside it.
        private_dir(out_dir)
        scratch = Path(tempfile.mkdtemp(prefix=".reconcile-", dir=out_dir))
        counts = con.execute(
            f"SELECT carrier, CAST(mask AS INTEGER), count(*) FROM {verdicts} GROUP BY ALL"
        ).fetchall()
        carriers = sorted({row[0] for row in counts} | ({carrier} if carrier else set()))
        for code in carriers:
            if not _CARRIER_CODE.fullmatch(code):
                raise ValueError("a carrier code in the subscriptions is not a safe file name")
        _create_lookup(con, sorted({row[1] for row in counts}))
        files = [_write_carrier(con, verdicts, out_dir, scratch, code) for code in carriers]
        phases["write"] = time.perf_counter() - started - phases["flags"]
        months = con.execute(
            f"""SELECT strftime(activation_at, '%Y-%m') AS m, count(*)
            FROM {verdicts} WHERE mask <> 0 GROUP BY ALL ORDER BY m"""
        ).fetchall()
        per_province = None
        if provinces is not None:
            # Junk numbers per province: the few junk rows are the hash table, and a number
            # listed twice (two carriers) counts once.
            per_province = {
                str(name): {Verdict.JUNK.value: junk}
                for name, junk in con.execute(
                    f"""SELECT coalesce(CAST(province AS VARCHAR), '?'), count(DISTINCT msisdn)
                    FROM {provinces}
                    WHERE msisdn IN (SELECT msisdn FROM {verdicts} WHERE mask <> 0)
                    GROUP BY ALL ORDER BY 1"""
                ).fetchall()
            }
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_temp('lookup')}")
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    summary = _summarize(
        counts,
        carriers,
        as_of=as_of,
        carrier=carrier,
        config=config,
        months={str(m): int(n) for m, n in months},
        per_province=per_province,
        files=files,
        seconds=time.perf_counter() - started,
        phases=phases,
    )
    write_private(out_dir / "report.html", render_report(summary))
    phases["summary"] = time.perf_counter() - started - phases["flags"] - phases["write"]
    summary = replace(summary, seconds=time.perf_counter() - started, phases=dict(phases))
    write_private(out_dir / "summary.json", json.dumps(summary.to_json(), indent=2) + "\n")
    return summary


def _disable_build_side_flip(con: duckdb.DuckDBPyConnection) -> str:
    """Keep every join's build side as written; return the setting to restore.

    Every join here is written big-side-first on purpose. DuckDB's estimate for the filtered
    subscriptions is a guess, and when it guesses low it builds the hash table on them
    instead of the registry: at 10 M rows that spills and runs four times slower.
    """
    row = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
    previous = str(row[0]) if row is not None and row[0] is not None else ""
    names = [n for n in previous.split(",") if n.strip()]
    if "build_side_probe_side" not in names:
        names.append("build_side_probe_side")
    con.execute(f"SET disabled_optimizers = {_literal(','.join(names))}")
    return previous


def _check_unique(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        f"""SELECT count(*) FROM (SELECT carrier, msisdn FROM {_temp("repeated")}
        GROUP BY ALL HAVING count(*) > 1)"""
    ).fetchone()
    if row is not None and row[0]:
        raise ValueError(
            f"{row[0]} (carrier, msisdn) pair(s) have more than one active subscription"
        )


def _create_lookup(con: duckdb.DuckDBPyConnection, masks: Sequence[int]) -> None:
    """mask -> verdict, sorted reasons, action, decided by ``rules.decide`` per mask."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {_temp("lookup")} (
        mask USMALLINT, verdict VARCHAR, reasons VARCHAR[], action VARCHAR)"""
    )
    rows = []
    for mask in masks:  # our own integers and enum values, written as literals
        verdict, reasons, action = decide(reasons_of(mask))
        codes = ", ".join(_literal(r.value) for r in reasons)
        rows.append(
            f"({int(mask)}, {_literal(verdict.value)}, [{codes}]::VARCHAR[], "
            f"{_literal(action.value)})"
        )
    if rows:
        con.execute(f"INSERT INTO {_temp('lookup')} VALUES {', '.join(rows)}")


def _write_carrier(
    con: duckdb.DuckDBPyConnection, verdicts: str, out_dir: Path, scratch: Path, code: str
) -> Path:
    target = out_dir / f"{code}.parquet"
    partial = scratch / f"{code}.parquet"
    con.execute(
        f"""COPY (
            SELECT v.msisdn, v.carrier, l.verdict, l.reasons, l.action
            FROM {verdicts} v JOIN {_temp("lookup")} l USING (mask)
            WHERE v.carrier = {_literal(code)}
        ) TO '{str(partial).replace("'", "''")}'
        (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"""
    )
    os.chmod(partial, 0o600)
    partial.replace(target)
    return target


def _drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    for name, kind in con.execute(
        f"""SELECT table_name, table_type FROM information_schema.tables
        WHERE table_schema = 'main' AND table_catalog = 'temp'
          AND starts_with(table_name, {_literal(_TEMP)})"""
    ).fetchall():
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS temp.{name}")


def _count_by(
    rows: Sequence[tuple[str, int, int]],
) -> tuple[int, int, int, dict[str, int], dict[str, int]]:
    total = ok = 0
    per_reason = dict.fromkeys((r.value for r in sorted(Reason)), 0)
    per_action = dict.fromkeys((a.value for a in Action), 0)
    for _, mask, n in rows:
        total += n
        verdict, reasons, action = decide(reasons_of(mask))
        if verdict is Verdict.OK:
            ok += n
        per_action[action.value] += n
        for reason in reasons:
            per_reason[reason.value] += n
    return total, ok, total - ok, per_reason, per_action


def _summarize(
    counts: Sequence[tuple[str, int, int]],
    carriers: Sequence[str],
    *,
    as_of: date,
    carrier: str | None,
    config: RuleConfig,
    months: Mapping[str, int],
    per_province: Mapping[str, Mapping[str, int]] | None,
    files: Sequence[Path],
    seconds: float,
    phases: Mapping[str, float],
) -> Summary:
    per_carrier = {}
    for code in carriers:
        rows, ok, junk, reasons, actions = _count_by([c for c in counts if c[0] == code])
        per_carrier[code] = CarrierSummary(rows, ok, junk, reasons, actions)
    rows, ok, junk, reasons, actions = _count_by(counts)
    return Summary(
        as_of=as_of,
        carrier=carrier,
        rows=rows,
        ok=ok,
        junk=junk,
        per_reason=reasons,
        per_action=actions,
        per_carrier=per_carrier,
        junk_by_month=months,
        per_province=per_province,
        config=config,
        seconds=seconds,
        files=tuple(files),
        phases=phases,
    )


# --- the HTML report: one self-contained page, inline SVG, no script, no network ----------


# The charts' texts, in English; the officer console passes a translation of each.
CHART_TEXTS = (
    "Subscriptions per reason",
    "A subscription counts once under each reason that applies to it.",
    "Junk subscriptions per carrier",
    "Subscriptions per action",
    "Junk subscriptions per province",
    "Junk subscriptions by activation month",
    EMPTY,
)


def report_charts(summary: Mapping[str, Any], tr: Callable[[str], str] = str) -> list[str]:
    """The report's charts (inline SVG, each with its heading) of one summary as
    ``Summary.to_json()`` gives it; ``tr`` translates ``CHART_TEXTS``."""
    empty = tr(EMPTY)
    junk = Verdict.JUNK.value
    per_carrier = summary["per_carrier"].items()
    sections = [
        bar_chart(
            tr("Subscriptions per reason"),
            sorted(summary["per_reason"].items(), key=lambda kv: (-kv[1], kv[0])),
            note=tr("A subscription counts once under each reason that applies to it."),
            empty=empty,
        ),
        bar_chart(
            tr("Junk subscriptions per carrier"),
            [(code, c["per_verdict"].get(junk, 0)) for code, c in per_carrier],
            empty=empty,
        ),
        bar_chart(tr("Subscriptions per action"), list(summary["per_action"].items()), empty=empty),
    ]
    if summary.get("per_province") is not None:
        sections.append(
            bar_chart(
                tr("Junk subscriptions per province"),
                sorted(
                    ((name, c.get(junk, 0)) for name, c in summary["per_province"].items()),
                    key=lambda kv: (-kv[1], kv[0]),
                ),
                empty=empty,
            )
        )
    sections.append(
        histogram(
            tr("Junk subscriptions by activation month"), summary["junk_by_month"], empty=empty
        )
    )
    return sections


def render_report(summary: Summary) -> str:
    """The self-contained HTML report of one reconciliation."""
    scope = f"carrier {summary.carrier}" if summary.carrier else "all carriers"
    share = f"{100 * summary.junk / summary.rows:.2f} %" if summary.rows else "0 %"
    sections = report_charts(summary.to_json())
    rows = "".join(
        f"<tr><td>{html.escape(code)}</td><td>{c.rows:,}</td><td>{c.ok:,}</td>"
        f"<td>{c.junk:,}</td></tr>"
        for code, c in summary.per_carrier.items()
    )
    return page(
        f"Subscription reconciliation as of {summary.as_of.isoformat()} ({scope})",
        f"""<p>{summary.rows:,} active subscriptions: {summary.ok:,} ok, {summary.junk:,} junk
({share}). Decree 163/2024/ND-CP; rules and thresholds in <code>summary.json</code>.</p>
<table><tr><th>carrier</th><th>active</th><th>ok</th><th>junk</th></tr>{rows}</table>
{"".join(sections)}""",
    )
