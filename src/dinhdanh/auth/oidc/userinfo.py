"""The UserInfo endpoint: OIDC Core 1.0 section 5.3.

Bearer access token (RFC 6750 2.1); the claims are those the grant's scopes release,
computed now (age flags on today's date); personal values are opened from the registry and
audited. Errors are RFC 6750 3.1 (``invalid_token``, 401, with ``WWW-Authenticate``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.auth.models import Grant
from dinhdanh.auth.oidc.claims import acr_level
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.provider import Provider, invalid_token


def userinfo(provider: Provider, session: Session, token: str, now: datetime) -> dict[str, Any]:
    claims = provider.verify_access_token(session, token, now)
    gid = claims.get("gid")
    if not isinstance(gid, str):
        raise invalid_token("this access token is not for a user")
    grant = session.get(Grant, gid)
    client = provider.clients.get(session, str(claims.get("client_id")))
    if grant is None or client is None:
        raise invalid_token("the grant or client is gone")
    scopes = str(claims.get("scope", "")).split()
    if "openid" not in scopes:
        raise OAuthError("insufficient_scope", "the openid scope is required", 403)
    authn = provider.authentication_of(
        session,
        grant,
        datetime.fromtimestamp(int(claims.get("auth_time", 0)), UTC),
        acr_level(str(claims.get("acr"))) or 0,
        tuple(claims.get("amr", [])),
    )
    return {"sub": claims["sub"], **provider.claims_for(session, client, authn, scopes, now)}
