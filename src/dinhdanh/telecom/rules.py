"""Junk-SIM rules: reason codes, thresholds, verdicts and actions. Pure, no I/O.

Decree 163/2024/ND-CP and Circular 08/2026/TT-BKHCN (POLICY.md, "SIM subscriptions"), as
issue 4 states them. Every number is a default in :class:`RuleConfig`, never a constant:

- subscriber data must match the population registry: ``ID_NOT_FOUND``, ``NAME_MISMATCH``,
  ``DOB_MISMATCH``, and ``ID_FORMAT`` when the ID number's encoded birth year disagrees with
  the stated birth date (Circular 59/2021/TT-BCA layout);
- ``OWNER_DECEASED``: activated after the date of death, or still active on or after it;
- ``OWNER_MINOR``: under 14 on the activation date with no guardian on file (Decree 69/2024:
  under-14s are attached to a parent);
- ``ONLINE_OVER_LIMIT``: online registration is allowed for the first 3 numbers of one ID;
- ``OVER_THRESHOLD``: holders of 10 or more numbers are singled out for review;
- ``AGENT_BURST``, ``SHARED_IMEI``: the typical junk-SIM sources (agents activating SIMs in
  bulk on other people's IDs, one handset cycling through many identities);
- ``DUPLICATE_MSISDN``: one number active twice; ``DISOWNED``: the citizen said "not mine".

Decisions the issue leaves open, made here once for the engine and this oracle alike:

- Only ``active`` subscriptions get a verdict. The rules about holdings (online rank,
  threshold, IMEI, duplicates) count active subscriptions only: a terminated number is no
  longer held, and its number may have been recycled. ``AGENT_BURST`` is about how numbers
  were activated, so it counts terminated activations too.
- ``ONLINE_OVER_LIMIT`` orders one ID's active online subscriptions by activation time, then
  number, then carrier; the 4th and later are flagged.
- ``OVER_THRESHOLD`` counts distinct numbers; the same number at two carriers counts once.
- ``AGENT_BURST``: an agent's window is any closed interval of ``agent_burst_minutes``; a
  window bursts when it holds activations for more than ``agent_burst_n`` *different* ID
  numbers (many SIMs for one customer is a business, not a burst); every active
  subscription activated inside a bursting window is flagged.
- ``SHARED_IMEI``: more than ``shared_imei_k`` different ID numbers on one IMEI.
- The registry checks (name, birth date, death, guardian) need a registry row; without one
  only ``ID_NOT_FOUND`` is reported. ``ID_FORMAT`` and the group rules apply either way.
- Verdict: ``ok`` with no reason, ``junk`` with any. The action is the most severe of the
  reasons' actions: ``OVER_THRESHOLD`` and ``DUPLICATE_MSISDN`` alone are review flags
  (``junk``, action ``review``, the lock timeline does not start); every other reason means
  ``notify`` (start the lock timeline with an SMS to the number). A number active at two
  carriers says nothing about which one serves it: locking on it would let one carrier's
  upload lock another carrier's customer (hardening finding 3), so it is reviewed, never
  actioned; uploads are limited to the carrier's own blocks and ports besides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from dinhdanh.identity.idnumber import parse

__all__ = [
    "ACTION",
    "Action",
    "Context",
    "Owner",
    "Reason",
    "RuleConfig",
    "Subscription",
    "Verdict",
    "decide",
    "id_dob_consistent",
    "verdict",
]


class Reason(StrEnum):
    ID_NOT_FOUND = "ID_NOT_FOUND"
    NAME_MISMATCH = "NAME_MISMATCH"
    DOB_MISMATCH = "DOB_MISMATCH"
    ID_FORMAT = "ID_FORMAT"
    OWNER_DECEASED = "OWNER_DECEASED"
    OWNER_MINOR = "OWNER_MINOR"
    ONLINE_OVER_LIMIT = "ONLINE_OVER_LIMIT"
    OVER_THRESHOLD = "OVER_THRESHOLD"
    AGENT_BURST = "AGENT_BURST"
    SHARED_IMEI = "SHARED_IMEI"
    DUPLICATE_MSISDN = "DUPLICATE_MSISDN"
    DISOWNED = "DISOWNED"


class Verdict(StrEnum):
    OK = "ok"
    JUNK = "junk"


class Action(StrEnum):
    """What the carrier does first; the lock timeline takes it from ``notify``."""

    NONE = "none"
    REVIEW = "review"
    NOTIFY = "notify"


# Least to most severe: a row's action is the most severe of its reasons'.
_SEVERITY = {Action.NONE: 0, Action.REVIEW: 1, Action.NOTIFY: 2}

ACTION: Mapping[Reason, Action] = MappingProxyType(
    dict.fromkeys(Reason, Action.NOTIFY)
    | {Reason.OVER_THRESHOLD: Action.REVIEW, Reason.DUPLICATE_MSISDN: Action.REVIEW}
)

ACTIVE = "active"
CHANNELS = ("online", "store", "agent")
STATUSES = ("active", "terminated")


@dataclass(frozen=True, slots=True)
class RuleConfig:
    online_limit: int = 3
    over_threshold: int = 10
    agent_burst_n: int = 20
    agent_burst_minutes: int = 60
    shared_imei_k: int = 3
    minor_age: int = 14

    def __post_init__(self) -> None:
        for name in (
            "online_limit",
            "over_threshold",
            "agent_burst_n",
            "agent_burst_minutes",
            "shared_imei_k",
            "minor_age",
        ):
            value = getattr(self, name)
            # bool is an int; a True threshold is a configuration mistake.
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer")


@dataclass(frozen=True, slots=True)
class Subscription:
    """One row of the engine's ``subscriptions`` input; blind indexes are opaque bytes."""

    carrier: str
    msisdn: str
    id_bidx: bytes
    name_bidx: bytes
    dob_bidx: bytes
    id_dob_consistent: bool
    under_minor_age_at_activation: bool
    activation_at: datetime
    channel: str
    agent_id: str | None
    imei: str | None
    status: str


