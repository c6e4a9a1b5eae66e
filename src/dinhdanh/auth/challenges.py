"""Challenges kept between the two requests of a ceremony: TOTP setup, WebAuthn registration
and login (``auth_challenges``).

- The browser holds a 256-bit handle; the row's id is its SHA-256, like every other secret a
  browser holds, so a copy of the database names no live ceremony.
- The value (a new TOTP secret, a WebAuthn challenge) is sealed with the key ring, bound to
  its row: the seal context names the purpose, the row id and the account, so a ciphertext
  copied to another row, purpose or account does not open. WebAuthn challenges are not
  secret once sent, but sealing every value keeps the table free of plaintext.
- Single use: ``take`` deletes the row it opens. ``peek`` opens without deleting (a TOTP setup
  survives a mistyped code until it expires).
- Expired rows are purged whenever a new challenge is issued, so the table holds live
  ceremonies only.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.models import Challenge
from dinhdanh.auth.opaque import as_utc
from dinhdanh.crypto import CryptoError, KeyRing, open_sealed, seal


def _context(row_id: str, purpose: str, account_id: str | None) -> bytes:
    return "\x00".join(("auth.challenge", purpose, row_id, account_id or "")).encode()


class Challenges:
    def __init__(self, ring: KeyRing, random: opaque.RandomBytes = os.urandom) -> None:
        self._ring = ring
        self._random = random

    def issue(
        self,
        session: Session,
        purpose: str,
        value: bytes,
        account_id: str | None,
        ttl: timedelta,
        now: datetime,
    ) -> str:
        """Store ``value`` sealed for ``ttl``; the handle to give the browser."""
        self.purge(session, now)
        handle = opaque.new_token(self._random)
        row_id = opaque.digest(handle).hex()
        session.add(
            Challenge(
                id=row_id,
                purpose=purpose,
                challenge=seal(self._ring, value, _context(row_id, purpose, account_id)),
                account_id=account_id,
                expires_at=now + ttl,
            )
        )
        session.flush()
        return handle

    def _open(
        self,
        session: Session,
        handle: str,
        purpose: str,
        account_id: str | None,
        now: datetime,
    ) -> tuple[Challenge, bytes] | None:
        # Locked until the commit: of two requests taking one challenge at once, one gets it.
        row_id = opaque.digest(handle).hex()
        row = (
            session.get(Challenge, row_id, with_for_update=True, populate_existing=True)
            if handle
            else None
        )
        if row is None or row.purpose != purpose or row.account_id != account_id:
            return None  # someone else's challenge is left alone
        if as_utc(row.expires_at) <= now:
            session.delete(row)
            return None
        try:
            value = open_sealed(self._ring, row.challenge, _context(row.id, purpose, account_id))
        except CryptoError:
            session.delete(row)  # moved or tampered with: it can never open
            return None
        return row, value

    def peek(
        self,
        session: Session,
        handle: str,
        purpose: str,
        account_id: str | None,
        now: datetime,
    ) -> bytes | None:
        """The live challenge's value, kept for another look; None if unknown or expired."""
        opened = self._open(session, handle, purpose, account_id, now)
        return None if opened is None else opened[1]

    def take(
        self,
        session: Session,
        handle: str,
        purpose: str,
        account_id: str | None,
        now: datetime,
    ) -> bytes | None:
        """The live challenge's value, and the challenge deleted (single use)."""
        opened = self._open(session, handle, purpose, account_id, now)
        if opened is None:
            return None
        session.delete(opened[0])
        session.flush()
        return opened[1]

    def discard_pending(self, session: Session, purpose: str, account_id: str) -> None:
        """Delete the account's earlier challenges of ``purpose`` (one pending at a time)."""
        session.execute(
            delete(Challenge).where(
                Challenge.purpose == purpose, Challenge.account_id == account_id
            )
        )

    def purge(self, session: Session, now: datetime) -> int:
        """Delete every expired challenge; the number deleted."""
        result = session.execute(delete(Challenge).where(Challenge.expires_at <= now))
        return int(result.rowcount)  # type: ignore[attr-defined]
