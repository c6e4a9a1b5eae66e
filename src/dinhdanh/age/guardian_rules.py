"""Guardian links and guardian approval: pure decisions, the date passed in. No I/O.

A link holds from ``valid_from`` to ``valid_to`` (both days included), until an officer ends
it (``ended_on``: the first day it no longer holds), and never on or after the child's 18th
birthday (``identity.age``: 29 February counts as 1 March in common years). A child has at
most ``MAX_GUARDIANS`` active guardians; a guardian is an adult on the day the link starts
to count.

Approval of a child's platform account (docs/architecture.md has the diagram)::

    pending --approve--> approved --revoke--> revoked --approve--> approved
    pending --refuse--> refused --approve--> approved
    approved --link_ended--> pending
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dinhdanh.identity.age import birthday, is_over
from dinhdanh.identity.idnumber import IdNumberError, parse
from dinhdanh.identity.rules import parse_date
from dinhdanh.store.feeds import Reason

ADULT = 18
MAX_GUARDIANS = 2
RELATIONS = ("mother", "father", "guardian")


def link_ends(child_birth: date, valid_to: date | None, ended_on: date | None) -> date:
    """The first day the link no longer holds."""
    end = birthday(child_birth, ADULT)
    if valid_to is not None:
        end = min(end, date.fromordinal(valid_to.toordinal() + 1))
    if ended_on is not None:
        end = min(end, ended_on)
    return end


def is_active(
    child_birth: date,
    valid_from: date,
    valid_to: date | None,
    ended_on: date | None,
    on: date,
) -> bool:
    """Whether a link holds on ``on``."""
    return valid_from <= on < link_ends(child_birth, valid_to, ended_on)


def link_problems(
    child_birth: date, guardian_birth: date, other_active: int, on: date
) -> list[Reason]:
    """Why a link starting to count on ``on`` may not be added (empty: it may).
    ``other_active``: the child's other links active on ``on``."""
    reasons = []
    if is_over(child_birth, ADULT, on):
        reasons.append(Reason("child_is_adult", "the child is 18 or over"))
    if not is_over(guardian_birth, ADULT, on):
        reasons.append(Reason("guardian_not_adult", "a guardian must be 18 or over"))
    if other_active >= MAX_GUARDIANS:
        reasons.append(
            Reason("too_many_guardians", f"a child has at most {MAX_GUARDIANS} guardians")
        )
    return reasons


def needs_guardian(birth: date, child_age: int, on: date) -> bool:
    """Whether someone is a child whose accounts a guardian registers and approves."""
    return not is_over(birth, child_age, on)


def age_band(birth: date, on: date) -> str:
    """What "My family" shows of a child's age: a band, never the birth date."""
    for years, band in ((16, "16-17"), (13, "13-15")):
        if is_over(birth, years, on):
            return band
    return "under-13"


# -- the guardian feed ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkRecord:
    child_id_number: str
    guardian_id_number: str
    relation: str
    valid_from: date
    valid_to: date | None


def check_link_row(
    row: Mapping[str, str | None],
    today: date,  # noqa: ARG001 - the feed signature; the rules that need a day need the registry
) -> LinkRecord | list[Reason]:
    """Validate one row of ``dinhdanh import guardians`` (what needs no database)."""
    reasons: list[Reason] = []
    ids: dict[str, str] = {}
    for field in ("child_id_number", "guardian_id_number"):
        try:
            ids[field] = parse(row.get(field) or "").value
        except IdNumberError as exc:
            reasons.append(Reason(exc.code, f"{field}: {exc}"))
    if len(ids) == 2 and ids["child_id_number"] == ids["guardian_id_number"]:
        reasons.append(Reason("guardian_is_self", "a citizen cannot be their own guardian"))
    relation = (row.get("relation") or "").strip().lower()
    if relation not in RELATIONS:
        reasons.append(
            Reason("invalid_relation", f"relation must be one of {', '.join(RELATIONS)}")
        )
    start = parse_date(row.get("valid_from"), "valid_from")
    end = parse_date(row.get("valid_to"), "valid_to")
    if start is None:
        reasons.append(Reason("invalid_date", "valid_from is missing"))
    for value in (start, end):
        if isinstance(value, Reason):
            reasons.append(value)
    if isinstance(start, date) and isinstance(end, date) and end < start:
        reasons.append(Reason("invalid_period", f"valid_to {end} is before valid_from {start}"))
    if reasons or not isinstance(start, date) or isinstance(end, Reason):
        return reasons
    return LinkRecord(ids["child_id_number"], ids["guardian_id_number"], relation, start, end)


# -- approval of a child's platform account ---------------------------------------------------


class Approval(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"


class Decision(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"
    REVOKE = "revoke"
    LINK_ENDED = "link_ended"


_TRANSITIONS: dict[tuple[Approval, Decision], Approval] = {
    (Approval.PENDING, Decision.APPROVE): Approval.APPROVED,
    (Approval.PENDING, Decision.REFUSE): Approval.REFUSED,
    (Approval.REFUSED, Decision.APPROVE): Approval.APPROVED,
    (Approval.REVOKED, Decision.APPROVE): Approval.APPROVED,
    (Approval.APPROVED, Decision.REVOKE): Approval.REVOKED,
    (Approval.APPROVED, Decision.LINK_ENDED): Approval.PENDING,
}


def next_approval(state: Approval, decision: Decision) -> Approval | None:
    """The state after ``decision``; None when the state does not accept it."""
    return _TRANSITIONS.get((state, decision))


def guardian_approved(state: str | None) -> bool | None:
    """What a platform sees: None for an account that needs no guardian, else approved or not."""
    return None if state is None else state == Approval.APPROVED
