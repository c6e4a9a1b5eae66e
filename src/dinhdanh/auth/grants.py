"""Ending grants: what one user granted one client in one authorization, and the family of
refresh tokens issued under it (``oidc_grants``, ``oidc_refresh_tokens``).

A revoked grant ends every token issued under it: its refresh tokens are revoked here, and
its access tokens name it (``gid``), so introspection and userinfo refuse them
(``Provider.verify_access_token``). Grants end on a replayed code or refresh token, on
revocation (RFC 7009), when a consent is withdrawn, and when the browser session that
authorized them ends (logout, a revoked session, "log out everywhere").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dinhdanh.auth.models import Grant, RefreshToken


def revoke_grants(session: Session, now: datetime, *where: Any) -> None:
    """Revoke every grant matching ``where`` and every refresh token of their families."""
    families = select(Grant.id).where(*where).scalar_subquery()
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id.in_(families), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(update(Grant).where(Grant.revoked_at.is_(None), *where).values(revoked_at=now))


def revoke_grant(session: Session, grant_id: str, now: datetime) -> None:
    revoke_grants(session, now, Grant.id == grant_id)


def revoke_session_grants(
    session: Session, session_ids: list[str], account_id: str, now: datetime
) -> None:
    """End the grants authorized from these browser sessions of the account."""
    if session_ids:
        revoke_grants(
            session, now, Grant.session_id.in_(session_ids), Grant.account_id == account_id
        )


def revoke_account_grants(session: Session, account_id: str, now: datetime) -> None:
    """End every grant of the account ("log out everywhere")."""
    revoke_grants(session, now, Grant.account_id == account_id)
