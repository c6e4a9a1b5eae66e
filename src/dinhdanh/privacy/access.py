"""Roles, purposes and API keys: who may read personal data, and why."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.privacy.models import ApiKey
from dinhdanh.privacy.roles import Role


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
    found = _check(session, token, now)
    return None if found is None else found[0]


def _check(session: Session, token: str, now: datetime) -> tuple[Principal, datetime | None] | None:
    """The key's principal and its expiry, if the token is a usable key's."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "dd":
        return None
    key = session.connection().execute(_KEY_BY_ID, {"id": parts[1]}).first()
    digest = hashlib.sha256(parts[2].encode()).digest()
    if key is None or not _usable(key, now):
        return None
    if not hmac.compare_digest(digest, key.secret_sha256):
        return None
    who = Principal(
        key_id=key.id,
        name=key.name,
        role=Role(key.role),
        owner=key.owner,
        scope=key.scope,
        staff_grant=key.staff_grant_id,
    )
    return who, _utc(key.expires_at) if key.expires_at else None


# How long a platform key, once checked, is taken without asking the database again: the
# bound on how long a key revoked by another process (`dinhdanh apikeys revoke`, another
# server worker) still reads statuses. Revocation in this process takes effect at once.
RECHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _Seen:
    who: Principal
    expires_at: datetime | None
    until: float  # time.monotonic() after which the database is asked again


class RecentKeys:
    """Platform keys checked in the last ``RECHECK_SECONDS``, for the status API only (one
    database round trip in four, at thousands of calls a second; docs/adr/0016). Keyed by
    the SHA-256 of the whole token, so a cached entry answers only the exact token that was
    checked; only usable platform keys are kept (a wrong or revoked key always asks), and a
    key's expiry is checked at every call."""

    def __init__(
        self,
        recheck_seconds: float = RECHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recheck_seconds = recheck_seconds
        self._monotonic = monotonic
        self._seen: dict[bytes, _Seen] = {}

    def authenticate(self, session: Session, token: str, now: datetime) -> Principal | None:
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._seen.get(digest)
        t = self._monotonic()
        fresh = hit is not None and t < hit.until
        if hit is not None and fresh and (hit.expires_at is None or now < hit.expires_at):
            return hit.who
        found = _check(session, token, now)
        if found is None or found[0].role is not Role.PLATFORM:
            self._seen.pop(digest, None)
            return None if found is None else found[0]
        if len(self._seen) > 10_000:  # bounded by the usable platform keys; stale ones go
            self._seen = {d: s for d, s in self._seen.items() if t < s.until}
        self._seen[digest] = _Seen(found[0], found[1], t + self.recheck_seconds)
        return found[0]

    def forget(self, key_id: str) -> None:
        self._seen = {d: s for d, s in self._seen.items() if s.who.key_id != key_id}


# One per process: what revoke_api_key clears.
RECENT_KEYS = RecentKeys()


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
    RECENT_KEYS.forget(key_id)  # other processes: within RECHECK_SECONDS
    return True
