"""Re-identification requests as a state machine: pure decisions, no I/O.

    pending --approve--> approved --reveal--> revealed
    pending --refuse---> refused
    pending --expire---> expired      (``pending_for`` after the filing: lapsed unanswered)
    approved --expire--> expired      (``valid_for`` after the approval)

An investigator files a request (it starts ``pending``); an approver who is another person
approves or refuses it; only the person who filed it reveals it, once, before the approval
expires. ``privacy.disclosure`` reads the row, asks ``decide``, then writes the transition
that ``TRANSITIONS`` names. The diagram is in docs/architecture.md ("Lawful
re-identification").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from dinhdanh.staff.roles import StaffRole
from dinhdanh.staff.rules import distinct_people, person_of, same_person

FILER = StaffRole.INVESTIGATOR  # files requests and reveals their own approved ones
DECIDER = StaffRole.APPROVER  # the second person


class State(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    REVEALED = "revealed"
    EXPIRED = "expired"


class Step(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"
    REVEAL = "reveal"
    EXPIRE = "expire"


# The one transition table; anything not here is refused. Filing creates a PENDING request.
TRANSITIONS: Mapping[tuple[State, Step], State] = MappingProxyType(
    {
        (State.PENDING, Step.APPROVE): State.APPROVED,
        (State.PENDING, Step.REFUSE): State.REFUSED,
        (State.PENDING, Step.EXPIRE): State.EXPIRED,
        (State.APPROVED, Step.REVEAL): State.REVEALED,
        (State.APPROVED, Step.EXPIRE): State.EXPIRED,
    }
)
FINAL = frozenset({State.REFUSED, State.REVEALED, State.EXPIRED})


@dataclass(frozen=True, slots=True)
class Facts:
    """What the request's row says."""

    state: State  # as stored: a PENDING or APPROVED row past its expiry is EXPIRED (``state_at``)
    requested_by: str  # the requester's audit actor, ``person:<subject>``
    # The deadline of the state: set at filing (a request unanswered by then lapses) and set
    # again at approval (the time to reveal). None: no deadline (rows filed before lapsing).
    expires_at: datetime | None


class Verdict(StrEnum):
    OK = "ok"
    ROLE = "role"  # not a person acting in the role this step needs
    SELF_APPROVAL = "self_approval"  # the approver is the requester (any grant, any token)
    NOT_REQUESTER = "not_requester"  # only the person who filed the request reveals it
    DECIDED = "decided"  # approving or refusing a request that is no longer pending
    NOT_APPROVED = "not_approved"  # revealing a pending request
    REFUSED = "refused"
    ALREADY_REVEALED = "already_revealed"
    EXPIRED = "expired"
    LAPSED = "lapsed"  # deciding a request left unanswered past its deadline


_REVEAL = {  # by the state at the moment: a lapsed request is EXPIRED, never approved
    State.APPROVED: Verdict.OK,
    State.PENDING: Verdict.NOT_APPROVED,
    State.REFUSED: Verdict.REFUSED,
    State.REVEALED: Verdict.ALREADY_REVEALED,
    State.EXPIRED: Verdict.EXPIRED,
}


def expiry(approved_at: datetime, valid_for: timedelta) -> datetime:
    """Until when an approval may be used. Counted from the approval, not the filing: a
    request may wait for its second person, and the time to act starts with the approval."""
    return approved_at + valid_for


def lapse(filed_at: datetime, pending_for: timedelta) -> datetime:
    """Until when a filed request may be decided. An approver who has not answered by then
    answers nothing: a re-identification asked for months ago is no longer the case's need,
    and the investigator files again with what is known now."""
    return filed_at + pending_for


_OPEN = frozenset({State.PENDING, State.APPROVED})


def state_at(facts: Facts, now: datetime) -> State:
    if facts.state in _OPEN and facts.expires_at is not None and now >= facts.expires_at:
        return State.EXPIRED
    return facts.state


def due_to_expire(facts: Facts, now: datetime) -> bool:
    """A pending or approved row whose time is up: the EXPIRE step is to be recorded."""
    return facts.state in _OPEN and state_at(facts, now) is State.EXPIRED


def decide(facts: Facts, step: Step, actor: str, role: str, now: datetime) -> Verdict:
    """May ``actor`` (an audit actor), acting under a grant of ``role``, take ``step`` now?

    Role first, then who, then the state: a refusal never tells someone who may not act
    anything about where the request stands."""
    state = state_at(facts, now)
    if step in (Step.APPROVE, Step.REFUSE):
        if role != DECIDER or person_of(actor) is None:
            return Verdict.ROLE
        if not distinct_people(actor, facts.requested_by):
            return Verdict.SELF_APPROVAL
        if state is State.EXPIRED and facts.state is State.PENDING:
            return Verdict.LAPSED
        return Verdict.OK if state is State.PENDING else Verdict.DECIDED
    if step is Step.REVEAL:
        if role != FILER or person_of(actor) is None:
            return Verdict.ROLE
        if not same_person(actor, facts.requested_by):
            return Verdict.NOT_REQUESTER
        return _REVEAL[state]
    # EXPIRE is the system's step, not a person's: see due_to_expire.
    return Verdict.OK if due_to_expire(facts, now) else Verdict.DECIDED


def next_state(state: State, step: Step) -> State:
    """The state after ``step``; ValueError if the table has no such transition."""
    try:
        return TRANSITIONS[(state, step)]
    except KeyError:
        raise ValueError(f"no transition from {state} by {step}") from None
