"""Server-side browser sessions (OWASP Session Management Cheat Sheet).

The browser holds a 256-bit random token in a ``__Host-`` cookie (Secure, HttpOnly,
SameSite=Lax, Path=/); the database holds its SHA-256. A session ends at its absolute
timeout, after ``idle`` without a request, on logout, or on "log out everywhere". A new
session is created at every login (no fixation); ``mfa_pending`` sessions only reach the
second-factor page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.models import LoginSession
from dinhdanh.auth.opaque import as_utc

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

    def _row(self, session: Session, token: str | None, now: datetime) -> LoginSession | None:
        if not token:
            return None
        row = session.scalars(
            select(LoginSession).where(LoginSession.token_sha256 == opaque.digest(token))
        ).first()
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
            return None
        if now - as_utc(row.last_seen_at) > self.idle:
            return None
        if now - as_utc(row.last_seen_at) > _TOUCH_EVERY:
            row.last_seen_at = now
        return row

    def resolve(self, session: Session, token: str | None, now: datetime) -> SessionView | None:
        row = self._row(session, token, now)
        if row is None:
            return None
        return SessionView(
            row.id,
            row.account_id,
            row.mfa_pending,
            tuple(row.amr.split()),
            row.acr,
            as_utc(row.auth_time),
            as_utc(row.created_at),
        )

    def complete_mfa(self, session: Session, token: str, factor: str, now: datetime) -> str | None:
        """Second factor passed: replace the partial session with a full one (new token)."""
        row = self._row(session, token, now)
        if row is None or not row.mfa_pending:
            return None
        row.revoked_at = now
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

    def revoke(self, session: Session, session_id: str, account_id: str, now: datetime) -> None:
        session.execute(
            update(LoginSession)
            .where(
                LoginSession.id == session_id,
                LoginSession.account_id == account_id,
                LoginSession.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )

    def revoke_all(self, session: Session, account_id: str, now: datetime) -> int:
        result = session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
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
