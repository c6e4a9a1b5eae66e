"""Social tables: platforms, account bindings, the platforms' events feed and read counters.

A binding keeps nothing a database thief could join across platforms: the account is a keyed
hash of (platform, account id), the citizen is sealed with a context naming the platform and
the account, and the only subject in clear is the platform's own pairwise subject (unrelated
across sectors without the pairwise key); a phone binding's number is a keyed hash of
(platform, number). Next to those, the status facts computed at binding time (the age bands
and guardian state raised later as the owner grows up, age.bands), in clear: they are what a
status read answers without opening anything.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.store import Base


class Platform(Base):
    __tablename__ = "platforms"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Binding(Base):
    __tablename__ = "platform_bindings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    # HMAC of (platform, account id): the platform's own key, opaque to everyone else.
    account_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # The platform's pairwise subject of the citizen (the token's ``sub``).
    pairwise_sub: Mapped[str] = mapped_column(String(64))
    # The citizen's subject id, sealed with context (platform, account id).
    subject_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    method: Mapped[str] = mapped_column(String(16))
    acr: Mapped[str] = mapped_column(String(64))
    age_over_13: Mapped[bool | None] = mapped_column(Boolean)
    age_over_16: Mapped[bool | None] = mapped_column(Boolean)
    age_over_18: Mapped[bool | None] = mapped_column(Boolean)
    owner_deceased: Mapped[bool] = mapped_column(Boolean)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Bound by phone: HMAC of (platform, number), so later flags find the binding (social.phone)
    # while two platforms' rows for one number still differ. None for a login binding.
    number_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # Reconciliation has found that number junk, or a lock case stands on it (JUNK_SIM_OWNER).
    number_junk: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # An account of a child under 16 (age.guardian_rules.Approval): pending until a guardian
    # decides; None for an account that needs no guardian. ``guardian_link``: the link the
    # approval was given under (it ends with that link), sealed to this account: in clear,
    # one link id on two platforms' rows would join them.
    guardian_state: Mapped[str | None] = mapped_column(String(16))
    guardian_link: Mapped[bytes | None] = mapped_column(LargeBinary)
    # How many accounts this person has bound at this platform (ACCOUNT_LIMIT), kept by every
    # binding and revocation (social.service): a status read does not count them.
    accounts: Mapped[int] = mapped_column(Integer, server_default="1")

    __table_args__ = (
        Index("ix_platform_bindings_subject", "platform", "pairwise_sub"),
        Index("ix_platform_bindings_number_key", "number_key"),
    )


class UsedNonce(Base):
    """Nonces of ID tokens already used to bind, per platform (``store.db.record_once``)."""

    __tablename__ = "platform_nonces"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(500), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PlatformEvent(Base):
    """What a platform reads from its events feed, in id order (the cursor)."""

    __tablename__ = "platform_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    account_id: Mapped[str] = mapped_column(String(200))  # the platform's own id
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_platform_events_feed", "platform", "id"),)


class StatusReads(Base):
    """How many account statuses a platform read on one day: the sum over a platform-day's
    slots. Concurrent reads add to different slots (one per database connection), so they
    do not queue on one row's lock while each commit is flushed to disk."""

    __tablename__ = "platform_status_reads"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    reads: Mapped[int] = mapped_column(Integer)


class RiskScore(Base):
    """The platform's latest fake-account ranking: one row per ranked account, replaced whole
    by each `dinhdanh social rank`. Keyed like a binding (``account_key``), so a status read
    finds it by the same key and it joins nothing across platforms."""

    __tablename__ = "platform_risk"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(String(200))  # codes joined by ","

    # SQLite: the rows live in the primary key's B-tree, not in a rowid table beside it.
    __table_args__ = ({"sqlite_with_rowid": False},)


class FirstReport(Base):
    """When the platform first mentioned an account (a status read, an uploaded graph or
    labels): the start of its grace period before ``UNVERIFIED``. Written once per account,
    by inserts that skip an existing row."""

    __tablename__ = "platform_first_reports"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = ({"sqlite_with_rowid": False},)


class PhoneCheck(Base):
    """A code sent to a number for binding one account (social.phone): single use, expiring,
    a few attempts. The account id and the number are sealed to this row; the code is kept
    only as an HMAC under the blind-index key (a database copy cannot try the million codes)."""

    __tablename__ = "platform_phone_checks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    code_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    attempts: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PhoneCheckCount(Base):
    """Phone checks started in the current window, per number, per account and per platform
    (``key``); counted under a row lock (social.phone)."""

    __tablename__ = "platform_phone_counts"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer)
