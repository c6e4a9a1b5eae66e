"""Where enrolment finds the phone numbers registered to a citizen.

``PhoneDirectory`` is the seam: today the citizen registry's phone field answers
(``RegistryPhones``); the telecom registry (subscriptions under the same ID number) will
implement the same protocol. Reading a number is an audited read of personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext

ENROLMENT = AccessContext("auth:enrolment", "system", "enrolment: send a one-time code")


class PhoneDirectory(Protocol):
    def numbers_for(self, session: Session, citizen_subject_id: str, now: datetime) -> list[str]:
        """E.164 numbers registered to the citizen."""
        ...


class RegistryPhones:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def numbers_for(self, session: Session, citizen_subject_id: str, now: datetime) -> list[str]:
        rec = self._registry.open_subject(session, citizen_subject_id, ("phone",), ENROLMENT, now)
        return [rec.phone] if rec is not None and rec.phone else []
