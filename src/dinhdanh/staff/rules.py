"""Pure decisions about staff: who may open a console page now, and who is the same person.

No I/O: the web layer hands in what the session row says and which roles are granted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dinhdanh.staff.roles import StaffRole

# RFC 8176 values of a second factor a staff session must carry: a TOTP code or a passkey.
# A recovery code gets a citizen back into their account; it does not open staff pages.
STAFF_SECOND_FACTOR_AMR = frozenset({"otp", "hwk"})
PERSON_PREFIX = "person:"


@dataclass(frozen=True, slots=True)
class StaffPolicy:
    idle: timedelta  # DINHDANH_STAFF_IDLE_MINUTES: no request for this long, log in again
    fresh: timedelta  # DINHDANH_STAFF_FRESH_SECONDS: approving needs an authentication this recent


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the login session row says (``auth.sessions.SessionView``)."""

    amr: tuple[str, ...]
    acr: int
    mfa_pending: bool
    auth_time: datetime
    last_seen_at: datetime  # before this request


class Gate(StrEnum):
    OPEN = "open"
    LOG_IN = "log_in"  # no session, idle too long, or still waiting for the second step
    FORBIDDEN = "forbidden"  # no active grant of a role the page needs
    SET_UP_FACTOR = "set_up_factor"  # the account has no TOTP or passkey yet
    SECOND_FACTOR = "second_factor"  # logged in without it (or below level 1): log in with it
    REAUTHENTICATE = "reauthenticate"  # approving, and the authentication is too old


def console_gate(
    facts: SessionFacts | None,
    granted: Iterable[StaffRole],
    needs: Collection[StaffRole],
    *,
    has_second_factor: bool,
    approving: bool,
    now: datetime,
    policy: StaffPolicy,
) -> Gate:
    """May this session open a staff page that needs one of ``needs``?"""
    if facts is None or facts.mfa_pending or now - facts.last_seen_at > policy.idle:
        return Gate.LOG_IN
    if not set(granted) & set(needs):
        return Gate.FORBIDDEN
    if not has_second_factor:
        return Gate.SET_UP_FACTOR
    if STAFF_SECOND_FACTOR_AMR.isdisjoint(facts.amr) or facts.acr < 1:
        return Gate.SECOND_FACTOR
    if approving and now - facts.auth_time > policy.fresh:
        return Gate.REAUTHENTICATE
    return Gate.OPEN


def person_actor(subject_id: str) -> str:
    """The audit actor of a staff member: their citizen subject id, whatever token they used."""
    return PERSON_PREFIX + subject_id


def person_of(actor: str) -> str | None:
    """The citizen subject behind an audit actor, or None for a machine or a system actor."""
    if actor.startswith(PERSON_PREFIX) and len(actor) > len(PERSON_PREFIX):
        return actor[len(PERSON_PREFIX) :]
    return None


def same_person(a: str, b: str) -> bool:
    """Do two actors denote one person? Two tokens, two sessions or two grants of one citizen
    are one person; a machine is never a person, so two-person rules need ``distinct_people``."""
    pa, pb = person_of(a), person_of(b)
    return pa is not None and pa == pb


def distinct_people(a: str, b: str) -> bool:
    """Are these two actors two different people (what a two-person rule asks)?"""
    pa, pb = person_of(a), person_of(b)
    return pa is not None and pb is not None and pa != pb
