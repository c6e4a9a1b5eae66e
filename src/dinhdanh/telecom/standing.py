"""One number's standing now, read from the store: who holds it, the reconciliation rules'
verdict on it, and whether a lock case stands against it.

For callers that decide about one number at a time (binding a platform account by phone,
issue 10), where a reconciliation run is out of the question. The verdict is
``rules.verdict`` itself, the oracle the DuckDB engine is tested against, over what indexed
lookups give for one number: the active subscriptions of its ID number and of the number
itself. That decides every rule about the row, its owner and its number exactly (registry
match, ID format, deceased, minor, online rank, threshold, duplicate, disowned). The two
rules about other people's subscriptions, ``SHARED_IMEI`` and ``AGENT_BURST``, need a
handset's or an agent's activations, which no index of ``subscriptions`` reaches (one would
slow every upload); their action is ``notify``, so the run that finds them opens a lock case,
and a lock case is part of the standing. Clean here is therefore "ok" by the last run plus
everything known since about the number and its owner
(``tests/telecom/test_standing.py`` checks that against a run).
The registry side opens no record: a deceased holder is ``OWNER_DECEASED`` from the
registry's clear flag (the rule's date test holds for any death up to today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.identity.service import Registry
from dinhdanh.telecom import models as m
from dinhdanh.telecom.rules import (
    ACTIVE,
    Context,
    Owner,
    Reason,
    RuleConfig,
    Subscription,
    verdict,
)
from dinhdanh.telecom.timeline import TERMINAL, State


@dataclass(frozen=True, slots=True)
class Standing:
    subject_id: str | None  # the registry citizen the number is registered to, if any
    reasons: tuple[str, ...]  # the rules' reasons (empty: ok)
    locked: bool  # a lock case stands against this subscription

    @property
    def clean(self) -> bool:
        """Held by a citizen of the registry, ok by every rule, under no lock case."""
        return self.subject_id is not None and not self.reasons and not self.locked


NOBODY = Standing(None, (), False)


def _rule_row(s: m.Subscription) -> Subscription:
    return Subscription(
        carrier=s.carrier,
        msisdn=s.msisdn,
        id_bidx=s.id_bidx,
        name_bidx=s.name_bidx,
        dob_bidx=s.dob_bidx,
        id_dob_consistent=bool(s.id_dob_consistent),
        under_minor_age_at_activation=bool(s.minor_at_activation),
        activation_at=s.activation_at,
        channel=s.channel,
        agent_id=s.agent_id,
        imei=s.imei_bidx.hex() if s.imei_bidx else None,
        status=s.status,
    )


def standing(
    session: Session, registry: Registry, msisdn: str, config: RuleConfig, now: datetime
) -> Standing:
    """The standing of ``msisdn`` (E.164) as of ``now``; ``NOBODY`` when no active
    subscription has it."""
    s = m.Subscription
    listed = list(
        session.scalars(
            select(s).where(s.msisdn == msisdn, s.status == ACTIVE).order_by(s.activation_at)
        )
    )
    if not listed:
        return NOBODY
    sub = listed[0]  # a second one is DUPLICATE_MSISDN: junk whichever is judged
    same_owner = select(s).where(s.id_bidx == sub.id_bidx, s.status == ACTIVE)
    rows = {r.id: r for r in [*listed, *session.scalars(same_owner)]}
    d = m.NumberDeclaration
    disowned = [
        msisdn
        for decl in session.scalars(
            select(d).where(d.msisdn == msisdn, d.declaration == "disowned")
        )
        # Only while it holds for this subscription, owner and activation (finding 6).
        if decl.subscription_id == sub.id
        and decl.id_bidx == sub.id_bidx
        and decl.activation_at == sub.activation_at
    ]
    holder = registry.subject_by_index(session, sub.id_bidx)
    owner = None
    if holder is not None:
        owner = Owner(holder.id_bidx, holder.name_bidx, holder.dob_bidx, holder.has_guardian, None)
    context = Context.build([_rule_row(r) for r in rows.values()], disowned, now.date(), config)
    _verdict, reasons = verdict(_rule_row(sub), owner, context)
    if holder is not None and holder.deceased:
        reasons = sorted({*reasons, Reason.OWNER_DECEASED})
    return Standing(
        None if holder is None else holder.subject_id,
        tuple(str(r) for r in reasons),
        _locked(session, sub),
    )


def _locked(session: Session, sub: m.Subscription) -> bool:
    """An open case stands; a revoked one only if it ended after this activation (a number
    revoked from an earlier owner and issued again is a new subscription)."""
    c = m.LockCase
    stmt = select(c.state, c.state_since).where(
        c.carrier == sub.carrier, c.msisdn == sub.msisdn, c.state != State.RESOLVED.value
    )
    for state, since in session.execute(stmt):
        if State(state) not in TERMINAL:
            return True
        if _naive_utc(since) >= _naive_utc(sub.activation_at):
            return True
    return False


def _naive_utc(value: datetime) -> datetime:
    # Activations are stored naive (UTC, as the carrier states them); case times aware.
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
