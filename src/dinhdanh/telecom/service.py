"""Telecom use cases: carriers, subscriber uploads, "my numbers", the lock timeline."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.store.batch import Counts
from dinhdanh.store.bulk import insert_rows, lookup
from dinhdanh.store.ids import uuid7s
from dinhdanh.store.snapshots import bump
from dinhdanh.telecom import models as m
from dinhdanh.telecom.blocks import seed_plan_blocks
from dinhdanh.telecom.feed import PreparedSubscription
from dinhdanh.telecom.rules import Reason
from dinhdanh.telecom.timeline import (
    TERMINAL,
    CarrierAction,
    State,
    TimelineConfig,
    due_steps,
    resolution,
)

SUBSCRIPTIONS: Table = m.Subscription.__table__  # type: ignore[assignment]


def snapshot_name(carrier: str) -> str:
    """The name of a carrier's subscriptions snapshot (store.snapshots)."""
    return f"subscriptions:{carrier}"


# What an upload's chunk created or changed: (carrier, ids, rows), for the snapshot's delta.
Written = Callable[[str, Sequence[str], Sequence[PreparedSubscription]], None]

CARRIER_CODE = re.compile(r"[A-Z0-9_-]{2,16}")
UPLOAD_FIELDS = ("msisdn", "id_number", "full_name", "date_of_birth", "imei")


class TelecomError(DomainError):
    code, status, title = "telecom_error", 400, "Invalid telecom request"


class UnknownCarrier(TelecomError):
    code, status, title = "carrier_not_found", 404, "No such carrier"


class CarrierExists(TelecomError):
    code, status, title = "carrier_exists", 409, "The carrier exists already"


class NotYourNumber(TelecomError):
    # Same answer whether the number does not exist or is someone else's.
    code, status, title = "number_not_found", 404, "No such number of yours"


@dataclass(frozen=True, slots=True)
class MyNumber:
    carrier: str
    msisdn: str
    activation_at: datetime
    channel: str
    declaration: str | None  # confirmed | disowned | None
    subscription_id: str


@dataclass(frozen=True, slots=True)
class Run:
    """A finished reconciliation as the console lists it."""

    id: str
    as_of: date
    carrier: str | None
    finished_at: datetime
    actor: str
    summary: dict[str, Any]  # Summary.to_json()
    cases_opened: int
    cases_resolved: int


@dataclass(frozen=True, slots=True)
class Verdict:
    carrier: str
    msisdn: str
    reasons: tuple[str, ...]
    action: str  # from telecom.rules.Action: none | review | notify


