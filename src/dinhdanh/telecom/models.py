"""Telecom tables: carriers, subscriptions, citizens' declarations, the lock timeline.

A subscription row keeps its owner's stated identity only as blind indexes (the same bytes as
the registry's, see identity/indexes.py) plus two facts computed at upload from the plaintext:
whether the ID number agrees with the stated birth date, and whether the owner was under the
minor age at activation. The MSISDN is stored in clear: it is the carrier's own key, the
verdict files carry it, and it links only to a pseudonymous blind index (ADR 0003).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.store import Base


class Carrier(Base):
    __tablename__ = "carriers"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    carrier: Mapped[str] = mapped_column(ForeignKey("carriers.code"))
    msisdn: Mapped[str] = mapped_column(String(16))  # E.164
    id_bidx: Mapped[bytes] = mapped_column(LargeBinary(16), index=True)
    name_bidx: Mapped[bytes] = mapped_column(LargeBinary(16))
    dob_bidx: Mapped[bytes] = mapped_column(LargeBinary(16))
    id_dob_consistent: Mapped[bool] = mapped_column(Boolean)
    minor_at_activation: Mapped[bool] = mapped_column(Boolean)
    # Province code of the stated ID number (its first three digits), for the report's
    # per-province chart; coarse, and the same for millions of people.
    province: Mapped[str] = mapped_column(String(3))
    activation_at: Mapped[datetime] = mapped_column(DateTime)  # as the carrier states it
    channel: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    imei_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    status: Mapped[str] = mapped_column(String(12))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # One index for the number: led by the number, it serves the look-ups by number alone
    # ("my numbers", the phones a code may go to) and by carrier and number (the upload's
    # digest probe), so each inserted row updates two random-key indexes, not three
    # (ADR 0026). Nothing reads subscriptions by carrier alone through SQL: the snapshot
    # copy scans the table.
    __table_args__ = (Index("uq_subscriptions_msisdn_carrier", "msisdn", "carrier", unique=True),)


class CarrierRange(Base):
    """A number block: national numbers starting with ``prefix`` belong to ``carrier``.

    Seeded from the public numbering plan (telecom/msisdn.py) when a carrier with a plan
    code is registered; managed with ``dinhdanh carriers ranges``. Longest prefix wins.
    """

    __tablename__ = "carrier_ranges"

    prefix: Mapped[str] = mapped_column(String(9), primary_key=True)  # national digits
    carrier: Mapped[str] = mapped_column(ForeignKey("carriers.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PortedNumber(Base):
    """A number the carrier declared ported in: it may upload it outside its blocks."""

    __tablename__ = "ported_numbers"

    msisdn: Mapped[str] = mapped_column(String(16), primary_key=True)  # E.164
    carrier: Mapped[str] = mapped_column(ForeignKey("carriers.code"), index=True)
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NumberDeclaration(Base):
    """What a citizen said about a number registered to them ("my numbers").

    It holds for one subscription and one owner: the subscription row, the owner's ID blind
    index and the activation it was made on. When the carrier re-uploads the number with
    another owner or another activation, the declaration no longer applies.
    """

    __tablename__ = "number_declarations"

    msisdn: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    declaration: Mapped[str] = mapped_column(String(10))  # confirmed | disowned
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    subscription_id: Mapped[str | None] = mapped_column(String(36), index=True)
    id_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    activation_at: Mapped[datetime | None] = mapped_column(DateTime)


class LockCase(Base):
    """One junk subscription walking the lock timeline (telecom/timeline.py)."""

    __tablename__ = "lock_cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    carrier: Mapped[str] = mapped_column(ForeignKey("carriers.code"), index=True)
    msisdn: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(20), index=True)
    reasons: Mapped[str] = mapped_column(Text)  # comma-separated reason codes
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_lock_cases_carrier_msisdn", "carrier", "msisdn"),)


class CarrierAction(Base):
    """An instruction a carrier fetches and acknowledges (notify, lock, revoke, unlock)."""

    __tablename__ = "carrier_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(ForeignKey("carriers.code"))
    case_id: Mapped[str] = mapped_column(ForeignKey("lock_cases.id"))
    msisdn: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_carrier_actions_pending", "carrier", "acknowledged_at"),)


class UploadReject(Base):
    """A chunk of one upload's rejected rows, sealed (telecom/rejects.py): the download
    behind an upload answer's `rejected_rows_url`, kept until `expires_at`."""

    __tablename__ = "telecom_upload_rejects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(ForeignKey("carriers.code"))
    upload_id: Mapped[str] = mapped_column(String(36))
    chunk: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    __table_args__ = (
        Index("uq_telecom_upload_rejects_chunk", "carrier", "upload_id", "chunk", unique=True),
    )


class ReconciliationRun(Base):
    """One finished reconciliation: its summary (``Summary.to_json()``, counts only: no
    number, no person) for the officer console's runs page."""

    __tablename__ = "telecom_reconciliation_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    carrier: Mapped[str | None] = mapped_column(String(16))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)  # JSON
    cases_opened: Mapped[int] = mapped_column(Integer)
    cases_resolved: Mapped[int] = mapped_column(Integer)
