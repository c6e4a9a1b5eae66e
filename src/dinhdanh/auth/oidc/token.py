"""The token endpoint: RFC 6749 section 3.2 and OIDC Core 1.0 section 3.1.3.

Grants:
- ``authorization_code`` (RFC 6749 4.1.3, OIDC Core 3.1.3.2): the code is single use, bound
  to its client and redirect URI, short-lived, and needs the PKCE ``code_verifier`` (RFC 7636
  4.6, S256). A replayed code fails and revokes every token issued from it (RFC 6749 4.1.2).
- ``refresh_token`` (RFC 6749 6): rotation on every use; a refresh token used twice means
  one copy was stolen, so the whole family (the grant) is revoked (RFC 9700 4.14.2). A grant
  also ends with the browser session that authorized it (``auth.grants``), so a code whose
  session was logged out before the exchange is refused.
- ``client_credentials`` (RFC 6749 4.4): an access token whose ``sub`` is the client.

Responses carry ``Cache-Control: no-store`` (set by the web edge); errors are RFC 6749 5.2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.grants import revoke_grant
from dinhdanh.auth.models import Account, AuthorizationCode, Grant, LoginSession, RefreshToken
from dinhdanh.auth.oidc.claims import parse_scope
from dinhdanh.auth.oidc.errors import OAuthError, invalid_client, invalid_grant, invalid_request
from dinhdanh.auth.oidc.provider import Authentication, Provider
from dinhdanh.auth.opaque import as_utc


def s256(verifier: str) -> str:
    """RFC 7636 4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_type(jkt: str | None) -> str:
    return "DPoP" if jkt else "Bearer"  # RFC 9449 section 5


def _verifier_ok(verifier: str | None, challenge: str) -> bool:
    if verifier is None or not 43 <= len(verifier) <= 128 or not verifier.isascii():
        return False
    return hmac.compare_digest(s256(verifier), challenge)


def token_request(
    provider: Provider,
    session: Session,
    client: ClientInfo,
    form: Mapping[str, str],
    now: datetime,
    jkt: str | None = None,
) -> dict[str, Any]:
    """Answer a token request; ``jkt`` (a checked DPoP proof's key thumbprint, ``dpop``)
    binds the access token to that key (RFC 9449 section 5)."""
    grant_type = form.get("grant_type")
    if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    if grant_type not in client.grant_types:
        raise OAuthError("unauthorized_client", f"this client may not use {grant_type}")
    if grant_type != "client_credentials" and not provider.clients.enabled(
        session, client.client_id
    ):
        # Disabled since another process cached it: these grants read the database anyway.
        raise invalid_client("client authentication failed")
    if grant_type == "authorization_code":
        return _authorization_code(provider, session, client, form, now, jkt)
    if grant_type == "refresh_token":
        return _refresh_token(provider, session, client, form, now, jkt)
    return _client_credentials(provider, client, form, now, jkt)


def _issue(
    provider: Provider,
    session: Session,
    client: ClientInfo,
    grant: Grant,
    authn: Authentication,
    scopes: list[str],
    nonce: str | None,
    now: datetime,
    jkt: str | None,
    *,
    with_id_token: bool,
) -> dict[str, Any]:
    access, ttl = provider.access_token(client, scopes, now, authn, grant.id, jkt)
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": token_type(jkt),
        "expires_in": ttl,
        "scope": " ".join(scopes),
    }
    if with_id_token:
        claims = provider.claims_for(session, client, authn, scopes, now)
        body["id_token"] = provider.id_token(client, authn, claims, nonce, now)
    if "refresh_token" in client.grant_types:
        refresh = opaque.new_token(provider.random)
        session.add(
            RefreshToken(
                token_sha256=opaque.digest(refresh),
                family_id=grant.id,
                client_id=client.client_id,
                account_id=authn.account_id,
                scope=" ".join(scopes),
                auth_time=authn.auth_time,
                acr=authn.level,
                amr=" ".join(authn.amr),
                created_at=now,
                expires_at=now + provider.config.refresh_ttl,
                used_at=None,
                revoked_at=None,
            )
        )
        body["refresh_token"] = refresh
    session.flush()
    return body


