"""Server-side browser sessions (OWASP Session Management Cheat Sheet).

The browser holds a 256-bit random token in a ``__Host-`` cookie (Secure, HttpOnly,
SameSite=Lax, Path=/); the database holds its SHA-256. A session ends at its absolute
timeout, after ``idle`` without a request, on logout, or on "log out everywhere". A new
session is created at every login (no fixation); ``mfa_pending`` sessions only reach the
second-factor page. Ending a session on purpose (logout, revocation) also revokes the OIDC
grants it authorized, and with them the platforms' refresh and access tokens
(``auth.grants``); "log out everywhere" revokes every grant of the account. A session that
merely times out leaves its grants alone (a platform may refresh while the user is away).

``DeviceCookies``: OWASP's device cookies ("Slow Down Online Guessing Attacks with Device
Cookies"). After a full login the browser gets a long-lived ``__Host-dd_device`` cookie naming
the account and a random nonce, sealed (AES-256-GCM, ``crypto.seal``) so that it can be neither
forged nor moved to another account. Throttling (``auth.login``) then tells a trusted device (a
valid cookie for the account being tried) from every other client: the per-account lockout
applies only to the others, and a trusted device is throttled by its own nonce.
"""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dinhdanh.auth import grants, opaque
from dinhdanh.auth.models import LoginSession
from dinhdanh.auth.opaque import as_utc
from dinhdanh.crypto import CryptoError, KeyRing, open_sealed, seal

# Touch last_seen_at at most this often: one write per minute per session, not per request.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str
    account_id: str
    mfa_pending: bool
    amr: tuple[str, ...]
    acr: int
    auth_time: datetime
    created_at: datetime
    last_seen_at: datetime | None = None  # the last request before this one (staff idle rule)