@dataclass(frozen=True, slots=True)
class Owner:
    """One row of the engine's ``registry`` input."""

    id_bidx: bytes
    name_bidx: bytes
    dob_bidx: bytes
    has_guardian: bool
    date_of_death: date | None


def decide(reasons: Iterable[Reason]) -> tuple[Verdict, tuple[Reason, ...], Action]:
    """Verdict, reasons sorted by code (duplicates dropped), and the carrier's action."""
    ordered = tuple(sorted(set(reasons)))
    if not ordered:
        return Verdict.OK, ordered, Action.NONE
    action = max((ACTION[r] for r in ordered), key=_SEVERITY.__getitem__)
    return Verdict.JUNK, ordered, action


def id_dob_consistent(id_number: str, date_of_birth: date) -> bool:
    """Whether the ID number's encoded birth year matches the stated birth date.

    The subscriber upload has no sex column, so only the birth year is checked. Raises
    ``IdNumberError`` for a malformed number: the upload rejects that row instead.
    """
    # What IdNumber.validate_against calls birth_year_mismatch, without its list and the
    # sex check (a tenth of an upload row's preparation).
    return parse(id_number).birth_year == date_of_birth.year


def _key(s: Subscription) -> tuple[datetime, str, str]:
    return (s.activation_at, s.msisdn, s.carrier)


def _present(value: str | None) -> str | None:
    return value or None


