"""The junk-SIM rules as SQL, written once for every engine (DuckDB and Spark SQL).

``telecom.rules`` says what each reason means and decides verdicts and actions; this module
is the one place that says it in SQL. Both engines build their statements from these tables
(ADR 0019):

- a *row rule* is a condition on one active subscription ``a`` and its registry row ``r``
  (``r.id_bidx`` is NULL when the registry has no such ID); a rule that ``needs_owner`` is
  only checked when there is a registry row;
- a *group rule* is a query that returns the ``carrier, msisdn`` of the active subscriptions
  it flags, reading ``{rows}``: the active subscriptions (``over = "active"``) or every
  activation, terminated ones too, with an ``active`` column (``over = "activations"``).

The SQL is the subset DuckDB and Spark SQL share; the one construct they spell differently
(a distinct count over a window frame) comes from a :class:`Dialect`. Engines differ only in
what ``{rows}`` holds: Spark reads every row; DuckDB first narrows each group rule's rows to
candidates that hold every group able to reach its threshold whole (``telecom.reconcile``),
which leaves the answers unchanged because every group rule is monotone in its group.
"""

# Every value spliced into SQL here is an int from a validated RuleConfig, a date's ISO
# form, a bit of BITS, or a relation name the engine chose: nothing comes from data.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Literal

from dinhdanh.telecom.rules import Reason, RuleConfig

__all__ = [
    "BITS",
    "DUCKDB",
    "GROUP_RULES",
    "ROW_RULES",
    "SPARK",
    "Dialect",
    "GroupRule",
    "RowRule",
    "active_sql",
    "group_flags_sql",
    "normalized_sql",
    "registry_sql",
    "row_mask_sql",
]

# Bit i of a row's mask is the i-th reason in declaration order.
BITS: Mapping[Reason, int] = {reason: 1 << i for i, reason in enumerate(Reason)}

Over = Literal["active", "activations"]


@dataclass(frozen=True)
class Dialect:
    """What DuckDB and Spark SQL spell differently: ``{x}`` and ``{window}`` are filled in."""

    name: str
    distinct_count_over: str


DUCKDB = Dialect("duckdb", "count(DISTINCT {x}) OVER ({window})")
# Spark has no DISTINCT in a window aggregate; the set of values in the frame is the same.
SPARK = Dialect("spark", "size(collect_set({x}) OVER ({window}))")


@dataclass(frozen=True)
class RowRule:
    reason: Reason
    when: str  # a condition on `a` (subscription) and `r` (registry row); {as_of} is a DATE
    needs_owner: bool


@dataclass(frozen=True)
class GroupRule:
    reason: Reason
    over: Over
    query: str  # SELECT carrier, msisdn ... FROM {rows}; RuleConfig fields by name


ROW_RULES: tuple[RowRule, ...] = (
    RowRule(Reason.ID_NOT_FOUND, "r.id_bidx IS NULL", needs_owner=False),
    RowRule(Reason.NAME_MISMATCH, "r.name_bidx IS DISTINCT FROM a.name_bidx", needs_owner=True),
    RowRule(Reason.DOB_MISMATCH, "r.dob_bidx IS DISTINCT FROM a.dob_bidx", needs_owner=True),
    RowRule(
        Reason.OWNER_DECEASED,
        """r.date_of_death IS NOT NULL
           AND (CAST(a.activation_at AS DATE) > r.date_of_death OR {as_of} >= r.date_of_death)""",
        needs_owner=True,
    ),
    RowRule(
        Reason.OWNER_MINOR,
        "coalesce(a.under_minor, false) AND NOT coalesce(r.has_guardian, false)",
        needs_owner=True,
    ),
    RowRule(Reason.ID_FORMAT, "NOT coalesce(a.id_dob_consistent, true)", needs_owner=False),
)

# Windows of one agent's activations, in time order, M minutes long.
_AGENT_WINDOW = "PARTITION BY agent_id ORDER BY activation_at RANGE BETWEEN {frame}"

