"""Tables of the audit log, of API keys and of re-identification requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.store import Base


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    # Unique over the whole log, in order of appending within a chain (a sequence on
    # PostgreSQL, so chains do not wait on one another for it); gaps are allowed.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    purpose: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    fields: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # How `hash` was computed (privacy.audit): 1 for the entries written before the columns
    # below existed, 2 since. A row that does not say is a version-1 row.
    format: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    organisation: Mapped[str | None] = mapped_column(String(200))
    legal_basis: Mapped[str | None] = mapped_column(String(100))
    case_ref: Mapped[str | None] = mapped_column(String(200))
    # Until then the citizen does not see the entry (an investigation's disclosure delay).
    disclose_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Format 3: the hash chain the entry belongs to and its position there (1, 2, ...).
    # Rows of formats 1 and 2 are chain 0 with no position: theirs is ``seq``.
    chain: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)


class AuditHead(Base):
    """One row per chain (``id`` is the chain): its tip. Locking it serializes the appends
    to that chain across processes; ``seq`` is a position in the chain, not a global seq."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    checkpointed_seq: Mapped[int] = mapped_column(BigInteger)


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class AuditChainCheckpoint(Base):
    """The heads of every chain at one moment, signed together (privacy/audit.py)."""

    __tablename__ = "audit_chain_checkpoints"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The signed heads: a count, then (chain, position, hash) per chain, packed big-endian.
    heads: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The organisation that holds the key: audit entries name it (``machine:OWNER/ID``).
    owner: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    # A personal officer token acts for the person of this staff grant (``staff`` domain),
    # and stops working when the grant ends. None: a machine key.
    staff_grant_id: Mapped[str | None] = mapped_column(String(32))
    # What the key is limited to, e.g. the carrier code of a carrier's key.
    scope: Mapped[str | None] = mapped_column(String(100))
    # API keys are 256-bit random values: a fast hash is enough and keeps every request cheap.
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DisclosureRequest(Base):
    """A request to re-identify one platform account (privacy.disclosure). The row never holds
    the person: the binding is opened only at the reveal, and what it shows is not kept."""

    __tablename__ = "disclosure_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    platform: Mapped[str] = mapped_column(String(32))
    # The platform's account id, sealed with the request's id as context: which account is
    # under investigation is itself the authority's secret.
    account_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    legal_basis: Mapped[str] = mapped_column(String(100))
    case_ref: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    delay_days: Mapped[int | None] = mapped_column(Integer)  # the citizen's disclosure delay
    requested_by: Mapped[str] = mapped_column(String(200), index=True)  # person:<subject>
    organisation: Mapped[str] = mapped_column(String(200))  # the requester's
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decider_organisation: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # At the reveal: whether a person was bound to the account then.
    found: Mapped[bool | None] = mapped_column(Boolean)
