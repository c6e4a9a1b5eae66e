"""Who an ID token we issued was about: its pairwise ``sub`` back to a citizen subject.

A pairwise subject cannot be inverted (it is an HMAC), and no table maps one to a citizen:
such a table would be the cross-sector join key pairwise subjects exist to prevent. The
authorization code the token came from names the account, so the candidates are the
accounts whose code for this client carried the token's nonce; the one whose pairwise
subject in the client's sector equals ``sub`` is the holder. Only services call this.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.models import Account, AuthorizationCode
from dinhdanh.auth.oidc.provider import Provider


def holder_of(
    session: Session, provider: Provider, client: ClientInfo, sub: str, nonce: str
) -> str | None:
    """The citizen subject id behind ``sub`` at ``client``, or None."""
    stmt = (
        select(Account.subject_id)
        .join(AuthorizationCode, AuthorizationCode.account_id == Account.id)
        .where(
            AuthorizationCode.client_id == client.client_id,
            AuthorizationCode.nonce == nonce,
            AuthorizationCode.used_at.is_not(None),
        )
        .distinct()
    )
    for subject_id in session.scalars(stmt):
        if provider.subject(client, subject_id) == sub:
            return subject_id
    return None
