"""Challenges carried between the two requests of a ceremony.

``Challenges`` (table ``auth_challenges``) keeps a value the server must read back: the new
TOTP secret of a pending setup. ``SignedChallenges`` keeps nothing until a challenge is used:
WebAuthn registration and login (at the end of this module).

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

import base64
import binascii
import hashlib
import hmac
import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.models import Challenge, UsedChallenge
from dinhdanh.auth.opaque import as_utc
from dinhdanh.crypto import CryptoError, KeyRing, open_sealed, seal
from dinhdanh.crypto.derive import challenge_key
from dinhdanh.store.once import DatabaseOnce, Once


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


_NONCE = 16
_HANDLE = _NONCE + 8  # the nonce, then the expiry in Unix seconds (big-endian)


class SignedChallenges:
    """WebAuthn challenges that nobody stores until they are used.

    The handle is 16 random bytes and the expiry; the challenge is HMAC-SHA-256 over purpose,
    account and handle under a key derived from the key ring. Handing out options writes
    nothing, so unauthenticated requests for login options cost no row. Only the server can
    tell which challenge goes with a handle, so a client cannot make up a handle (a later
    expiry, say) for an answer signed over another challenge. Single use: a successful
    ceremony records the handle (``use``: INSERT ... ON CONFLICT DO NOTHING, or with Redis
    ``SET NX`` expiring with the handle, ``store.once``) until it expires; a second use, even
    at the same instant and on another node, finds it there.
    """

    def __init__(
        self, ring: KeyRing, random: opaque.RandomBytes = os.urandom, once: Once | None = None
    ) -> None:
        self._key = challenge_key(ring)
        self._random = random
        self._once = once or DatabaseOnce()  # Redis when the nodes share one (store.once)

    def _mac(self, raw: bytes, purpose: str, account_id: str | None) -> bytes:
        message = "\x00".join((purpose, account_id or "")).encode() + b"\x00" + raw
        return hmac.digest(self._key, message, hashlib.sha256)

    def issue(
        self, purpose: str, account_id: str | None, ttl: timedelta, now: datetime
    ) -> tuple[str, bytes]:
        """A handle for the browser, and the challenge to put in the options."""
        raw = self._random(_NONCE) + int((now + ttl).timestamp()).to_bytes(8, "big")
        handle = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
        return handle, self._mac(raw, purpose, account_id)

    @staticmethod
    def _raw(handle: str, now: datetime) -> bytes | None:
        """The handle's bytes if it is canonical and not expired."""
        try:
            raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4))
        except (binascii.Error, ValueError):
            return None
        canonical = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
        if len(raw) != _HANDLE or canonical != handle:
            return None  # one handle, one spelling: a used one can't come back in disguise
        return raw if int.from_bytes(raw[_NONCE:], "big") > now.timestamp() else None

    def challenge(
        self, handle: str, purpose: str, account_id: str | None, now: datetime
    ) -> bytes | None:
        """The challenge the handle was issued with; None if malformed or expired."""
        raw = self._raw(handle, now)
        return None if raw is None else self._mac(raw, purpose, account_id)

    def use(self, session: Session, handle: str, now: datetime) -> bool:
        """Record the handle as used; False if it was used before (or is not valid)."""
        raw = self._raw(handle, now)
        if raw is None:
            return False
        expires = datetime.fromtimestamp(int.from_bytes(raw[_NONCE:], "big"), UTC)
        row = {"id": hashlib.sha256(raw).hexdigest(), "expires_at": expires}
        return self._once.first(session, UsedChallenge, row, now)
