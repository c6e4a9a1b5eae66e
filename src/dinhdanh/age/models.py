"""Guardian links. Subjects are the registry's random subject ids, never ID numbers.

The child's birth date is not copied here: whether a link still holds (it ends on the
child's 18th birthday) is decided by opening it from the registry, audited.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.identity.service import SUBJECT_FK
from dinhdanh.store import Base


class GuardianLink(Base):
    __tablename__ = "guardian_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    child: Mapped[str] = mapped_column(ForeignKey(SUBJECT_FK))
    guardian: Mapped[str] = mapped_column(ForeignKey(SUBJECT_FK), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    # registry (the citizen feed's guardian_id_number), feed (dinhdanh import guardians),
    # officer (added through the staff API with a legal basis)
    source: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # the last day it holds
    ended_on: Mapped[date | None] = mapped_column(Date)  # the first day it no longer holds
    end_reason: Mapped[str | None] = mapped_column(String(32))
    legal_basis: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("child", "guardian", "source", name="uq_guardian_links_pair"),
        Index("ix_guardian_links_child", "child"),
    )


class AgeBandRefresh(Base):
    """How far platform bindings' age bands are refreshed (``age.bands``): one row, the last
    day covered, so a run twice changes nothing and a missed period is caught up."""

    __tablename__ = "age_band_refresh"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    through: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