class Telecom:
    def __init__(self, registry: Registry, audit: AuditLog, timeline: TimelineConfig) -> None:
        self._registry = registry
        self._audit = audit
        self._timeline = timeline

    # -- carriers --
    def add_carrier(self, session: Session, code: str, name: str, now: datetime) -> m.Carrier:
        code = code.strip().upper()
        if not CARRIER_CODE.fullmatch(code):
            raise TelecomError("a carrier code is 2-16 letters, digits, '_' or '-'")
        if session.get(m.Carrier, code) is not None:
            raise CarrierExists(f"carrier {code} exists")
        carrier = m.Carrier(code=code, name=name.strip(), created_at=now)
        session.add(carrier)
        session.flush()
        seed_plan_blocks(session, code, now)
        return carrier

    def carrier(self, session: Session, code: str) -> m.Carrier:
        carrier = session.get(m.Carrier, code.strip().upper())
        if carrier is None:
            raise UnknownCarrier(f"no carrier {code}")
        return carrier

    def carriers(self, session: Session) -> list[m.Carrier]:
        return list(session.scalars(select(m.Carrier).order_by(m.Carrier.code)))

    # -- subscriber uploads --
    def apply_upload(
        self,
        session: Session,
        carrier: str,
        prepared: Sequence[PreparedSubscription],
        ctx: AccessContext,
        now: datetime,
        written: Written | None = None,
    ) -> Counts:
        """Store one chunk of a carrier's upload; unchanged rows are not touched. ``written``
        gets the ids and rows of what was created or changed (the snapshot's delta)."""
        counts = Counts()
        if not prepared:
            return counts
        existing = lookup(
            session,
            SUBSCRIPTIONS,
            "msisdn",
            "digest",
            [p.msisdn for p in prepared],
            where={"carrier": carrier},
        )
        # In number order: the rows then go into the number's index page after page, not all
        # over it (ADR 0026).
        fresh = sorted((p for p in prepared if p.msisdn not in existing), key=_by_msisdn)
        changed = [p for p in prepared if existing.get(p.msisdn, p.digest) != p.digest]
        counts.created, counts.updated = len(fresh), len(changed)
        counts.unchanged = len(prepared) - len(fresh) - len(changed)
        fresh_ids = uuid7s(len(fresh), now)
        insert_rows(
            session,
            SUBSCRIPTIONS,
            ("id", "carrier", *PreparedSubscription._fields),
            ((i, carrier, *p) for i, p in zip(fresh_ids, fresh, strict=True)),
            constants={"created_at": now, "updated_at": now},
        )
        if written is not None:
            written(carrier, fresh_ids, fresh)
        if changed:
            numbers = [p.msisdn for p in changed]
            where = {"carrier": carrier}
            ids = lookup(session, SUBSCRIPTIONS, "msisdn", "id", numbers, where=where)
            owners = lookup(session, SUBSCRIPTIONS, "msisdn", "id_bidx", numbers, where=where)
            since = lookup(session, SUBSCRIPTIONS, "msisdn", "activation_at", numbers, where=where)
            # A number that passed to another owner (or was activated anew) ends the cases of
            # the previous subscription: they must not head the new owner's line for a lock.
            for p in changed:
                if owners[p.msisdn] != p.id_bidx or _when(since[p.msisdn]) != p.activation_at:
                    self.resolve(session, carrier, p.msisdn, "the number changed hands", ctx, now)
            session.execute(
                update(m.Subscription),
                [{"id": ids[p.msisdn], "updated_at": now} | p._asdict() for p in changed],
            )
            if written is not None:
                written(carrier, [ids[p.msisdn] for p in changed], changed)
        if counts.created or counts.updated:
            bump(session, snapshot_name(carrier))  # the carrier's Parquet snapshot is stale
            # One entry per chunk: the upload stores blind indexes, it discloses nothing.
            self._audit.append(session, [ctx.event("upload", None, UPLOAD_FIELDS)], now)
        return counts

    # -- "my numbers" --
    def numbers_of(self, session: Session, id_bidx: bytes, subject_id: str) -> list[MyNumber]:
        """Every active number registered to this ID number, at every carrier, with what
        this citizen declared about that very subscription (finding 6: a declaration made
        by someone else, or about an earlier owner or activation, is not shown)."""
        d, s = m.NumberDeclaration, m.Subscription
        bound = and_(d.subject_id == subject_id, d.subscription_id == s.id, d.id_bidx == s.id_bidx)
        stmt = (
            select(s, d.declaration, d.activation_at)
            .join(d, bound, isouter=True)
            .where(s.id_bidx == id_bidx, s.status == "active")
            .order_by(s.activation_at)
        )
        # Same activation, compared as datetimes: SQLite may hold the two in different text.
        return [
            MyNumber(
                row.carrier,
                row.msisdn,
                row.activation_at,
                row.channel,
                declaration if activation == row.activation_at else None,
                row.id,
            )
            for row, declaration, activation in session.execute(stmt)
        ]

    def declare(
        self,
        session: Session,
        subject_id: str,
        id_bidx: bytes,
        msisdn: str,
        declaration: str,
        ctx: AccessContext,
        now: datetime,
    ) -> MyNumber:
        """The citizen confirms or disowns a number; disowning opens a lock case at once, and a
        confirm resolves a case opened only because the number was disowned."""
        if declaration not in ("confirmed", "disowned"):
            raise TelecomError("declaration is confirmed or disowned")
        mine = [n for n in self.numbers_of(session, id_bidx, subject_id) if n.msisdn == msisdn]
        if not mine:
            raise NotYourNumber("no active number of yours has this value")
        row = session.get(m.NumberDeclaration, (msisdn, subject_id))
        if row is None:
            row = m.NumberDeclaration(msisdn=msisdn, subject_id=subject_id)
            session.add(row)
        row.declaration, row.declared_at = declaration, now
        # The declaration holds for this subscription and owner only (the earliest one if
        # the number is listed at two carriers).
        row.subscription_id, row.id_bidx = mine[0].subscription_id, id_bidx
        row.activation_at = mine[0].activation_at
        self._audit.append(session, [ctx.event(f"number_{declaration}", subject_id, ())], now)
        for n in mine:
            if declaration == "disowned":
                self._open_case(session, n.carrier, msisdn, (Reason.DISOWNED.value,), now)
            else:
                case = self._open_case_of(session, n.carrier, msisdn)
                if case is not None and case.reasons == Reason.DISOWNED.value:
                    self.resolve(session, n.carrier, msisdn, "the owner confirmed it", ctx, now)
        first = mine[0]
        return MyNumber(
            first.carrier,
            msisdn,
            first.activation_at,
            first.channel,
            declaration,
            first.subscription_id,
        )

    # -- lock timeline --
    def _open_case(
        self, session: Session, carrier: str, msisdn: str, reasons: Iterable[str], now: datetime
    ) -> bool:
        """Open a case, or refresh the reasons of the open one; True if newly opened."""
        case = self._open_case_of(session, carrier, msisdn)
        joined = ",".join(sorted(set(reasons)))
        if case is not None:
            case.reasons = joined
            return False
        self._new_case(session, carrier, msisdn, joined, now)
        return True

    def _new_case(
        self, session: Session, carrier: str, msisdn: str, reasons: str, now: datetime
    ) -> m.LockCase:
        case = m.LockCase(
            id=uuid7s(1, now)[0],
            carrier=carrier,
            msisdn=msisdn,
            state=State.FLAGGED.value,
            reasons=reasons,
            opened_at=now,
            state_since=now,
            resolved_at=None,
            resolution=None,
        )
        session.add(case)
        return case

    def _open_case_of(self, session: Session, carrier: str, msisdn: str) -> m.LockCase | None:
        stmt = select(m.LockCase).where(
            m.LockCase.carrier == carrier,
            m.LockCase.msisdn == msisdn,
            m.LockCase.state.not_in([s.value for s in TERMINAL]),
        )
        return session.scalars(stmt).first()

    def apply_verdicts(
        self,
        session: Session,
        junk: Iterable[Verdict],
        checked: Iterable[str] | None,
        ctx: AccessContext,
        now: datetime,
    ) -> dict[str, int]:
        """Open a case for every junk number whose action is `notify` (review flags alone do
        not lock); resolve open cases of numbers that were checked and are no longer junk
        (the carrier corrected the data, or the owner re-verified). `checked` limits the
        resolution to some carriers (None: all)."""
        opened = resolved = 0
        flagged: set[tuple[str, str]] = set()
        # Every open case in one query, not one per junk number (tens of thousands a run).
        live = m.LockCase.state.not_in([s.value for s in TERMINAL])
        cases: dict[tuple[str, str], m.LockCase] = {}
        for row in session.scalars(select(m.LockCase).where(live)):
            cases.setdefault((row.carrier, row.msisdn), row)
        for v in junk:
            key = (v.carrier, v.msisdn)
            flagged.add(key)
            if v.action != "notify":
                continue
            joined = ",".join(sorted(set(v.reasons)))
            case = cases.get(key)
            if case is None:
                cases[key] = self._new_case(session, v.carrier, v.msisdn, joined, now)
                opened += 1
            elif case.reasons != joined:
                case.reasons = joined
        stmt = select(m.LockCase.carrier, m.LockCase.msisdn).where(live)
        if checked is not None:
            stmt = stmt.where(m.LockCase.carrier.in_(list(checked)))
        for carrier, msisdn in session.execute(stmt).all():
            if (carrier, msisdn) not in flagged:
                resolved += self.resolve(
                    session, carrier, msisdn, "reconciliation found it ok", ctx, now
                )
        return {"opened": opened, "resolved": resolved}

    def resolve(
        self,
        session: Session,
        carrier: str,
        msisdn: str,
        why: str,
        ctx: AccessContext,
        now: datetime,
    ) -> bool:
        case = self._open_case_of(session, carrier, msisdn)
        if case is None:
            return False
        action = resolution(State(case.state))
        case.state, case.state_since = State.RESOLVED.value, now
        case.resolved_at, case.resolution = now, why[:200]
        if action is not None:
            self._action(session, case, action, now)
        self._audit.append(
            session,
            [ctx.event("lock_case_resolved", self._owner(session, carrier, msisdn), ())],
            now,
        )
        return True

    def _owner(self, session: Session, carrier: str, msisdn: str) -> str | None:
        stmt = select(m.Subscription.id_bidx).where(
            m.Subscription.carrier == carrier, m.Subscription.msisdn == msisdn
        )
        for id_bidx in session.scalars(stmt):
            subject = self._registry.subject_by_index(session, id_bidx)
            if subject is not None:
                return subject.subject_id
        return None

    def _action(
        self, session: Session, case: m.LockCase, action: CarrierAction, at: datetime
    ) -> None:
        session.add(
            m.CarrierAction(
                carrier=case.carrier,
                case_id=case.id,
                msisdn=case.msisdn,
                action=action.value,
                created_at=at,
                acknowledged_at=None,
            )
        )

    def advance(self, session: Session, now: datetime) -> dict[str, int]:
        """Apply every transition due by `now`; returns how many cases entered each state."""
        entered: dict[str, int] = {}
        stmt = select(m.LockCase).where(m.LockCase.state.not_in([s.value for s in TERMINAL]))
        for case in session.scalars(stmt):
            since = case.state_since
            for step in due_steps(State(case.state), _aware(since, now), now, self._timeline):
                case.state, case.state_since = step.state.value, step.since
                self._action(session, case, step.action, step.since)
                entered[step.state.value] = entered.get(step.state.value, 0) + 1
        return entered

    def pending_actions(
        self, session: Session, carrier: str, limit: int = 1000
    ) -> list[m.CarrierAction]:
        stmt = (
            select(m.CarrierAction)
            .where(m.CarrierAction.carrier == carrier, m.CarrierAction.acknowledged_at.is_(None))
            .order_by(m.CarrierAction.id)
            .limit(limit)
        )
        return list(session.scalars(stmt))

    def acknowledge(
        self, session: Session, carrier: str, action_ids: Sequence[int], now: datetime
    ) -> int:
        """Mark the carrier's own actions done; ids of other carriers are ignored."""
        if not action_ids:
            return 0
        result = session.execute(
            update(m.CarrierAction)
            .where(
                m.CarrierAction.carrier == carrier,
                m.CarrierAction.id.in_(list(action_ids)),
                m.CarrierAction.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- what the officer console shows: runs, cases by state, a case's history --
    def record_run(
        self,
        session: Session,
        summary: Mapping[str, Any],
        opened: int,
        resolved: int,
        actor: str,
        now: datetime,
    ) -> m.ReconciliationRun:
        """Keep a finished reconciliation's summary (``Summary.to_json()``: counts only)."""
        run = m.ReconciliationRun(
            id=uuid7s(1, now)[0],
            as_of=date.fromisoformat(summary["as_of"]),
            carrier=summary.get("carrier"),
            finished_at=now,
            actor=actor[:200],
            summary=json.dumps(summary, ensure_ascii=False),
            cases_opened=opened,
            cases_resolved=resolved,
        )
        session.add(run)
        return run

    def runs(self, session: Session, limit: int = 20) -> list[Run]:
        """The latest finished reconciliations, newest first."""
        stmt = (
            select(m.ReconciliationRun)
            .order_by(m.ReconciliationRun.finished_at.desc(), m.ReconciliationRun.id.desc())
            .limit(limit)
        )
        return [
            Run(
                r.id,
                r.as_of,
                r.carrier,
                r.finished_at if r.finished_at.tzinfo else r.finished_at.replace(tzinfo=UTC),
                r.actor,
                json.loads(r.summary),
                r.cases_opened,
                r.cases_resolved,
            )
            for r in session.scalars(stmt)
        ]

    def cases_by_state(self, session: Session) -> dict[str, int]:
        """How many lock cases are in each state (every state named, zeros included)."""
        stmt = select(m.LockCase.state, func.count()).group_by(m.LockCase.state)
        counts = {str(state): int(n) for state, n in session.execute(stmt).all()}
        return {s.value: counts.get(s.value, 0) for s in State}

    def cases(self, session: Session, state: str, limit: int = 50) -> list[m.LockCase]:
        """Cases in ``state``, the longest there first."""
        stmt = (
            select(m.LockCase)
            .where(m.LockCase.state == state)
            .order_by(m.LockCase.state_since, m.LockCase.id)
            .limit(limit)
        )
        return list(session.scalars(stmt))

    def case_history(
        self, session: Session, case_id: str
    ) -> tuple[m.LockCase, list[m.CarrierAction]] | None:
        """A case and every action it sent its carrier, oldest first."""
        case = session.get(m.LockCase, case_id)
        if case is None:
            return None
        stmt = (
            select(m.CarrierAction)
            .where(m.CarrierAction.case_id == case_id)
            .order_by(m.CarrierAction.created_at, m.CarrierAction.id)
        )
        return case, list(session.scalars(stmt))

    def case_of(self, session: Session, carrier: str, msisdn: str) -> m.LockCase | None:
        stmt = (
            select(m.LockCase)
            .where(m.LockCase.carrier == carrier, m.LockCase.msisdn == msisdn)
            .order_by(m.LockCase.opened_at.desc())
        )
        return session.scalars(stmt).first()


def _by_msisdn(p: PreparedSubscription) -> str:
    return p.msisdn


def _when(value: datetime | str) -> datetime:
    # A raw lookup: SQLite gives back the text it stored.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _aware(value: datetime, like: datetime) -> datetime:
    # SQLite returns naive UTC datetimes; compare like with like.
    if value.tzinfo is None and like.tzinfo is not None:
        return value.replace(tzinfo=like.tzinfo)
    return value
