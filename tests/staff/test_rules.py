"""The staff page gate and the person comparisons: pure, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dinhdanh.staff.roles import GRANTS, LOOKUP, StaffRole
from dinhdanh.staff.rules import (
    Gate,
    SessionFacts,
    StaffPolicy,
    console_gate,
    distinct_people,
    person_actor,
    person_of,
    same_person,
)

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
POLICY = StaffPolicy(idle=timedelta(minutes=15), fresh=timedelta(minutes=5))
GOOD = SessionFacts(
    amr=("pwd", "otp", "mfa"),
    acr=1,
    mfa_pending=False,
    auth_time=NOW - timedelta(minutes=1),
    last_seen_at=NOW - timedelta(minutes=1),
)


def gate(
    facts: SessionFacts | None = GOOD,
    granted: tuple[StaffRole, ...] = (StaffRole.OFFICER,),
    needs: frozenset[StaffRole] = LOOKUP,
    *,
    factor: bool = True,
    approving: bool = False,
) -> Gate:
    return console_gate(
        facts,
        granted,
        needs,
        has_second_factor=factor,
        approving=approving,
        now=NOW,
        policy=POLICY,
    )


def test_an_officer_with_totp_opens_a_lookup_page() -> None:
    assert gate() is Gate.OPEN
    assert gate(replace(GOOD, amr=("hwk", "user", "mfa"))) is Gate.OPEN  # a passkey


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (None, Gate.LOG_IN),
        (replace(GOOD, mfa_pending=True), Gate.LOG_IN),
        # 15 minutes idle is the limit; one second more and the staff member logs in again.
        (replace(GOOD, last_seen_at=NOW - timedelta(minutes=15)), Gate.OPEN),
        (replace(GOOD, last_seen_at=NOW - timedelta(minutes=15, seconds=1)), Gate.LOG_IN),
        (replace(GOOD, amr=("pwd",), acr=0), Gate.SECOND_FACTOR),
        (replace(GOOD, amr=("pwd", "recovery", "mfa")), Gate.SECOND_FACTOR),
        (replace(GOOD, amr=("pwd", "sms")), Gate.SECOND_FACTOR),
        (replace(GOOD, acr=0), Gate.SECOND_FACTOR),
    ],
)
def test_the_session_must_be_recent_and_two_factor(
    facts: SessionFacts | None, expected: Gate
) -> None:
    assert gate(facts) is expected


def test_the_role_must_be_granted() -> None:
    assert gate(granted=()) is Gate.FORBIDDEN
    assert gate(granted=(StaffRole.AUDITOR,)) is Gate.FORBIDDEN
    assert gate(granted=(StaffRole.AUDITOR, StaffRole.INVESTIGATOR)) is Gate.OPEN


def test_a_staff_member_without_a_second_factor_sets_one_up() -> None:
    assert gate(replace(GOOD, amr=("pwd",), acr=0), factor=False) is Gate.SET_UP_FACTOR


def test_approving_needs_an_authentication_at_most_five_minutes_old() -> None:
    admin = (StaffRole.ADMIN,)
    five = replace(GOOD, auth_time=NOW - timedelta(minutes=5))
    six = replace(GOOD, auth_time=NOW - timedelta(minutes=5, seconds=1))
    assert gate(five, admin, GRANTS, approving=True) is Gate.OPEN
    assert gate(six, admin, GRANTS, approving=True) is Gate.REAUTHENTICATE
    assert gate(six, admin, GRANTS) is Gate.OPEN  # only approving needs it


def test_people_are_compared_by_subject_not_by_key() -> None:
    a, b = person_actor("subject-a"), person_actor("subject-b")
    assert person_of(a) == "subject-a"
    assert same_person(a, person_actor("subject-a"))
    assert not same_person(a, b)
    assert distinct_people(a, b)
    assert not distinct_people(a, a)
    machine = "machine:VTL/0123456789abcdef"
    assert person_of(machine) is None
    assert person_of("person:") is None
    assert not same_person(machine, machine)  # a machine is nobody
    assert not distinct_people(a, machine)  # nor the second of two people