@dataclass(frozen=True)
class Context:
    """Everything beyond one row that a verdict needs: the other subscriptions, grouped."""

    as_of: date
    config: RuleConfig
    by_id: Mapping[bytes, Sequence[Subscription]]  # active, by activation order
    by_msisdn: Mapping[str, Sequence[Subscription]]  # active
    by_imei: Mapping[str, Sequence[Subscription]]  # active
    by_agent: Mapping[str, Sequence[Subscription]]  # every status, by activation time
    disowned: frozenset[str]

    @classmethod
    def build(
        cls,
        subscriptions: Iterable[Subscription],
        disowned: Iterable[str],
        as_of: date,
        config: RuleConfig,
    ) -> Context:
        by_id: defaultdict[bytes, list[Subscription]] = defaultdict(list)
        by_msisdn: defaultdict[str, list[Subscription]] = defaultdict(list)
        by_imei: defaultdict[str, list[Subscription]] = defaultdict(list)
        by_agent: defaultdict[str, list[Subscription]] = defaultdict(list)
        for s in subscriptions:
            agent = _present(s.agent_id)
            if agent is not None:
                by_agent[agent].append(s)
            if s.status != ACTIVE:
                continue
            by_id[s.id_bidx].append(s)
            by_msisdn[s.msisdn].append(s)
            imei = _present(s.imei)
            if imei is not None:
                by_imei[imei].append(s)
        for group in (*by_id.values(), *by_agent.values()):
            group.sort(key=_key)
        return cls(
            as_of=as_of,
            config=config,
            by_id=dict(by_id),
            by_msisdn=dict(by_msisdn),
            by_imei=dict(by_imei),
            by_agent=dict(by_agent),
            disowned=frozenset(disowned),
        )


def _agent_burst(sub: Subscription, activations: Sequence[Subscription], cfg: RuleConfig) -> bool:
    """Is ``sub`` inside an M-minute window holding more than N different ID numbers?

    Any bursting window can slide right until it starts at an activation and still hold
    everything it held, so windows starting at each activation are the only ones to check.
    """
    span = timedelta(minutes=cfg.agent_burst_minutes)
    t = sub.activation_at
    for anchor in activations:
        start = anchor.activation_at
        if not start <= t <= start + span:
            continue
        ids = {a.id_bidx for a in activations if start <= a.activation_at <= start + span}
        if len(ids) > cfg.agent_burst_n:
            return True
    return False


def verdict(
    sub: Subscription, owner: Owner | None, context: Context
) -> tuple[Verdict, list[Reason]]:
    """The verdict and sorted reasons for one active subscription, row by row.

    The reference the DuckDB engine (``telecom.reconcile``) is tested against; ``owner`` is
    the registry row with the same ``id_bidx``, or None.
    """
    if sub.status != ACTIVE:
        raise ValueError("only active subscriptions get a verdict")
    cfg = context.config
    reasons: list[Reason] = []

    if owner is None:
        reasons.append(Reason.ID_NOT_FOUND)
    else:
        if owner.name_bidx != sub.name_bidx:
            reasons.append(Reason.NAME_MISMATCH)
        if owner.dob_bidx != sub.dob_bidx:
            reasons.append(Reason.DOB_MISMATCH)
        death = owner.date_of_death
        if death is not None and (sub.activation_at.date() > death or context.as_of >= death):
            reasons.append(Reason.OWNER_DECEASED)
        if sub.under_minor_age_at_activation and not owner.has_guardian:
            reasons.append(Reason.OWNER_MINOR)
    if not sub.id_dob_consistent:
        reasons.append(Reason.ID_FORMAT)

    held = context.by_id.get(sub.id_bidx, ())
    if sub.channel == "online":
        online = [s for s in held if s.channel == "online"]
        if online.index(sub) >= cfg.online_limit:
            reasons.append(Reason.ONLINE_OVER_LIMIT)
    if len({s.msisdn for s in held}) >= cfg.over_threshold:
        reasons.append(Reason.OVER_THRESHOLD)

    agent = _present(sub.agent_id)
    if agent is not None and _agent_burst(sub, context.by_agent[agent], cfg):
        reasons.append(Reason.AGENT_BURST)

    imei = _present(sub.imei)
    if imei is not None and len({s.id_bidx for s in context.by_imei[imei]}) > cfg.shared_imei_k:
        reasons.append(Reason.SHARED_IMEI)

    same_number = context.by_msisdn.get(sub.msisdn, ())
    if len({s.carrier for s in same_number}) > 1 or len({s.id_bidx for s in same_number}) > 1:
        reasons.append(Reason.DUPLICATE_MSISDN)

    if sub.msisdn in context.disowned:
        reasons.append(Reason.DISOWNED)

    return (Verdict.JUNK if reasons else Verdict.OK), sorted(reasons)
