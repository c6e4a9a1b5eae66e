"""Lawful re-identification: the one way from a platform account to a person (issue 10.11).

An investigator files a request for one account (platform code and account id) with a legal
basis, a case reference, a reason and, under a basis that allows one, a disclosure delay. An
approver who is another person, freshly authenticated (the console's gate), approves or
refuses it with a note. Within ``valid_for`` of the approval the requester, and nobody else,
reveals it once: the bound person's ID number and name, read through the Registry and audited
under the citizen with the request's legal basis, case reference and disclosure date, so the
citizen sees it in "Who used my data" once the delay ends. Every step is an audit entry.

The row never holds the person. Filing does not look at bindings, so it says nothing about
whether an account is bound (an unbound account can be asked about; its reveal answers "no
person bound"); the binding is opened at the reveal, and what it shows is returned once and
not stored. States and transitions: ``disclosure_rules``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing, open_sealed, seal
from dinhdanh.errors import DomainError
from dinhdanh.privacy.access import check_purpose
from dinhdanh.privacy.access_log import disclose_after
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.privacy.disclosure_rules import (
    FILER,
    Facts,
    State,
    Step,
    Verdict,
    decide,
    due_to_expire,
    expiry,
    lapse,
    next_state,
    state_at,
)
from dinhdanh.privacy.models import DisclosureRequest
from dinhdanh.staff.rules import person_of
from dinhdanh.store.ids import uuid7s

if TYPE_CHECKING:
    from dinhdanh.identity.service import Registry

MAX_ACCOUNT_ID = 200  # as social.service
MIN_TEXT, MAX_TEXT = 3, 500
REVEALED_FIELDS = ("id_number", "full_name")
SYSTEM = AccessContext("system:disclosure", "system", "re-identification request expiry")

# (session, platform code, account id) -> the bound citizen's subject id, or None.
Holder = Callable[[Session, str, str], str | None]
# (session) -> the registered platforms' codes.
PlatformCodes = Callable[[Session], Collection[str]]


class DisclosureError(DomainError):
    code, status, title = "disclosure_invalid", 400, "Invalid re-identification request"


class UnknownPlatform(DisclosureError):
    code, status, title = "platform_not_found", 404, "No such platform"


class DisclosureNotFound(DisclosureError):
    code, status, title = "disclosure_not_found", 404, "No such re-identification request"


class DisclosureForbidden(DisclosureError):
    code, status, title = "disclosure_role_required", 403, "This role cannot take this step"


class SelfApproval(DisclosureError):
    code, status, title = "disclosure_self_approval", 403, "Another person must decide"


class Decided(DisclosureError):
    code, status, title = "disclosure_decided", 409, "The request was already decided"


class NotApproved(DisclosureError):
    code, status, title = "disclosure_not_approved", 409, "The request is not approved yet"


class Refused(DisclosureError):
    code, status, title = "disclosure_refused", 409, "The request was refused"


class AlreadyRevealed(DisclosureError):
    code, status, title = "disclosure_already_revealed", 409, "The request was already used"


class Expired(DisclosureError):
    code, status, title = "disclosure_expired", 409, "The request has expired"


_REFUSALS: dict[Verdict, tuple[type[DisclosureError], str]] = {
    Verdict.ROLE: (DisclosureForbidden, "this step needs a person with another staff role"),
    Verdict.SELF_APPROVAL: (
        SelfApproval,
        "a request is decided by someone other than its requester",
    ),
    # Someone else's request: answered as if there were none.
    Verdict.NOT_REQUESTER: (DisclosureNotFound, "no such re-identification request"),
    Verdict.DECIDED: (Decided, "the request is no longer waiting for a decision"),
    Verdict.NOT_APPROVED: (NotApproved, "the request waits for an approver"),
    Verdict.REFUSED: (Refused, "the request was refused"),
    Verdict.ALREADY_REVEALED: (AlreadyRevealed, "a request reveals the person once"),
    Verdict.EXPIRED: (Expired, "the request has expired: file a new request"),
    Verdict.LAPSED: (Expired, "the request lapsed unanswered: file a new request"),
}


@dataclass(frozen=True, slots=True)
class DisclosurePolicy:
    legal_bases: tuple[str, ...]  # DINHDANH_LEGAL_BASES
    delay_bases: tuple[str, ...]  # DINHDANH_AUDIT_DELAY_BASES
    max_delay_days: int  # DINHDANH_AUDIT_MAX_DISCLOSURE_DAYS
    valid_for: timedelta  # DINHDANH_DISCLOSURE_VALID_DAYS
    pending_for: timedelta  # DINHDANH_DISCLOSURE_PENDING_DAYS


@dataclass(frozen=True, slots=True)
class RequestInfo:
    id: str
    platform: str
    account_id: str
    legal_basis: str
    case_ref: str
    reason: str
    delay_days: int | None
    requested_by: str
    organisation: str
    filed_at: datetime
    state: State  # when it was read
    decided_by: str | None
    decider_organisation: str | None
    decided_at: datetime | None
    decision_note: str | None
    expires_at: datetime | None
    revealed_at: datetime | None
    found: bool | None


@dataclass(frozen=True, slots=True)
class Person:
    id_number: str
    full_name: str


@dataclass(frozen=True, slots=True)
class Revealed:
    request: RequestInfo
    person: Person | None  # None: no person was bound to the account


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _text(value: str, what: str) -> str:
    text = " ".join((value or "").split())
    if not MIN_TEXT <= len(text) <= MAX_TEXT:
        raise DisclosureError(f"the {what} must be {MIN_TEXT} to {MAX_TEXT} characters")
    return text


def _seal_context(request_id: str) -> bytes:
    return b"disclosure.request\x00" + request_id.encode()


def _facts(row: DisclosureRequest) -> Facts:
    return Facts(State(row.state), row.requested_by, _utc(row.expires_at))


class Disclosures:
    def __init__(
        self,
        ring: KeyRing,
        audit: AuditLog,
        registry: Registry,
        holder: Holder,
        platforms: PlatformCodes,
        policy: DisclosurePolicy,
    ) -> None:
        self._ring = ring
        self._audit = audit
        self._registry = registry
        self._holder = holder
        self._platforms = platforms
        self.policy = policy

    # -- filing ----------------------------------------------------------------------------
    def file(
        self,
        session: Session,
        by: AccessContext,
        platform: str,
        account_id: str,
        legal_basis: str,
        case_ref: str,
        reason: str,
        delay_days: int | None,
        now: datetime,
    ) -> RequestInfo:
        """A new pending request by ``by`` (an investigator's context). Nothing is looked up."""
        if by.role != FILER or person_of(by.actor) is None:
            raise DisclosureForbidden("requests are filed by a person with the investigator role")
        p = self.policy
        ground = check_purpose(legal_basis, case_ref, p.legal_bases)
        # Checked now with the filing's clock; the delay itself runs from the reveal.
        disclose_after(
            ground.legal_basis, delay_days, now, bases=p.delay_bases, max_days=p.max_delay_days
        )
        why = _text(reason, "reason")
        code = (platform or "").strip().lower()
        if code not in self._platforms(session):
            raise UnknownPlatform(f"no platform {code!r}")
        if not 1 <= len(account_id) <= MAX_ACCOUNT_ID or not account_id.strip():
            raise DisclosureError(f"an account id has 1 to {MAX_ACCOUNT_ID} characters")
        request_id = uuid7s(1, now)[0]
        row = DisclosureRequest(
            id=request_id,
            platform=code,
            account_sealed=seal(self._ring, account_id.encode(), _seal_context(request_id)),
            legal_basis=ground.legal_basis,
            case_ref=ground.case_ref,
            reason=why,
            delay_days=delay_days,
            requested_by=by.actor,
            organisation=by.organisation or "",
            filed_at=now,
            state=State.PENDING.value,
            expires_at=lapse(now, p.pending_for),
        )
        session.add(row)
        session.flush()
        self._record(session, row, by, "file", f"filed: {why}", None, now)
        return self._info(row, now)

    # -- reading ---------------------------------------------------------------------------
    def mine(self, session: Session, actor: str, now: datetime) -> list[RequestInfo]:
        """The requests ``actor``'s person filed (under any grant or token), newest first."""
        self.expire_due(session, now)
        stmt = (
            select(DisclosureRequest)
            .where(DisclosureRequest.requested_by == actor)
            .order_by(DisclosureRequest.filed_at.desc(), DisclosureRequest.id.desc())
        )
        return [self._info(r, now) for r in session.scalars(stmt)]

    def pending(self, session: Session, now: datetime) -> list[RequestInfo]:
        """The approvers' queue, oldest first (requests past their deadline lapse first)."""
        self.expire_due(session, now)
        stmt = (
            select(DisclosureRequest)
            .where(DisclosureRequest.state == State.PENDING.value)
            .order_by(DisclosureRequest.filed_at, DisclosureRequest.id)
        )
        return [self._info(r, now) for r in session.scalars(stmt)]

    def get(self, session: Session, request_id: str, now: datetime) -> RequestInfo | None:
        row = session.get(DisclosureRequest, request_id)
        return None if row is None else self._info(row, now)

    def _row(self, session: Session, request_id: str) -> DisclosureRequest:
        row = session.get(DisclosureRequest, request_id)
        if row is None:
            raise DisclosureNotFound(f"no re-identification request {request_id!r}")
        return row

    def _info(self, row: DisclosureRequest, now: datetime) -> RequestInfo:
        account = open_sealed(self._ring, row.account_sealed, _seal_context(row.id)).decode()
        filed_at = _utc(row.filed_at)
        assert filed_at is not None
        return RequestInfo(
            id=row.id,
            platform=row.platform,
            account_id=account,
            legal_basis=row.legal_basis,
            case_ref=row.case_ref,
            reason=row.reason,
            delay_days=row.delay_days,
            requested_by=row.requested_by,
            organisation=row.organisation,
            filed_at=filed_at,
            state=state_at(_facts(row), now),
            decided_by=row.decided_by,
            decider_organisation=row.decider_organisation,
            decided_at=_utc(row.decided_at),
            decision_note=row.decision_note,
            expires_at=_utc(row.expires_at),
            revealed_at=_utc(row.revealed_at),
            found=row.found,
        )

    # -- deciding --------------------------------------------------------------------------
    def approve(
        self, session: Session, request_id: str, by: AccessContext, note: str, now: datetime
    ) -> RequestInfo:
        return self._decide(session, request_id, Step.APPROVE, by, note, now)

    def refuse(
        self, session: Session, request_id: str, by: AccessContext, note: str, now: datetime
    ) -> RequestInfo:
        return self._decide(session, request_id, Step.REFUSE, by, note, now)

    def _decide(
        self,
        session: Session,
        request_id: str,
        step: Step,
        by: AccessContext,
        note: str,
        now: datetime,
    ) -> RequestInfo:
        row = self._row(session, request_id)
        _check(decide(_facts(row), step, by.actor, by.role, now))
        text = _text(note, "note")
        to = next_state(State.PENDING, step)
        values = {
            "state": to.value,
            "decided_by": by.actor,
            "decider_organisation": by.organisation,
            "decided_at": now,
            "decision_note": text,
            "expires_at": expiry(now, self.policy.valid_for) if to is State.APPROVED else None,
        }
        # Two approvers at once: the first one's decision stands, the other is told.
        if not self._claim(session, row, State.PENDING, values):
            raise Decided("the request was decided meanwhile")
        verb = "approved" if to is State.APPROVED else "refused"
        self._record(session, row, by, step.value, f"{verb}: {text}", None, now)
        return self._info(row, now)

    def _claim(
        self, session: Session, row: DisclosureRequest, state: State, values: Mapping[str, object]
    ) -> bool:
        """Move ``row`` out of ``state`` unless another transaction already did."""
        stmt = (
            update(DisclosureRequest)
            .where(DisclosureRequest.id == row.id, DisclosureRequest.state == state.value)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        claimed = int(session.execute(stmt).rowcount) == 1  # type: ignore[attr-defined]
        session.refresh(row)
        return claimed

    # -- revealing -------------------------------------------------------------------------
    def reveal(
        self, session: Session, request_id: str, by: AccessContext, now: datetime
    ) -> Revealed:
        """The bound person's ID number and name, once, to the requester of an approved,
        unexpired request. Audited under the citizen with the request's legal basis, case
        reference and disclosure date (the delay counts from now)."""
        row = self._row(session, request_id)
        _check(decide(_facts(row), Step.REVEAL, by.actor, by.role, now))
        done = {"state": next_state(State.APPROVED, Step.REVEAL).value, "revealed_at": now}
        if not self._claim(session, row, State.APPROVED, done):
            raise AlreadyRevealed("the request was used meanwhile")
        account_id = self._info(row, now).account_id
        subject = self._holder(session, row.platform, account_id)
        until = None if row.delay_days is None else now + timedelta(days=row.delay_days)
        ctx = self._context(row, by, "revealed", until)
        record = None
        if subject is not None:  # the read is audited by the Registry, under the citizen
            record = self._registry.open_subject(session, subject, REVEALED_FIELDS, ctx, now)
        if record is None:
            self._record(session, row, by, "reveal", "revealed: no person bound", until, now)
        else:
            self._audit.append(session, [ctx.event("disclosure_reveal", subject, ())], now)
        row.found = record is not None
        session.flush()
        person = None if record is None else Person(record.id_number, record.full_name)
        return Revealed(self._info(row, now), person)

    # -- expiry ----------------------------------------------------------------------------
    def expire_due(self, session: Session, now: datetime) -> int:
        """Record the EXPIRE step of requests whose time is up: approvals unused and requests
        left unanswered (each audited once); returns how many. A request past its time is
        refused whether or not this has run: this only writes down what ``state_at`` says."""
        stmt = select(DisclosureRequest).where(
            DisclosureRequest.state.in_((State.PENDING.value, State.APPROVED.value)),
            DisclosureRequest.expires_at <= now.astimezone(UTC),
        )
        count = 0
        for row in list(session.scalars(stmt)):
            facts = _facts(row)
            if not due_to_expire(facts, now):
                continue
            to = next_state(facts.state, Step.EXPIRE)
            why = "lapsed unanswered" if facts.state is State.PENDING else "expired unused"
            if self._claim(session, row, facts.state, {"state": to.value}):
                self._record(session, row, SYSTEM, "expire", why, None, now)
                count += 1
        return count

    # -- audit -----------------------------------------------------------------------------
    @staticmethod
    def _context(
        row: DisclosureRequest, by: AccessContext, what: str, until: datetime | None
    ) -> AccessContext:
        purpose = f"{row.legal_basis}: {row.case_ref}; re-identification request {row.id} {what}"
        return dataclasses.replace(
            by,
            purpose=purpose,
            legal_basis=row.legal_basis,
            case_ref=row.case_ref,
            disclose_after=until,
        )

    def _record(
        self,
        session: Session,
        row: DisclosureRequest,
        by: AccessContext,
        step: str,
        what: str,
        until: datetime | None,
        now: datetime,
    ) -> None:
        """A step that names no citizen: nobody knows who it is about until the reveal."""
        ctx = self._context(row, by, what, until)
        self._audit.append(session, [ctx.event(f"disclosure_{step}", None, ())], now)


def _check(verdict: Verdict) -> None:
    if verdict is not Verdict.OK:
        error, message = _REFUSALS[verdict]
        raise error(message)
