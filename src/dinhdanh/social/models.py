"""Social tables: platforms, account bindings, the platforms' events feed and read counters.

A binding keeps nothing a database thief could join across platforms: the account is a keyed
hash of (platform, account id), the citizen is sealed with a context naming the platform and
the account, and the only subject in clear is the platform's own pairwise subject (unrelated
across sectors without the pairwise key). Next to those, the status facts computed at binding
time, in clear: they are what a status read answers without opening anything.
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

    __table_args__ = (Index("ix_platform_bindings_subject", "platform", "pairwise_sub"),)


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
