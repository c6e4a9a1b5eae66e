"""The provider's shared parts: configuration, subjects, claims and token minting.

Endpoint modules (``authorize``, ``token``, ``userinfo``...) are functions over a ``Provider``
and a database session; the web edge opens the unit of work and commits.

Tokens (RFC 7519 JWTs, signed with the client's ``id_token_signed_response_alg``):

- ID token, OIDC Core 2 and 3.1.3.6: ``iss``, ``sub`` (pairwise), ``aud`` (client_id),
  ``exp``, ``iat``, ``auth_time``, ``nonce``, ``acr``, ``amr``, ``azp`` and the user claims
  the granted scopes release.
- Access token, RFC 9068: header ``typ: at+jwt``; ``iss``, ``sub``, ``aud`` (the issuer: our
  userinfo endpoint is the only resource), ``exp``, ``iat``, ``jti``, ``client_id``,
  ``scope``, ``auth_time``, ``acr``, ``amr``, and ``gid``, the grant it belongs to, so a
  revoked grant (logout, withdrawn consent, replayed refresh token) ends it too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.clients import ClientInfo, Clients
from dinhdanh.auth.models import Account, Grant, RevokedAccessToken
from dinhdanh.auth.oidc.claims import (
    CHILD_AGE,
    PersonFacts,
    acr_uri,
    fields_needed,
    user_claims,
)
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.keys import TokenKeys
from dinhdanh.auth.oidc.pairwise import pairwise_sub
from dinhdanh.crypto import KeyRing
from dinhdanh.crypto.derive import pairwise_key
from dinhdanh.crypto.jose import Algorithm, JoseError, sign_jwt, verify_jwt
from dinhdanh.identity.age import is_over
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext, AuditLog


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    issuer: str
    code_ttl: timedelta = timedelta(seconds=60)
    access_ttl: timedelta = timedelta(minutes=5)
    id_ttl: timedelta = timedelta(minutes=5)
    refresh_ttl: timedelta = timedelta(days=30)
    par_ttl: timedelta = timedelta(seconds=90)
    login_ttl: timedelta = timedelta(minutes=15)  # a request kept while the user logs in


@dataclass(frozen=True, slots=True)
class Authentication:
    """How and when the user authenticated (carried from session to code to tokens)."""

    account_id: str
    subject_id: str
    level: int
    auth_time: datetime
    amr: tuple[str, ...]


def invalid_token(description: str) -> OAuthError:
    return OAuthError("invalid_token", description, 401)


class Provider:
    def __init__(
        self,
        config: ProviderConfig,
        ring: KeyRing,
        registry: Registry,
        audit: AuditLog,
        clients: Clients,
        random: opaque.RandomBytes = os.urandom,
    ) -> None:
        self.config = config
        self.keys = TokenKeys(ring)
        self.registry = registry
        self.audit = audit
        self.clients = clients
        self.random = random
        self._pairwise_key = pairwise_key(ring)
        # (session, client id, pairwise sub) -> approved by a guardian at that client's
        # platform: set by wiring (social keeps the bindings); None answers "not approved".
        self.guardian_approval: Callable[[Session, str, str], bool] | None = None
        self.child_age = CHILD_AGE

    @property
    def issuer(self) -> str:
        return self.config.issuer

    def url(self, path: str) -> str:
        return self.config.issuer + path

    # -- subjects and claims ----------------------------------------------------------
    def subject(self, client: ClientInfo, subject_id: str) -> str:
        return pairwise_sub(self._pairwise_key, client.sector_identifier, subject_id)

    def claims_for(
        self,
        session: Session,
        client: ClientInfo,
        authn: Authentication,
        scopes: list[str],
        now: datetime,
    ) -> dict[str, object]:
        """User claims for ``scopes``; opens (and audits) the registry only when needed."""
        fields = fields_needed(scopes)
        facts = PersonFacts()
        if fields:
            ctx = AccessContext(
                f"client:{client.client_id}", "relying_party", "oidc claims: " + " ".join(scopes)
            )
            record = self.registry.open_subject(session, authn.subject_id, fields, ctx, now)
            if record is not None:
                facts = PersonFacts(
                    record.full_name,
                    record.date_of_birth,
                    record.phone,
                    self._phone_verified(session, authn.account_id, record.phone),
                    self._guardian_approved(session, client, authn, record.date_of_birth, now)
                    if "age" in scopes
                    else None,
                )
        return user_claims(scopes, authn.level, facts, now.date())

    def _guardian_approved(
        self, session: Session, client: ClientInfo, authn: Authentication, dob: date, now: datetime
    ) -> bool | None:
        """For a child (under ``child_age``): whether a guardian approved their account at
        this client's platform; None for everyone else (the claim is then left out)."""
        if is_over(dob, self.child_age, now.date()):
            return None
        approval = self.guardian_approval
        sub = self.subject(client, authn.subject_id)
        return approval is not None and approval(session, client.client_id, sub)

    def _phone_verified(self, session: Session, account_id: str, phone: str | None) -> bool:
        account = session.get(Account, account_id)
        if phone is None or account is None or account.phone_verified_bidx is None:
            return False
        return self.registry.phone_index(phone) == account.phone_verified_bidx

    # -- minting ----------------------------------------------------------------------
    def _alg(self, client: ClientInfo) -> Algorithm:
        return cast(Algorithm, client.signing_alg)

    def id_token(
        self,
        client: ClientInfo,
        authn: Authentication,
        claims: dict[str, object],
        nonce: str | None,
        now: datetime,
    ) -> str:
        iat = int(now.timestamp())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject(client, authn.subject_id),
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": iat,
            "exp": iat + int(self.config.id_ttl.total_seconds()),
            "auth_time": int(authn.auth_time.timestamp()),
            "amr": list(authn.amr),
            **claims,
        }
        body["acr"] = acr_uri(authn.level)
        if nonce is not None:
            body["nonce"] = nonce
        return sign_jwt(body, self.keys.signer(self._alg(client)))

    def access_token(
        self,
        client: ClientInfo,
        scopes: list[str],
        now: datetime,
        authn: Authentication | None = None,
        grant_id: str | None = None,
        jkt: str | None = None,
    ) -> tuple[str, int]:
        ttl = int(self.config.access_ttl.total_seconds())
        iat = int(now.timestamp())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.issuer,
            "iat": iat,
            "exp": iat + ttl,
            "jti": opaque.new_token(self.random, 16),
            "client_id": client.client_id,
            "scope": " ".join(scopes),
        }
        if authn is None:
            body["sub"] = client.client_id
        else:
            body |= {
                "sub": self.subject(client, authn.subject_id),
                "auth_time": int(authn.auth_time.timestamp()),
                "acr": acr_uri(authn.level),
                "amr": list(authn.amr),
                "gid": grant_id,
            }
        if jkt is not None:
            body["cnf"] = {"jkt": jkt}  # bound to a DPoP key (RFC 9449 section 6.1)
        return sign_jwt(body, self.keys.signer(self._alg(client)), typ="at+jwt"), ttl

    # -- verifying our own access tokens ------------------------------------------------
    def verify_access_token(self, session: Session, token: str, now: datetime) -> dict[str, Any]:
        """Claims of a live access token we issued, else ``invalid_token`` (RFC 6750 3.1)."""
        try:
            claims = verify_jwt(
                token, self.keys.public, algorithms=self.keys.algorithms, typ="at+jwt"
            )
        except JoseError:
            raise invalid_token("the access token does not verify") from None
        exp = claims.get("exp")
        if claims.get("iss") != self.issuer or claims.get("aud") != self.issuer:
            raise invalid_token("the access token is not for this server")
        if not isinstance(exp, int) or exp <= now.timestamp():
            raise invalid_token("the access token has expired")
        jti = claims.get("jti")
        if not isinstance(jti, str) or session.get(RevokedAccessToken, jti) is not None:
            raise invalid_token("the access token was revoked")
        gid = claims.get("gid")
        if gid is not None:
            grant = session.get(Grant, gid)
            if grant is None or grant.revoked_at is not None:
                raise invalid_token("the access token was revoked")
        return claims

    def authentication_of(
        self, session: Session, grant: Grant, auth_time: datetime, level: int, amr: tuple[str, ...]
    ) -> Authentication:
        account = session.get(Account, grant.account_id)
        if account is None:
            raise invalid_token("the account no longer exists")
        return Authentication(account.id, account.subject_id, level, auth_time, amr)
