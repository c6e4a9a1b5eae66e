"""Token revocation: RFC 7009.

The client authenticates; ``token_type_hint`` is only a hint (section 2.1). Revoking a
refresh token revokes its grant, hence every token issued under it (section 2.1: "SHOULD
also invalidate all access tokens based on the same authorization grant"). A JWT access
token is listed by ``jti`` until it expires. Unknown tokens, or another client's, answer 200
too (section 2.2): the answer tells nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.grants import revoke_grant
from dinhdanh.auth.models import RefreshToken, RevokedAccessToken
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.provider import Provider


def revoke(
    provider: Provider, session: Session, client: ClientInfo, token: str, now: datetime
) -> None:
    refresh = session.get(RefreshToken, opaque.digest(token))
    if refresh is not None:
        if refresh.client_id == client.client_id:
            revoke_grant(session, refresh.family_id, now)
        return
    try:
        claims = provider.verify_access_token(session, token, now)
    except OAuthError:
        return
    if claims.get("client_id") != client.client_id:
        return
    jti = str(claims["jti"])
    if session.get(RevokedAccessToken, jti) is None:
        session.add(
            RevokedAccessToken(jti=jti, expires_at=datetime.fromtimestamp(claims["exp"], UTC))
        )
    gid = claims.get("gid")
    if isinstance(gid, str):
        revoke_grant(session, gid, now)
    session.flush()
