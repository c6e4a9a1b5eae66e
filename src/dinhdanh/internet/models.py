"""Internet-resource tables: organisations, registrars, domains, IP blocks, AS numbers.

What an organisation is (tax code, name, address, status, dates) is public and kept in clear.
Personal values are not: an organisation's legal representative and a person registering a
domain are kept as the registry's blind indexes (identity/indexes.py, the same bytes as the
citizens' rows, so lookups and DuckDB joins match them) plus one sealed copy of what the feed
stated, bound to its row, for the full record a staff member with a legal basis may read.

Holders and registrants are referenced by tax code without a foreign key: a registration may
name an organisation the business registry does not (yet) list, which reconciliation reports
rather than the import refusing it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.store import Base


class Organisation(Base):
    """One enterprise or branch of the business registry, keyed by its tax code."""

    __tablename__ = "organisations"

    tax_code: Mapped[str] = mapped_column(String(13), primary_key=True)  # stdnum compact form
    head_tax_code: Mapped[str] = mapped_column(String(10), index=True)  # a branch's enterprise
    name: Mapped[str] = mapped_column(String(500))
    address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    established: Mapped[date | None] = mapped_column(Date)
    dissolved: Mapped[date | None] = mapped_column(Date)
    # The legal representative: the ID number's blind index, and the number sealed to the row.
    rep_id_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    rep_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_organisations_rep_id_bidx", "rep_id_bidx"),)


class Registrar(Base):
    __tablename__ = "registrars"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Domain(Base):
    """A registered name under .vn, held through one registrar.

    A person registrant is kept like a subscriber (telecom.models.Subscription): blind indexes
    of the stated ID number, name and birth date, one fact computed at upload (under the
    minor age on the day of registration), and the stated record sealed to the row's name.
    An organisation registrant is its tax code and stated name, in clear.
    """

    __tablename__ = "domains"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    ascii_name: Mapped[str] = mapped_column(String(253))  # A-labels, lower case: the key
    unicode_name: Mapped[str] = mapped_column(String(253))  # U-labels
    suffix: Mapped[str] = mapped_column(String(253))  # public suffix (A-labels): vn, com.vn
    registrar: Mapped[str] = mapped_column(ForeignKey("registrars.code"))
    registrant_type: Mapped[str] = mapped_column(String(12))  # person | organisation
    registrant_tax_code: Mapped[str | None] = mapped_column(String(13))
    registrant_name: Mapped[str | None] = mapped_column(String(500))  # organisations only
    registrant_id_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    registrant_name_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    registrant_dob_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    registrant_minor: Mapped[bool | None] = mapped_column(Boolean)  # at `created`
    registrant_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created: Mapped[date] = mapped_column(Date)
    expires: Mapped[date] = mapped_column(Date)
    nameservers: Mapped[str] = mapped_column(Text)  # A-labels, space-separated
    status: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("uq_domains_ascii_name", "ascii_name", unique=True),
        Index("ix_domains_registrar", "registrar"),
        Index("ix_domains_unicode_name", "unicode_name"),
        Index("ix_domains_registrant_id_bidx", "registrant_id_bidx"),
        Index("ix_domains_registrant_tax_code", "registrant_tax_code"),
    )


class IpBlock(Base):
    """An allocation of addresses (internet/ipindex.py: how the bounds compare)."""

    __tablename__ = "ip_blocks"

    cidr: Mapped[str] = mapped_column(String(43), primary_key=True)  # normalized text
    family: Mapped[int] = mapped_column(SmallInteger)  # 4 | 6
    range_start: Mapped[bytes] = mapped_column(LargeBinary(16))  # first address, 16 bytes BE
    range_end: Mapped[bytes] = mapped_column(LargeBinary(16))  # last address
    prefixlen: Mapped[int] = mapped_column(SmallInteger)
    holder_tax_code: Mapped[str] = mapped_column(String(13))
    asn: Mapped[int | None] = mapped_column(BigInteger)
    allocated: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("uq_ip_blocks_bounds", "family", "range_start", "prefixlen", unique=True),
        Index("ix_ip_blocks_holder", "holder_tax_code"),
    )


class AutNum(Base):
    """An autonomous system number and its holder."""

    __tablename__ = "asns"

    asn: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    holder_tax_code: Mapped[str] = mapped_column(String(13), index=True)
    name: Mapped[str] = mapped_column(String(200))
    allocated: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UploadReject(Base):
    """A chunk of a registrar upload's rejected rows, sealed (store/rejects.py)."""

    __tablename__ = "internet_upload_rejects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registrar: Mapped[str] = mapped_column(ForeignKey("registrars.code"))
    upload_id: Mapped[str] = mapped_column(String(36))
    chunk: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    __table_args__ = (
        Index("uq_internet_upload_rejects_chunk", "registrar", "upload_id", "chunk", unique=True),
    )


class RateWindow(Base):
    """A client's count of anonymous RDAP queries in the current fixed window, shared by
    every server process on the database (internet/ratelimit.py). The client is a keyed
    hash of its address, never the address."""

    __tablename__ = "rdap_rate_windows"

    client: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    window_no: Mapped[int] = mapped_column(BigInteger)  # unix time // window seconds
    hits: Mapped[int] = mapped_column(Integer)


class DomainDisownment(Base):
    """A citizen's "not mine" about a name registered to their ID number.

    It holds for the name and the registrant it was said about (``id_bidx``): when the
    registrar re-uploads the name with another registrant, it no longer applies.
    """

    __tablename__ = "domain_disownments"

    ascii_name: Mapped[str] = mapped_column(String(253), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    id_bidx: Mapped[bytes] = mapped_column(LargeBinary(16))
    registrar: Mapped[str] = mapped_column(String(16))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DomainFlag(Base):
    """A name the last reconciliation (or a disowning) flagged, with its reasons: what the
    registrar was last told, so a rerun sends an action only when something changed."""

    __tablename__ = "domain_flags"

    ascii_name: Mapped[str] = mapped_column(String(253), primary_key=True)
    registrar: Mapped[str] = mapped_column(String(16), index=True)
    reasons: Mapped[str] = mapped_column(Text)  # comma-separated, sorted
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegistrarAction(Base):
    """An instruction a registrar fetches and acknowledges (internet/feed.py)."""

    __tablename__ = "registrar_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registrar: Mapped[str] = mapped_column(String(16))
    ascii_name: Mapped[str] = mapped_column(String(253))
    action: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[str] = mapped_column(Text)  # comma-separated, sorted
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_registrar_actions_pending", "registrar", "acknowledged_at"),)


class ReconciliationRun(Base):
    """One finished internet reconciliation: its summary (counts only) as JSON."""

    __tablename__ = "internet_reconciliation_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)  # JSON
    flags_opened: Mapped[int] = mapped_column(Integer)
    flags_cleared: Mapped[int] = mapped_column(Integer)
