"""Roles, purposes and API keys: who may read personal data, and why."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.privacy.models import ApiKey


class Role(StrEnum):
    OFFICER = "officer"
    ADMIN = "admin"
    CARRIER = "carrier"  # scope: the carrier's code; sees and changes only its own subscribers
    PLATFORM = "platform"  # scope: the platform's code; reads only its own accounts' status


class AccessError(DomainError):
    code, status, title = "access_denied", 403, "Access denied"


class PurposeRequired(AccessError):
    code, status, title = "purpose_required", 400, "Legal basis and purpose required"


class UnknownLegalBasis(PurposeRequired):
    code = "legal_basis_unknown"
    title = "Unknown legal basis"


MIN_PURPOSE, MAX_PURPOSE = 5, 500


def check_purpose(legal_basis: str | None, purpose: str | None, allowed: Collection[str]) -> str:
    """Every read of personal data names a legal basis from the configured list and states
    its purpose (a case reference, free text). Returns both, as the audit entry records them.
    """
    basis = (legal_basis or "").strip()
    if not basis:
        raise PurposeRequired(f"name a legal basis: one of {', '.join(allowed)}")
    if basis not in allowed:
        raise UnknownLegalBasis(f"the legal basis must be one of {', '.join(allowed)}")
    text = (purpose or "").strip()
    if not MIN_PURPOSE <= len(text) <= MAX_PURPOSE:
        raise PurposeRequired(
            f"state a purpose (e.g. the case reference) of {MIN_PURPOSE} to {MAX_PURPOSE}"
            " characters for this access"
        )
    return f"{basis}: {text}"


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    name: str
    role: Role
    scope: str | None = None

    @property
    def actor(self) -> str:
        return f"apikey:{self.key_id}:{self.name}"


def create_api_key(
    session: Session,
    name: str,
    role: Role,
    now: datetime,
    scope: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[str, str]:
    """Return (key id, token). The token is shown once; only its SHA-256 is stored."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            name=name,
            role=role.value,
            scope=scope,
            secret_sha256=hashlib.sha256(secret.encode()).digest(),
            created_at=now,
            revoked_at=None,
            expires_at=expires_at,
        )
    )
    return key_id, f"dd_{key_id}_{secret}"


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored one is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _usable(key: ApiKey, now: datetime) -> bool:
    return key.revoked_at is None and (key.expires_at is None or now < _utc(key.expires_at))


def authenticate(session: Session, token: str, now: datetime) -> Principal | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "dd":
        return None
    key = session.get(ApiKey, parts[1])
    digest = hashlib.sha256(parts[2].encode()).digest()
    if key is None or not _usable(key, now):
        return None
    if not hmac.compare_digest(digest, key.secret_sha256):
        return None
    return Principal(key_id=key.id, name=key.name, role=Role(key.role), scope=key.scope)


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What ``dinhdanh apikeys list`` shows: never the secret, not even its hash."""

    id: str
    name: str
    role: str
    scope: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


def list_api_keys(session: Session, now: datetime) -> list[ApiKeyInfo]:
    keys = session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))
    return [
        ApiKeyInfo(
            k.id,
            k.name,
            k.role,
            k.scope,
            _utc(k.created_at),
            _utc(k.expires_at) if k.expires_at else None,
            _utc(k.revoked_at) if k.revoked_at else None,
            _usable(k, now),
        )
        for k in keys
    ]


def revoke_api_key(session: Session, key_id: str, now: datetime) -> bool:
    """Revoke a key at once (its next request is refused); False if there is no such key.
    Revoking twice keeps the first time."""
    key = session.get(ApiKey, key_id)
    if key is None:
        return False
    if key.revoked_at is None:
        key.revoked_at = now
    return True