class Sessions:
    def __init__(
        self, idle: timedelta, absolute: timedelta, random: opaque.RandomBytes = os.urandom
    ) -> None:
        self.idle = idle
        self.absolute = absolute
        self._random = random

    def create(
        self,
        session: Session,
        *,
        account_id: str,
        amr: tuple[str, ...],
        acr: int,
        mfa_pending: bool,
        ip: str,
        user_agent: str,
        now: datetime,
    ) -> str:
        token = opaque.new_token(self._random)
        session.add(
            LoginSession(
                id=opaque.new_id(self._random),
                token_sha256=opaque.digest(token),
                account_id=account_id,
                mfa_pending=mfa_pending,
                amr=" ".join(amr),
                acr=acr,
                auth_time=now,
                created_at=now,
                last_seen_at=now,
                expires_at=now + self.absolute,
                user_agent=user_agent[:300],
                ip=ip[:64],
                revoked_at=None,
            )
        )
        session.flush()
        return token

    def _live(self, session: Session, token: str | None, now: datetime) -> LoginSession | None:
        if not token:
            return None
        row = session.scalars(
            select(LoginSession).where(LoginSession.token_sha256 == opaque.digest(token))
        ).first()
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
            return None
        if now - as_utc(row.last_seen_at) > self.idle:
            return None
        return row

    @staticmethod
    def _touch(row: LoginSession, now: datetime) -> None:
        if now - as_utc(row.last_seen_at) > _TOUCH_EVERY:
            row.last_seen_at = now

    def _row(self, session: Session, token: str | None, now: datetime) -> LoginSession | None:
        row = self._live(session, token, now)
        if row is not None:
            self._touch(row, now)
        return row

    def resolve(self, session: Session, token: str | None, now: datetime) -> SessionView | None:
        row = self._live(session, token, now)
        if row is None:
            return None
        seen = as_utc(row.last_seen_at)
        self._touch(row, now)
        return SessionView(
            row.id,
            row.account_id,
            row.mfa_pending,
            tuple(row.amr.split()),
            row.acr,
            as_utc(row.auth_time),
            as_utc(row.created_at),
            seen,
        )

    def complete_mfa(self, session: Session, token: str, factor: str, now: datetime) -> str | None:
        """Second factor passed: replace the partial session with a full one (new token)."""
        row = self._row(session, token, now)
        if row is None or not row.mfa_pending:
            return None
        # Ended only if still live: a pending session completes once, even when two second
        # factors arrive for it at the same instant.
        ended = session.execute(
            update(LoginSession)
            .where(LoginSession.id == row.id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if int(ended.rowcount) != 1:  # type: ignore[attr-defined]
            return None
        return self.create(
            session,
            account_id=row.account_id,
            amr=(*row.amr.split(), factor, "mfa"),
            acr=row.acr,
            mfa_pending=False,
            ip=row.ip,
            user_agent=row.user_agent,
            now=now,
        )

    def step_up(self, session: Session, token: str, factor: str, now: datetime) -> bool:
        """The current second factor was proven again: the session's ``auth_time`` moves to
        ``now`` and ``amr`` gains the factor (``auth.stepup`` reads both)."""
        row = self._row(session, token, now)
        if row is None or row.mfa_pending:
            return False
        row.amr = " ".join(dict.fromkeys((*row.amr.split(), factor, "mfa")))
        row.auth_time = now
        return True

    def revoke(self, session: Session, session_id: str, account_id: str, now: datetime) -> None:
        """End one session (logout, or revoked on /account) and the grants it authorized."""
        session.execute(
            update(LoginSession)
            .where(
                LoginSession.id == session_id,
                LoginSession.account_id == account_id,
                LoginSession.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        grants.revoke_session_grants(session, [session_id], account_id, now)

    def revoke_all(self, session: Session, account_id: str, now: datetime) -> int:
        """Log out everywhere: every session of the account, and every grant of it."""
        result = session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        grants.revoke_account_grants(session, account_id, now)
        return int(result.rowcount)  # type: ignore[attr-defined]

    def active(self, session: Session, account_id: str, now: datetime) -> list[LoginSession]:
        rows = session.scalars(
            select(LoginSession)
            .where(LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))
            .order_by(LoginSession.created_at.desc())
        )
        return [
            r
            for r in rows
            if as_utc(r.expires_at) > now and now - as_utc(r.last_seen_at) <= self.idle
        ]


# -- device cookies ----------------------------------------------------------------------

_DEVICE_CONTEXT = b"auth.device_cookie"
_DEVICE_ENTRIES = 5  # accounts remembered per browser (a family computer), newest first
_DEVICE_MAX_LEN = 1500  # longer cookie values are not parsed at all


@dataclass(frozen=True, slots=True)
class Device:
    """A valid device cookie entry: the browser logged in to ``account_id`` before."""

    account_id: str
    nonce: str  # hex; the throttle key is ``device:NONCE``
    issued_at: datetime

    @property
    def key(self) -> str:
        return f"device:{self.nonce}"


class DeviceCookies:
    """Issue and check sealed device cookies; stateless (nothing is stored per device)."""

    def __init__(
        self, ring: KeyRing, lifetime: timedelta, random: opaque.RandomBytes = os.urandom
    ) -> None:
        self._ring = ring
        self.lifetime = lifetime
        self._random = random

    def _entry(self, part: str, now: datetime) -> Device | None:
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
            plain = open_sealed(self._ring, raw, _DEVICE_CONTEXT)
        except (ValueError, CryptoError):
            return None
        if len(plain) <= 24:
            return None
        (issued,) = struct.unpack(">q", plain[16:24])
        at = datetime.fromtimestamp(issued, tz=UTC)
        if at > now + timedelta(minutes=5) or now - at > self.lifetime:
            return None
        return Device(plain[24:].decode(), plain[:16].hex(), at)

    def _parts(self, cookie: str | None) -> list[str]:
        if not cookie or len(cookie) > _DEVICE_MAX_LEN:
            return []
        return cookie.split(".")[:_DEVICE_ENTRIES]

    def find(self, cookie: str | None, account_id: str, now: datetime) -> Device | None:
        """The cookie's valid entry for ``account_id``, if any (else: an untrusted client)."""
        for part in self._parts(cookie):
            entry = self._entry(part, now)
            if entry is not None and entry.account_id == account_id:
                return entry
        return None

    def issue(self, cookie: str | None, account_id: str, now: datetime) -> str:
        """A new cookie value: a fresh entry for ``account_id`` first, then the other
        accounts' still valid entries. The account's old entry (and its nonce) is dropped."""
        plain = self._random(16) + struct.pack(">q", int(now.timestamp())) + account_id.encode()
        fresh = base64.urlsafe_b64encode(seal(self._ring, plain, _DEVICE_CONTEXT))
        keep = [fresh.rstrip(b"=").decode("ascii")]
        for part in self._parts(cookie):
            entry = self._entry(part, now)
            if entry is not None and entry.account_id != account_id:
                keep.append(part)
        return ".".join(keep[:_DEVICE_ENTRIES])
