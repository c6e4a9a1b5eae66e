"""Roles, purposes and API keys: who may read personal data, and why."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.privacy.models import ApiKey


class Role(StrEnum):
    OFFICER = "officer"
    ADMIN = "admin"
    CARRIER = "carrier"  # scope: the carrier's code; sees and changes only its own subscribers
    PLATFORM = "platform"  # scope: the platform's code; reads only its own accounts' status
    REGISTRAR = "registrar"  # scope: the registrar's code; uploads only its own domain names


class AccessError(DomainError):
    code, status, title = "access_denied", 403, "Access denied"


class PurposeRequired(AccessError):
    code, status, title = "purpose_required", 400, "Legal basis and purpose required"


class UnknownLegalBasis(PurposeRequired):
    code = "legal_basis_unknown"
    title = "Unknown legal basis"


class CaseRefRequired(PurposeRequired):
    code = "case_ref_required"
    title = "Case reference required"


MIN_CASE_REF, MAX_CASE_REF, MAX_PURPOSE = 3, 100, 500


@dataclass(frozen=True, slots=True)
class LegalGround:
    """Why personal data is read: a configured legal-basis code, the case it serves, and the
    text of the audit entry's ``purpose`` (both, plus the officer's optional note)."""

    legal_basis: str
    case_ref: str
    purpose: str


def check_purpose(
    legal_basis: str | None,
    case_ref: str | None,
    allowed: Collection[str],
    note: str | None = None,
) -> LegalGround:
    """Every officer read names one legal basis from the configured list and a case
    reference (the file number it serves); a free-text note is optional."""
    basis = (legal_basis or "").strip()
    if not basis:
        raise PurposeRequired(f"name a legal basis: one of {', '.join(allowed)}")
    if basis not in allowed:
        raise UnknownLegalBasis(f"the legal basis must be one of {', '.join(allowed)}")
    ref = (case_ref or "").strip()
    if not MIN_CASE_REF <= len(ref) <= MAX_CASE_REF:
        raise CaseRefRequired(
            f"give the case reference ({MIN_CASE_REF} to {MAX_CASE_REF} characters)"
        )
    text = f"{basis}: {ref}"
    extra = (note or "").strip()
    if extra:
        text = f"{text}; {extra}"
    if len(text) > MAX_PURPOSE:
        raise PurposeRequired(f"the purpose is longer than {MAX_PURPOSE} characters")
    return LegalGround(basis, ref, text)


@dataclass(frozen=True, slots=True)
class Principal:
    """The holder of an API key. A machine key acts for its ``owner`` (an organisation); a
    personal token (``staff_grant`` set) acts for the person of that grant, which the staff
    domain resolves and checks at every request."""

    key_id: str
    name: str
    role: Role
    owner: str
    scope: str | None = None
    staff_grant: str | None = None

    @property
    def actor(self) -> str:
        return f"machine:{self.owner}/{self.key_id}"


def create_api_key(
    session: Session,
    name: str,
    role: Role,
    now: datetime,
    scope: str | None = None,
    expires_at: datetime | None = None,
    *,
    owner: str,
    staff_grant: str | None = None,
) -> tuple[str, str]:
    """Return (key id, token). The token is shown once; only its SHA-256 is stored.

    ``owner`` is the organisation holding the key. A personal token names its staff grant:
    create those through ``staff.Staff.issue_token``, which checks the grant first."""
    if not owner.strip():
        raise ValueError("an API key needs an owner")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            name=name,
            owner=owner.strip(),
            staff_grant_id=staff_grant,
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


# Every API call runs it: a plain row, below the ORM (loading an entity costs more than the
# query), built once.
_KEY_BY_ID = select(*cast(Table, ApiKey.__table__).c).where(ApiKey.id == bindparam("id"))


def _usable(key: ApiKey | Row[Any], now: datetime) -> bool:
    return key.revoked_at is None and (key.expires_at is None or now < _utc(key.expires_at))


def authenticate(session: Session, token: str, now: datetime) -> Principal | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "dd":
        return None
    key = session.connection().execute(_KEY_BY_ID, {"id": parts[1]}).first()
    digest = hashlib.sha256(parts[2].encode()).digest()
    if key is None or not _usable(key, now):
        return None
    if not hmac.compare_digest(digest, key.secret_sha256):
        return None
    return Principal(
        key_id=key.id,
        name=key.name,
        role=Role(key.role),
        owner=key.owner,
        scope=key.scope,
        staff_grant=key.staff_grant_id,
    )


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What ``dinhdanh apikeys list`` shows: never the secret, not even its hash."""

    id: str
    name: str
    owner: str
    role: str
    scope: str | None
    staff_grant: str | None
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
            k.owner,
            k.role,
            k.scope,
            k.staff_grant_id,
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