GROUP_RULES: tuple[GroupRule, ...] = (
    # One ID's online subscriptions by activation time, then number, then carrier: the
    # (online_limit + 1)-th and later are flagged.
    GroupRule(
        Reason.ONLINE_OVER_LIMIT,
        "active",
        """SELECT carrier, msisdn FROM (
            SELECT carrier, msisdn, row_number() OVER (
                PARTITION BY id_bidx ORDER BY activation_at, msisdn, carrier) AS nth
            FROM {rows} WHERE channel = 'online') online_ranked
        WHERE nth > {online_limit}""",
    ),
    GroupRule(
        Reason.OVER_THRESHOLD,
        "active",
        """SELECT carrier, msisdn FROM {rows} WHERE id_bidx IN (
            SELECT id_bidx FROM {rows}
            GROUP BY id_bidx HAVING count(DISTINCT msisdn) >= {over_threshold})""",
    ),
    # A window starting at each activation (a bursting window can slide right to one and
    # keep all it held) bursts with more than N different IDs; a row is flagged when an
    # activation at most M minutes before it starts a burst. Terminated activations count.
    GroupRule(
        Reason.AGENT_BURST,
        "activations",
        """SELECT carrier, msisdn FROM (
            SELECT carrier, msisdn, active, bool_or(bursts) OVER (
                {window_back}) AS inside
            FROM (
                SELECT carrier, msisdn, active, agent_id, activation_at,
                       {ids_ahead} > {agent_burst_n} AS bursts
                FROM {rows} WHERE agent_id IS NOT NULL) starts
        ) windows WHERE inside AND active""",
    ),
    GroupRule(
        Reason.SHARED_IMEI,
        "active",
        """SELECT carrier, msisdn FROM {rows} WHERE imei IN (
            SELECT imei FROM {rows} WHERE imei IS NOT NULL
            GROUP BY imei HAVING count(DISTINCT id_bidx) > {shared_imei_k})""",
    ),
    GroupRule(
        Reason.DUPLICATE_MSISDN,
        "active",
        """SELECT carrier, msisdn FROM {rows} WHERE msisdn IN (
            SELECT msisdn FROM {rows} GROUP BY msisdn
            HAVING count(DISTINCT carrier) > 1 OR count(DISTINCT id_bidx) > 1)""",
    ),
    GroupRule(
        Reason.DISOWNED,
        "active",
        "SELECT carrier, msisdn FROM {rows} WHERE msisdn IN (SELECT msisdn FROM {disowned})",
    ),
)

# The engine's subscription columns, cast so that SQLite-typed sources (0/1 booleans, text
# timestamps) behave; an empty agent or IMEI means none.
_NORMALIZED = """SELECT CAST(carrier AS STRING) AS carrier, CAST(msisdn AS STRING) AS msisdn,
       id_bidx, name_bidx, dob_bidx,
       CAST(id_dob_consistent AS BOOLEAN) AS id_dob_consistent,
       CAST(under_minor_age_at_activation AS BOOLEAN) AS under_minor,
       CAST(activation_at AS TIMESTAMP) AS activation_at,
       CAST(channel AS STRING) AS channel,
       NULLIF(CAST(agent_id AS STRING), '') AS agent_id,
       NULLIF(CAST(imei AS STRING), '') AS imei,
       CAST(status AS STRING) = 'active' AS active
FROM {source}"""
_ACTIVE_COLUMNS = (
    "carrier, msisdn, id_bidx, name_bidx, dob_bidx, id_dob_consistent, under_minor, "
    "activation_at, channel, agent_id, imei"
)


def normalized_sql(source: str) -> str:
    """Every subscription of ``source`` with the engine's column names and types."""
    return _NORMALIZED.format(source=source)


def active_sql(normalized: str) -> str:
    """The active rows of a ``normalized_sql`` relation, without the ``active`` column."""
    return f"SELECT {_ACTIVE_COLUMNS} FROM {normalized} WHERE active"


def registry_sql(source: str) -> str:
    """The registry's columns of ``source`` with the engine's types."""
    return f"""SELECT id_bidx, name_bidx, dob_bidx,
       CAST(has_guardian AS BOOLEAN) AS has_guardian,
       CAST(date_of_death AS DATE) AS date_of_death
FROM {source}"""


def _date(value: date) -> str:
    return f"DATE '{date.isoformat(value)}'"


def _bit(condition: str, reason: Reason) -> str:
    return f"(CASE WHEN {condition} THEN {BITS[reason]} ELSE 0 END)"


def row_mask_sql(as_of: date) -> str:
    """An integer expression over ``a`` and ``r``: the bits of every row rule that applies."""
    owner = [_bit(rule.when, rule.reason) for rule in ROW_RULES if rule.needs_owner]
    anyway = [_bit(rule.when, rule.reason) for rule in ROW_RULES if not rule.needs_owner]
    expression = " | ".join(
        [f"(CASE WHEN r.id_bidx IS NULL THEN 0 ELSE {' | '.join(owner)} END)", *anyway]
    )
    return expression.format(as_of=_date(as_of))


def group_flags_sql(
    config: RuleConfig, rows: Mapping[Over, str], disowned: str, dialect: Dialect
) -> str:
    """``carrier, msisdn, bits``: every group rule's bits on the subscriptions it flags.

    ``rows`` names the relation each kind of group rule reads; ``disowned`` has ``msisdn``.
    """
    minutes = config.agent_burst_minutes
    ahead = _AGENT_WINDOW.format(frame=f"CURRENT ROW AND INTERVAL {minutes} MINUTE FOLLOWING")
    values = asdict(config) | {
        "disowned": disowned,
        "window_back": _AGENT_WINDOW.format(
            frame=f"INTERVAL {minutes} MINUTE PRECEDING AND CURRENT ROW"
        ),
        "ids_ahead": dialect.distinct_count_over.format(x="id_bidx", window=ahead),
    }
    parts = [
        f"SELECT carrier, msisdn, {BITS[rule.reason]} AS bit FROM ("
        + rule.query.format(rows=rows[rule.over], **values)
        + f") {rule.reason.value.lower()}"
        for rule in GROUP_RULES
    ]
    return (
        "SELECT carrier, msisdn, bit_or(bit) AS bits FROM (\n"
        + "\nUNION ALL\n".join(parts)
        + "\n) flags GROUP BY carrier, msisdn"
    )
