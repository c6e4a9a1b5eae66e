"""Where enrolment finds the phone numbers registered to a citizen: the telecom registry.

Issue 3, item 1: the one-time code goes "to a phone number that the telecom registry lists for
that same ID number". ``TelecomPhones`` starts from ``Telecom.numbers_of`` (active
subscriptions under the ID number's blind index, at every carrier) and keeps only the numbers
it is safe to send a code to. A number is dropped when:

- the subscription's stated name or birth date differs from the registry's (the blind
  indexes differ), or its ID number disagrees with the stated birth date: a SIM registered
  with someone else's ID number is exactly what a junk SIM is, and its holder must not
  receive that person's code;
- the citizen disowned it on "my numbers" (a declaration by this citizen);
- it has a lock case that is open (flagged, notified, locked) at that carrier, or that ended
  in revocation after the subscription was activated (reconciliation found it junk).

Every eligible number gets the same code (``auth.enrolment``). Reading the numbers is an
audited read of personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.telecom import models as tm
from dinhdanh.telecom.service import Telecom
from dinhdanh.telecom.timeline import State

ENROLMENT = AccessContext("auth:enrolment", "system", "enrolment: send a one-time code")
MAX_NUMBERS = 5  # a citizen may hold more; the code goes to the first five (oldest first)


class PhoneDirectory(Protocol):
    def numbers_for(
        self, session: Session, id_bidx: bytes, citizen_subject_id: str, now: datetime
    ) -> list[str]:
        """E.164 numbers the code may be sent to (empty: none)."""
        ...


class TelecomPhones:
    def __init__(self, registry: Registry, telecom: Telecom, audit: AuditLog) -> None:
        self._registry = registry
        self._telecom = telecom
        self._audit = audit

    def numbers_for(
        self, session: Session, id_bidx: bytes, citizen_subject_id: str, now: datetime
    ) -> list[str]:
        citizen = self._registry.subject_by_index(session, id_bidx)
        if citizen is None or citizen.subject_id != citizen_subject_id:
            return []
        listed = self._telecom.numbers_of(session, id_bidx, citizen.subject_id)
        if not listed:
            return []
        pairs = [(n.carrier, n.msisdn) for n in listed]
        subs = {
            (s.carrier, s.msisdn): s
            for s in session.scalars(
                select(tm.Subscription).where(
                    tuple_(tm.Subscription.carrier, tm.Subscription.msisdn).in_(pairs)
                )
            )
        }
        # Declarations of this citizen about these very subscriptions (not a past owner's).
        disowned = {n.msisdn for n in listed if n.declaration == "disowned"}
        # A number listed active at two carriers is only reviewed, never locked (hardening
        # finding 3); until that is sorted out, nobody's code goes to it.
        shared = set(
            session.scalars(
                select(tm.Subscription.msisdn)
                .where(
                    tm.Subscription.msisdn.in_([n for _, n in pairs]),
                    tm.Subscription.status == "active",
                )
                .group_by(tm.Subscription.msisdn)
                .having(func.count() > 1)
            )
        )
        cases = session.execute(
            select(
                tm.LockCase.carrier, tm.LockCase.msisdn, tm.LockCase.state, tm.LockCase.state_since
            ).where(
                tuple_(tm.LockCase.carrier, tm.LockCase.msisdn).in_(pairs),
                tm.LockCase.state != State.RESOLVED.value,
            )
        ).all()
        numbers: list[str] = []
        for pair in pairs:
            sub = subs.get(pair)
            if sub is None or pair[1] in disowned | shared or pair[1] in numbers:
                continue
            if (
                sub.name_bidx != citizen.name_bidx
                or sub.dob_bidx != citizen.dob_bidx
                or not sub.id_dob_consistent
            ):
                continue
            if any(_blocks(case, sub.activation_at) for case in cases if case[:2] == pair):
                continue
            numbers.append(pair[1])
        numbers = numbers[:MAX_NUMBERS]
        fields = ("msisdn",) if numbers else ()
        self._audit.append(
            session, [ENROLMENT.event("phone_numbers", citizen.subject_id, fields)], now
        )
        return numbers


def _blocks(case: tuple[str, str, str, datetime], activation_at: datetime) -> bool:
    """An open case blocks; a revoked one only if it ended after this activation (a number
    revoked from an earlier owner and reissued later is a new subscription)."""
    state, since = case[2], case[3]
    if state != State.REVOKED.value:
        return True
    return since.replace(tzinfo=None) >= activation_at.replace(tzinfo=None)
