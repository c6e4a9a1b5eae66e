"""Findings in the database: what a scan saw, opened with a deadline, kept while seen, fixed
when a re-check of the same family no longer sees it; acknowledged by the agency or accepted
as a risk by an approver (rules.py holds the transitions)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.auth.opaque import as_utc
from dinhdanh.posture import models as m
from dinhdanh.posture.checks import FAMILY_OF, Found, Severity
from dinhdanh.posture.errors import FindingNotFound, PostureError, TransitionRefused
from dinhdanh.posture.register import Scope
from dinhdanh.posture.rules import Action, DeadlinePolicy, State, next_state, overdue
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.ids import uuid7s


@dataclass(frozen=True, slots=True)
class FindingView:
    id: str
    agency: str
    system_id: str
    system: str
    level: int
    target: str
    code: str
    item: str
    severity: str
    state: str
    opened: datetime
    deadline: datetime | None
    overdue: bool
    evidence: dict[str, Any]
    accepted_until: datetime | None
    fixed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Recorded:
    opened: int
    fixed: int


def _state(row: m.Finding, now: datetime) -> State:
    """The effective state: an acceptance past its expiry is open again."""
    state = State(row.state)
    if state is State.ACCEPTED and row.accepted_until and as_utc(row.accepted_until) <= now:
        return State.OPEN
    return state


def record(
    session: Session,
    system: m.InformationSystem,
    target: str,
    families: Collection[str],
    found: Iterable[Found],
    policy: DeadlinePolicy,
    now: datetime,
) -> Recorded:
    """Store what checks of ``families`` saw on ``target`` (found may be empty: all clear)."""
    rows = session.scalars(
        select(m.Finding).where(
            m.Finding.system_id == system.id,
            m.Finding.target == target,
            m.Finding.state != State.FIXED.value,
        )
    ).all()
    current = {(r.code, r.item): r for r in rows}
    seen: set[tuple[str, str]] = set()
    fresh: list[Found] = []
    for f in found:
        key = (f.code, f.item)
        if key in seen:
            continue
        seen.add(key)
        row = current.get(key)
        if row is None:
            fresh.append(f)
            continue
        row.last_seen_at, row.evidence, row.severity = now, f.evidence_json(), f.severity.value
        if State(row.state) is State.ACCEPTED and _state(row, now) is State.OPEN:
            row.state, row.changed_at, row.changed_by = State.OPEN.value, now, "system:expiry"
    ids = uuid7s(len(fresh), now)
    for i, f in zip(ids, fresh, strict=True):
        session.add(
            m.Finding(
                id=i,
                system_id=system.id,
                target=target,
                code=f.code,
                item=f.item,
                severity=f.severity.value,
                evidence=f.evidence_json(),
                state=State.OPEN.value,
                opened_at=now,
                deadline=policy.deadline(f.severity, system.level, now),
                last_seen_at=now,
                changed_at=now,
                changed_by="system:scan",
            )
        )
    fixed = 0
    for key, row in current.items():
        if key not in seen and FAMILY_OF.get(row.code) in families:
            row.state, row.fixed_at = State.FIXED.value, now
            row.changed_at, row.changed_by = now, "system:recheck"
            fixed += 1
    session.flush()
    return Recorded(len(fresh), fixed)


def _view(row: m.Finding, system: m.InformationSystem, now: datetime) -> FindingView:
    state = _state(row, now)
    deadline = as_utc(row.deadline) if row.deadline else None
    return FindingView(
        row.id,
        system.agency,
        system.id,
        system.name,
        system.level,
        row.target,
        row.code,
        row.item,
        row.severity,
        state.value,
        as_utc(row.opened_at),
        deadline,
        overdue(state, deadline, now),
        json.loads(row.evidence),
        as_utc(row.accepted_until) if row.accepted_until else None,
        as_utc(row.fixed_at) if row.fixed_at else None,
    )


def findings(
    session: Session,
    now: datetime,
    *,
    agency: str | None = None,
    system: str | None = None,
    include_fixed: bool = False,
    include_info: bool = False,
) -> list[FindingView]:
    """Findings by agency, system, deadline; unresolved and accepted ones unless told."""
    stmt = select(m.Finding, m.InformationSystem).join(
        m.InformationSystem, m.InformationSystem.id == m.Finding.system_id
    )
    if agency is not None:
        stmt = stmt.where(m.InformationSystem.agency == agency)
    if system is not None:
        stmt = stmt.where((m.InformationSystem.id == system) | (m.InformationSystem.name == system))
    if not include_fixed:
        stmt = stmt.where(m.Finding.state != State.FIXED.value)
    if not include_info:
        stmt = stmt.where(m.Finding.severity != Severity.INFO.value)
    stmt = stmt.order_by(m.InformationSystem.agency, m.InformationSystem.name, m.Finding.target)
    views = [_view(f, s, now) for f, s in session.execute(stmt)]
    return sorted(views, key=lambda v: (v.agency, v.system, v.deadline or now, v.target, v.code))


def _transition(
    session: Session, finding_id: str, action: Action, scope: Scope, now: datetime
) -> tuple[m.Finding, State]:
    row = session.get(m.Finding, finding_id, with_for_update=True)
    if row is None:
        raise FindingNotFound(f"no finding {finding_id!r}")
    system = session.get(m.InformationSystem, row.system_id)
    assert system is not None  # a foreign key
    scope.check(system.agency)
    state = _state(row, now)
    target = next_state(state, action)
    if target is None:
        raise TransitionRefused(f"a finding {state.value} cannot be {action.value}d")
    return row, target


def acknowledge(
    session: Session, finding_id: str, by: AccessContext, scope: Scope, now: datetime
) -> None:
    row, state = _transition(session, finding_id, Action.ACKNOWLEDGE, scope, now)
    row.state, row.changed_at, row.changed_by = state.value, now, by.actor


def accept_risk(
    session: Session,
    finding_id: str,
    until: datetime,
    reason: str,
    approver: AccessContext,
    now: datetime,
) -> None:
    """An approver (never an agency's own admin: the caller checks the role) accepts the
    risk until ``until``; the finding is open again after that."""
    why = " ".join(reason.split())
    if len(why) < 3:
        raise PostureError("say why the risk is accepted")
    if until <= now:
        raise PostureError("an acceptance needs an expiry in the future")
    row, state = _transition(session, finding_id, Action.ACCEPT, Scope(), now)
    row.state, row.changed_at, row.changed_by = state.value, now, approver.actor
    row.accepted_until, row.note = until, why


def finding(session: Session, finding_id: str, now: datetime) -> FindingView:
    """One finding, whatever its state (raises FindingNotFound)."""
    row = session.get(m.Finding, finding_id)
    system = session.get(m.InformationSystem, row.system_id) if row is not None else None
    if row is None or system is None:
        raise FindingNotFound(f"no finding {finding_id!r}")
    return _view(row, system, now)


def agency_of(session: Session, finding_id: str) -> str:
    """The agency whose system a finding is about (to check a caller's scope first)."""
    row = session.get(m.Finding, finding_id)
    system = session.get(m.InformationSystem, row.system_id) if row is not None else None
    if system is None:
        raise FindingNotFound(f"no finding {finding_id!r}")
    return system.agency
