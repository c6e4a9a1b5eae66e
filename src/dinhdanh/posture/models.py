"""Posture tables: agencies, their information systems and what those expose, scan runs,
findings with their deadlines, and the imported catalogue of known exploited vulnerabilities.

Nothing here is personal data but the responsible staff member, kept as a subject id (a
random UUID, as every domain references a citizen).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.identity.service import SUBJECT_FK
from dinhdanh.store import Base

_TS = DateTime(timezone=True)


class Agency(Base):
    """An organisation of the business registry that registers information systems."""

    __tablename__ = "posture_agencies"

    tax_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("organisations.tax_code"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(_TS)


class InformationSystem(Base):
    __tablename__ = "posture_systems"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    agency: Mapped[str] = mapped_column(ForeignKey("posture_agencies.tax_code"))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(SmallInteger)  # 1-5, Decree 85/2016
    responsible: Mapped[str | None] = mapped_column(ForeignKey(SUBJECT_FK))
    created_at: Mapped[datetime] = mapped_column(_TS)
    updated_at: Mapped[datetime] = mapped_column(_TS)

    __table_args__ = (Index("uq_posture_systems_agency_name", "agency", "name", unique=True),)


class SystemDomain(Base):
    """A registered domain name (A-labels) a system answers under."""

    __tablename__ = "posture_system_domains"

    system_id: Mapped[str] = mapped_column(ForeignKey("posture_systems.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)


class SystemBlock(Base):
    """A registered IP block (normalized CIDR) a system's addresses are in."""

    __tablename__ = "posture_system_blocks"

    system_id: Mapped[str] = mapped_column(ForeignKey("posture_systems.id"), primary_key=True)
    cidr: Mapped[str] = mapped_column(String(43), primary_key=True)


class Endpoint(Base):
    """A service a system exposes: ``scheme://host:port`` (https, http or tcp)."""

    __tablename__ = "posture_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("posture_systems.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(8))
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("uq_posture_endpoints", "system_id", "scheme", "host", "port", unique=True),
    )


class Finding(Base):
    """One problem of one target (an endpoint's URL, or ``dns:NAME``) of a system.

    State: open, acknowledged, fixed (a re-check no longer saw it) or accepted (a risk an
    approver accepted until ``accepted_until``). At most one row per (system, target, code,
    item) is not fixed; a problem seen again after its fix opens a new row.
    """

    __tablename__ = "posture_findings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("posture_systems.id"))
    target: Mapped[str] = mapped_column(String(300))
    code: Mapped[str] = mapped_column(String(40))
    item: Mapped[str] = mapped_column(String(120))  # which one, when a code repeats (a CVE)
    severity: Mapped[str] = mapped_column(String(10))
    evidence: Mapped[str] = mapped_column(Text)  # JSON object
    state: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(_TS)
    deadline: Mapped[datetime | None] = mapped_column(_TS)  # None: severity info
    last_seen_at: Mapped[datetime] = mapped_column(_TS)
    changed_at: Mapped[datetime] = mapped_column(_TS)
    changed_by: Mapped[str | None] = mapped_column(String(200))  # an audit actor
    note: Mapped[str | None] = mapped_column(Text)
    accepted_until: Mapped[datetime | None] = mapped_column(_TS)
    fixed_at: Mapped[datetime | None] = mapped_column(_TS)

    __table_args__ = (
        Index("ix_posture_findings_target", "system_id", "target", "code"),
        Index("ix_posture_findings_state", "state"),
    )


class ScanRun(Base):
    """A scan of some endpoints; its items say which are done, so a killed run resumes."""

    __tablename__ = "posture_scan_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scope: Mapped[str] = mapped_column(Text)  # JSON: the agency and system asked for
    state: Mapped[str] = mapped_column(String(12))  # running | finished
    started_at: Mapped[datetime] = mapped_column(_TS)
    finished_at: Mapped[datetime | None] = mapped_column(_TS)


class ScanItem(Base):
    __tablename__ = "posture_scan_items"

    run_id: Mapped[str] = mapped_column(ForeignKey("posture_scan_runs.id"), primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("posture_systems.id"), primary_key=True)
    target: Mapped[str] = mapped_column(String(300), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))  # pending | done | failed
    attempts: Mapped[int] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(_TS)


class KnownExploited(Base):
    """One entry of a catalogue in CISA KEV's JSON format."""

    __tablename__ = "posture_kev"

    cve_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    date_added: Mapped[date | None] = mapped_column(Date)
