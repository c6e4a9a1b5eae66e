"""Sending one-time codes by SMS: the ``SmsGateway`` interface and the ``outbox`` gateway.

The outbox gateway, like Django's console mail backend, only stores messages: sealed in the
database (recipient and text are personal data), listed on ``/dev/outbox`` when
``DINHDANH_ENV=dev``. A carrier gateway implements the same protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.auth.models import SmsMessage
from dinhdanh.crypto import KeyRing, open_sealed, seal

_CONTEXT = b"auth.sms_outbox"


def mask_phone(e164: str) -> str:
    """+84912345678 -> +84 ••• ••• 678: enough to recognize one's own number."""
    return f"{e164[:3]} ••• ••• {e164[-3:]}"


class SmsGateway(Protocol):
    def send(self, session: Session, to: str, text: str, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    to: str
    text: str
    at: datetime


class OutboxGateway:
    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def send(self, session: Session, to: str, text: str, now: datetime) -> None:
        sealed = seal(self._ring, json.dumps([to, text]).encode(), _CONTEXT)
        session.add(SmsMessage(to_masked=mask_phone(to), sealed=sealed, created_at=now))
        session.flush()

    def messages(self, session: Session, limit: int = 50) -> list[OutboxMessage]:
        rows = session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit))
        out = []
        for row in rows:
            to, text = json.loads(open_sealed(self._ring, row.sealed, _CONTEXT))
            out.append(OutboxMessage(row.id, to, text, row.created_at))
        return out