def _authorization_code(
    provider: Provider,
    session: Session,
    client: ClientInfo,
    form: Mapping[str, str],
    now: datetime,
    jkt: str | None,
) -> dict[str, Any]:
    code = form.get("code")
    if not code:
        raise invalid_request("code is required")
    # Locked until commit: a concurrent exchange of this code waits, then finds it used.
    row = session.get(AuthorizationCode, opaque.digest(code), with_for_update=True)
    if row is None or row.client_id != client.client_id:
        raise invalid_grant("the code is unknown or was issued to another client")
    if row.used_at is not None:
        if row.family_id is not None:
            revoke_grant(session, row.family_id, now)
        raise invalid_grant("the code was already used; tokens issued from it are revoked")
    row.used_at = now  # spent whatever happens next
    if as_utc(row.expires_at) <= now:
        raise invalid_grant("the code has expired")
    if form.get("redirect_uri") != row.redirect_uri:
        raise invalid_grant("redirect_uri does not match the authorization request")
    if not _verifier_ok(form.get("code_verifier"), row.code_challenge):
        raise invalid_grant("PKCE verification failed (code_verifier missing or wrong)")
    login = session.get(LoginSession, row.session_id)
    if login is None or login.revoked_at is not None:
        # Logged out between the code and its exchange: the grant would outlive its session.
        raise invalid_grant("the session that authorized this code has ended")
    account = session.get(Account, row.account_id)
    if account is None:
        raise invalid_grant("the account no longer exists")
    grant = Grant(
        id=opaque.new_id(provider.random),
        client_id=client.client_id,
        account_id=account.id,
        session_id=row.session_id,
        scope=row.scope,
        created_at=now,
        revoked_at=None,
    )
    session.add(grant)
    row.family_id = grant.id
    authn = Authentication(
        account.id, account.subject_id, row.acr, as_utc(row.auth_time), tuple(row.amr.split())
    )
    return _issue(
        provider,
        session,
        client,
        grant,
        authn,
        row.scope.split(),
        row.nonce,
        now,
        jkt,
        with_id_token="openid" in row.scope.split(),
    )


def _refresh_token(
    provider: Provider,
    session: Session,
    client: ClientInfo,
    form: Mapping[str, str],
    now: datetime,
    jkt: str | None,
) -> dict[str, Any]:
    token = form.get("refresh_token")
    if not token:
        raise invalid_request("refresh_token is required")
    # Locked until commit: a concurrent refresh with this token waits, then finds it used.
    row = session.get(RefreshToken, opaque.digest(token), with_for_update=True)
    if row is None or row.client_id != client.client_id:
        raise invalid_grant("the refresh token is unknown or was issued to another client")
    grant = session.get(Grant, row.family_id)
    if row.used_at is not None or row.revoked_at is not None:
        revoke_grant(session, row.family_id, now)
        raise invalid_grant("the refresh token was already used: its whole family is revoked")
    if grant is None or grant.revoked_at is not None:
        raise invalid_grant("the grant was revoked")
    if as_utc(row.expires_at) <= now:
        raise invalid_grant("the refresh token has expired")
    scopes = row.scope.split()
    if "scope" in form:
        asked = parse_scope(form["scope"])
        if not set(asked) <= set(scopes):
            raise OAuthError("invalid_scope", "a refresh may only narrow the scope")
        scopes = asked
    row.used_at = now
    account = session.get(Account, row.account_id)
    if account is None:
        raise invalid_grant("the account no longer exists")
    authn = Authentication(
        account.id, account.subject_id, row.acr, as_utc(row.auth_time), tuple(row.amr.split())
    )
    return _issue(
        provider,
        session,
        client,
        grant,
        authn,
        scopes,
        None,
        now,
        jkt,
        with_id_token="openid" in scopes,
    )


def _client_credentials(
    provider: Provider,
    client: ClientInfo,
    form: Mapping[str, str],
    now: datetime,
    jkt: str | None,
) -> dict[str, Any]:
    scopes = parse_scope(form.get("scope"))
    if "openid" in scopes or not set(scopes) <= client.scope:
        raise OAuthError("invalid_scope", "a requested scope is not allowed for this client")
    access, ttl = provider.access_token(client, scopes, now, jkt=jkt)
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": token_type(jkt),
        "expires_in": ttl,
    }
    if scopes:
        body["scope"] = " ".join(scopes)
    return body
