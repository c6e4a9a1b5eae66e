"""The UserInfo endpoint: OIDC Core 1.0 section 5.3.

Bearer access token (RFC 6750 2.1), or a DPoP-bound one with its proof (RFC 9449 section 7);
the claims are those the grant's scopes release, computed now (age flags on today's date);
personal values are opened from the registry and audited. Errors are RFC 6750 3.1
(``invalid_token``, 401, with ``WWW-Authenticate``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.auth.models import Grant
from dinhdanh.auth.oidc.claims import acr_level
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.provider import Provider, invalid_token


def userinfo(
    provider: Provider, session: Session, token: str, now: datetime, jkt: str | None = None
) -> dict[str, Any]:
    """Claims for ``token``; ``jkt`` is the key of the DPoP proof that came with it, if any."""
    claims = provider.verify_access_token(session, token, now)
    cnf = claims.get("cnf")
    bound = cnf.get("jkt") if isinstance(cnf, dict) else None
    if bound is None and jkt is not None:
        raise invalid_token("this access token is not DPoP-bound: send it as a Bearer token")
    if bound != jkt:
        # RFC 9449 section 7.1: a bound token needs a proof by its key, never Bearer.
        raise invalid_token("this access token is bound to a DPoP key: prove it with that key")
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
