"""The re-identification state machine: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.privacy.disclosure_rules import (
    FINAL,
    TRANSITIONS,
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

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
ALICE, BOB = "person:0190a1", "person:0190b2"  # requester, approver
MACHINE = "machine:Công an/4f2a"


def facts(state: State = State.PENDING, expires_at: datetime | None = None) -> Facts:
    return Facts(state, ALICE, expires_at)


APPROVED = facts(State.APPROVED, expiry(NOW, WEEK))


def test_the_transition_table_is_the_diagram() -> None:
    assert dict(TRANSITIONS) == {
        (State.PENDING, Step.APPROVE): State.APPROVED,
        (State.PENDING, Step.REFUSE): State.REFUSED,
        (State.PENDING, Step.EXPIRE): State.EXPIRED,
        (State.APPROVED, Step.REVEAL): State.REVEALED,
        (State.APPROVED, Step.EXPIRE): State.EXPIRED,
    }
    assert {to for (_, _), to in TRANSITIONS.items()} >= FINAL
    assert not [k for k in TRANSITIONS if k[0] in FINAL]  # nothing leaves a final state
    with pytest.raises(ValueError, match="no transition"):
        next_state(State.REVEALED, Step.REVEAL)


def test_another_approver_approves_or_refuses_a_pending_request() -> None:
    for step in (Step.APPROVE, Step.REFUSE):
        assert decide(facts(), step, BOB, "approver", NOW) is Verdict.OK


def test_nobody_approves_their_own_request() -> None:
    # Alice holds an approver grant too: still one person, whatever grant or token she uses.
    assert decide(facts(), Step.APPROVE, ALICE, "approver", NOW) is Verdict.SELF_APPROVAL
    assert decide(facts(), Step.REFUSE, ALICE, "approver", NOW) is Verdict.SELF_APPROVAL


def test_only_a_person_with_the_approver_role_decides() -> None:
    for role in ("investigator", "officer", "admin", "auditor"):
        assert decide(facts(), Step.APPROVE, BOB, role, NOW) is Verdict.ROLE
    assert decide(facts(), Step.APPROVE, MACHINE, "approver", NOW) is Verdict.ROLE


def test_a_decided_request_is_not_decided_again() -> None:
    for state in (State.APPROVED, State.REFUSED, State.REVEALED, State.EXPIRED):
        assert decide(facts(state), Step.APPROVE, BOB, "approver", NOW) is Verdict.DECIDED


def test_only_the_requester_reveals_an_approved_request_once() -> None:
    assert decide(APPROVED, Step.REVEAL, ALICE, "investigator", NOW) is Verdict.OK
    assert decide(APPROVED, Step.REVEAL, BOB, "investigator", NOW) is Verdict.NOT_REQUESTER
    assert decide(APPROVED, Step.REVEAL, ALICE, "approver", NOW) is Verdict.ROLE
    assert decide(APPROVED, Step.REVEAL, ALICE, "officer", NOW) is Verdict.ROLE
    revealed = facts(State.REVEALED, APPROVED.expires_at)
    assert decide(revealed, Step.REVEAL, ALICE, "investigator", NOW) is Verdict.ALREADY_REVEALED
    assert decide(facts(), Step.REVEAL, ALICE, "investigator", NOW) is Verdict.NOT_APPROVED
    refused = facts(State.REFUSED)
    assert decide(refused, Step.REVEAL, ALICE, "investigator", NOW) is Verdict.REFUSED


def test_an_approval_expires_seven_days_after_it_was_given() -> None:
    last = NOW + WEEK - timedelta(microseconds=1)
    assert state_at(APPROVED, last) is State.APPROVED
    assert decide(APPROVED, Step.REVEAL, ALICE, "investigator", last) is Verdict.OK
    assert state_at(APPROVED, NOW + WEEK) is State.EXPIRED
    assert decide(APPROVED, Step.REVEAL, ALICE, "investigator", NOW + WEEK) is Verdict.EXPIRED
    assert due_to_expire(APPROVED, NOW + WEEK)
    assert not due_to_expire(APPROVED, last)
    # Recorded already: not due again. A request filed with no deadline (before requests
    # lapsed) waits.
    assert not due_to_expire(facts(State.EXPIRED, APPROVED.expires_at), NOW + WEEK)
    assert state_at(facts(), NOW + 100 * WEEK) is State.PENDING


def test_a_request_nobody_answers_lapses_at_its_deadline() -> None:
    month = timedelta(days=30)
    pending = facts(State.PENDING, lapse(NOW, month))
    last = NOW + month - timedelta(microseconds=1)
    assert state_at(pending, last) is State.PENDING
    assert decide(pending, Step.APPROVE, BOB, "approver", last) is Verdict.OK
    assert not due_to_expire(pending, last)
    assert state_at(pending, NOW + month) is State.EXPIRED
    for step in (Step.APPROVE, Step.REFUSE):
        assert decide(pending, step, BOB, "approver", NOW + month) is Verdict.LAPSED
    # The requester learns it expired; never that it was approved.
    assert decide(pending, Step.REVEAL, ALICE, "investigator", NOW + month) is Verdict.EXPIRED
    assert due_to_expire(pending, NOW + month)
    assert next_state(pending.state, Step.EXPIRE) is State.EXPIRED
    # Who may not decide is told so first, whatever the deadline.
    assert decide(pending, Step.APPROVE, ALICE, "approver", NOW + month) is Verdict.SELF_APPROVAL


people = st.sampled_from([ALICE, BOB, "person:0190c3", MACHINE, "operator:root"])
roles = st.sampled_from(["investigator", "approver", "officer", "admin", "auditor", "system"])
states = st.sampled_from(list(State))
moments = st.integers(min_value=-10, max_value=20).map(lambda d: NOW + timedelta(days=d))


@given(states, st.sampled_from(list(Step)), people, roles, moments, st.booleans())
def test_every_allowed_step_is_a_transition_of_the_table(
    state: State, step: Step, actor: str, role: str, now: datetime, deadline: bool
) -> None:
    pending_deadline = lapse(NOW, timedelta(days=5)) if deadline else None
    f = Facts(state, ALICE, expiry(NOW, WEEK) if state is not State.PENDING else pending_deadline)
    if decide(f, step, actor, role, now) is Verdict.OK:
        assert (state_at(f, now), step) in TRANSITIONS or step is Step.EXPIRE
        assert (f.state, step) in TRANSITIONS  # the stored state moves by the table
        if step in (Step.APPROVE, Step.REFUSE):
            assert role == "approver"
            assert actor not in (ALICE, MACHINE, "operator:root")
            assert pending_deadline is None or now < pending_deadline
        if step is Step.REVEAL:
            assert actor == ALICE
            assert role == "investigator"
            assert now < NOW + WEEK
