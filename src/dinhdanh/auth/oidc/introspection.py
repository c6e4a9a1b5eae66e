"""Token introspection: RFC 7662.

The caller authenticates as a client and learns about its own tokens only; any other token,
expired, revoked or unknown, is ``{"active": false}`` (section 2.2), whatever the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.models import Grant, RefreshToken
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.provider import Provider
from dinhdanh.auth.opaque import as_utc

INACTIVE: dict[str, Any] = {"active": False}


def introspect(
    provider: Provider, session: Session, client: ClientInfo, token: str, now: datetime
) -> dict[str, Any]:
    if not provider.clients.enabled(session, client.client_id):
        return INACTIVE  # disabled since this process cached it
    refresh = session.get(RefreshToken, opaque.digest(token))
    if refresh is not None:
        grant = session.get(Grant, refresh.family_id)
        if (
            refresh.client_id != client.client_id
            or refresh.used_at is not None
            or refresh.revoked_at is not None
            or as_utc(refresh.expires_at) <= now
            or grant is None
            or grant.revoked_at is not None
        ):
            return INACTIVE
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": refresh.client_id,
            "scope": refresh.scope,
            "exp": int(as_utc(refresh.expires_at).timestamp()),
            "iat": int(as_utc(refresh.created_at).timestamp()),
            "iss": provider.issuer,
        }
    try:
        claims = provider.verify_access_token(session, token, now)
    except OAuthError:
        return INACTIVE
    if claims.get("client_id") != client.client_id:
        return INACTIVE
    keep = (
        "scope",
        "client_id",
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "jti",
        "acr",
        "auth_time",
        "cnf",
    )
    token_type = "DPoP" if "cnf" in claims else "Bearer"  # RFC 9449 section 6.2
    return {"active": True, "token_type": token_type} | {k: claims[k] for k in keep if k in claims}
