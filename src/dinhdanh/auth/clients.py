"""Relying parties (OIDC clients): registration by an administrator, lookup, listing.

Client secrets are 256-bit random values stored as SHA-256 (issue 3, item 9: a slow password
hash on client secrets is what caps other providers at a few hundred grants per second).
Redirect URIs are compared exactly (RFC 9700 section 4.1.1). The sector identifier of
pairwise subjects (OIDC Core 8.1) is the host of the redirect URIs unless given: clients
whose redirect URIs span several hosts must name their sector. A sector belongs to its first
client; a later client shares its subjects only when an administrator names the sector and
asks to join it, so no platform receives another's subjects by claiming its host or sector.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.grants import revoke_grants
from dinhdanh.auth.models import Client, Grant
from dinhdanh.auth.oidc.claims import USER_SCOPES
from dinhdanh.crypto.jose import SUPPORTED_ALGORITHMS, JoseError, parse_jwks
from dinhdanh.errors import DomainError

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
DEFAULT_GRANTS = ("authorization_code", "refresh_token")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ClientConfigError(DomainError, ValueError):
    """A client registration is invalid; the message says what to fix."""

    code, status, title = "invalid_client_metadata", 422, "Invalid client"


class SectorOwned(ClientConfigError):
    """The sector belongs to another client: joining it must be asked for explicitly."""

    code, status, title = "sector_owned", 409, "The sector belongs to another client"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    client_id: str
    name: str
    auth_method: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    sector_identifier: str
    grant_types: frozenset[str]
    scope: frozenset[str]
    signing_alg: str
    jwks: dict[str, Any] | None
    secret_sha256: bytes | None
    disabled: bool = False

    @classmethod
    def of(cls, row: Client) -> ClientInfo:
        return cls(
            client_id=row.client_id,
            name=row.name,
            auth_method=row.auth_method,
            redirect_uris=tuple(json.loads(row.redirect_uris)),
            post_logout_redirect_uris=tuple(json.loads(row.post_logout_redirect_uris)),
            sector_identifier=row.sector_identifier,
            grant_types=frozenset(row.grant_types.split()),
            scope=frozenset(row.scope.split()),
            signing_alg=row.signing_alg,
            jwks=json.loads(row.jwks) if row.jwks else None,
            secret_sha256=row.secret_sha256,
            disabled=row.revoked_at is not None,
        )

    def public(self) -> dict[str, Any]:
        """Registration metadata (RFC 7591 names), without secrets."""
        return {
            "client_id": self.client_id,
            "client_name": self.name,
            "token_endpoint_auth_method": self.auth_method,
            "redirect_uris": list(self.redirect_uris),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "sector_identifier": self.sector_identifier,
            "grant_types": sorted(self.grant_types),
            "scope": " ".join(sorted(self.scope)),
            "id_token_signed_response_alg": self.signing_alg,
            "subject_type": "pairwise",
            "disabled": self.disabled,
        }


def _check_uri(uri: str, what: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ClientConfigError(f"{what} {uri!r} must be an absolute http(s) URI")
    if parts.fragment:
        raise ClientConfigError(f"{what} {uri!r} must not have a fragment (RFC 6749 3.1.2)")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        # RFC 9700 section 2.1: codes and tokens travel to plain http only on this machine.
        raise ClientConfigError(f"{what} {uri!r} must use https unless it is a loopback address")
    return uri


class Clients:
    """Registered clients. Lookups are cached in the process for ``cache_seconds``: the token
    endpoint reads a client on every grant, and that read was most of a grant's cost. A change
    made by another process (a disabled client) takes effect within that time; the paths that
    read the database anyway (code and refresh grants, introspection) ask ``enabled``."""

    def __init__(
        self,
        random: opaque.RandomBytes = os.urandom,
        cache_seconds: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._random = random
        self._ttl = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, ClientInfo]] = {}

    def create(
        self,
        session: Session,
        *,
        name: str,
        redirect_uris: list[str],
        now: datetime,
        sector_identifier: str | None = None,
        grant_types: tuple[str, ...] = DEFAULT_GRANTS,
        signing_alg: str = "EdDSA",
        jwks: dict[str, Any] | None = None,
        post_logout_redirect_uris: list[str] | None = None,
        scope: frozenset[str] = USER_SCOPES,
        client_id: str | None = None,
        secret: str | None = None,
        join_sector: bool = False,
    ) -> tuple[ClientInfo, str | None]:
        """Register a client; returns it and its secret (None for private_key_jwt clients).

        ``client_id`` and ``secret`` are normally generated; the demo passes its own so that
        its fixed client survives a re-run. A sector belongs to its first client: another
        client gets its subjects only with an explicit ``sector_identifier`` and
        ``join_sector`` (an administrator's decision), else ``SectorOwned``.
        """
        name = name.strip()
        if not name:
            raise ClientConfigError("a client needs a name")
        unknown = sorted(set(grant_types) - set(GRANT_TYPES))
        if unknown or not grant_types:
            raise ClientConfigError(f"grant types must be among {', '.join(GRANT_TYPES)}")
        if signing_alg not in SUPPORTED_ALGORITHMS:
            raise ClientConfigError(f"signing alg must be one of {', '.join(SUPPORTED_ALGORITHMS)}")
        uris = [_check_uri(u, "redirect URI") for u in redirect_uris]
        if "authorization_code" in grant_types and not uris:
            raise ClientConfigError("the authorization_code grant needs a redirect URI")
        logout_uris = [_check_uri(u, "post-logout URI") for u in post_logout_redirect_uris or []]
        hosts = {urlsplit(u).hostname for u in uris}
        if sector_identifier:
            sector = sector_identifier.strip().lower()
        elif len(hosts) == 1:
            sector = str(hosts.pop())
        elif not hosts:
            sector = ""  # machine-only client: no users, no subjects
        else:
            raise ClientConfigError(
                "redirect URIs span several hosts: give --sector-identifier (OIDC Core 8.1)"
            )
        owner = self._sector_owner(session, sector)
        if owner is not None and not (sector_identifier and join_sector):
            raise SectorOwned(
                f"sector {sector!r} belongs to client {owner}: to share its subjects, give "
                f"--sector-identifier {sector} and --join-sector (join_sector in the API)"
            )
        if jwks is not None:
            try:
                if not len(parse_jwks(jwks)):
                    raise ClientConfigError("the client's JWKS holds no usable key")
            except JoseError as exc:
                raise ClientConfigError(f"the client's JWKS is invalid: {exc}") from None
        if jwks is not None:
            secret = None
        elif secret is None:
            secret = opaque.new_token(self._random)
        elif len(secret) < 43:
            raise ClientConfigError("a client secret must carry 256 bits (43 base64url chars)")
        row = Client(
            client_id=client_id or "c_" + opaque.new_token(self._random, 12),
            name=name,
            secret_sha256=opaque.digest(secret) if secret else None,
            auth_method="private_key_jwt" if jwks is not None else "client_secret_basic",
            jwks=json.dumps(jwks) if jwks is not None else None,
            redirect_uris=json.dumps(uris),
            post_logout_redirect_uris=json.dumps(logout_uris),
            sector_identifier=sector,
            grant_types=" ".join(grant_types),
            scope=" ".join(sorted(scope)),
            signing_alg=signing_alg,
            created_at=now,
            revoked_at=None,
        )
        session.add(row)
        session.flush()
        return ClientInfo.of(row), secret

    @staticmethod
    def _sector_owner(session: Session, sector: str) -> str | None:
        """The first client of ``sector`` (disabled ones too); machine clients have none."""
        if not sector:
            return None
        return session.scalars(
            select(Client.client_id)
            .where(Client.sector_identifier == sector)
            .order_by(Client.created_at, Client.client_id)
            .limit(1)
        ).first()

    def get(self, session: Session, client_id: str) -> ClientInfo | None:
        now = self._monotonic()
        hit = self._cache.get(client_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = session.get(Client, client_id)
        if row is None or row.revoked_at is not None:
            self._cache.pop(client_id, None)
            return None  # misses are not cached: a client registered a moment ago is found
        info = ClientInfo.of(row)
        if self._ttl > 0:
            if len(self._cache) >= 10_000:  # bounded; client ids are chosen by callers
                self._cache.clear()
            self._cache[client_id] = (now + self._ttl, info)
        return info

    def set_disabled(
        self, session: Session, client_id: str, disabled: bool, now: datetime
    ) -> ClientInfo | None:
        """Disable (or enable again) a client; None if there is no such client.

        Disabling revokes every grant the client holds, so its refresh tokens and the access
        tokens that name a grant die for good, even if the client is enabled again. This
        process forgets the client at once; others within ``cache_seconds``.
        """
        row = session.get(Client, client_id, with_for_update=True)
        if row is None:
            return None
        if disabled and row.revoked_at is None:
            row.revoked_at = now
            revoke_grants(session, now, Grant.client_id == client_id)
        elif not disabled:
            row.revoked_at = None
        self._cache.pop(client_id, None)
        session.flush()
        return ClientInfo.of(row)

    def enabled(self, session: Session, client_id: str) -> bool:
        """Read from the database, not the cache: for the paths that touch it anyway."""
        revoked = session.execute(
            select(Client.revoked_at).where(Client.client_id == client_id)
        ).first()
        return revoked is not None and revoked[0] is None

    def list(self, session: Session) -> list[ClientInfo]:
        """Every client, disabled ones too (``disabled`` says which)."""
        return [ClientInfo.of(r) for r in session.scalars(select(Client))]

    def names(self, session: Session, client_ids: set[str]) -> dict[str, str]:
        if not client_ids:
            return {}
        rows = session.execute(
            select(Client.client_id, Client.name).where(Client.client_id.in_(client_ids))
        )
        return {row[0]: row[1] for row in rows}
