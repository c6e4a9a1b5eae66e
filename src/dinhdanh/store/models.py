"""Tables of the storage layer itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.store.db import Base


class ImportRun(Base):
    """Progress ledger of one batch import: committed with each chunk, so a killed run resumes."""

    __tablename__ = "import_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    scope: Mapped[str] = mapped_column(String(100))  # e.g. the carrier a feed belongs to
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_name: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    next_line: Mapped[int] = mapped_column(Integer)
    total_rows: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SnapshotGeneration(Base):
    """How many times the rows behind a Parquet snapshot were written (store.snapshots)."""

    __tablename__ = "snapshot_generations"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # citizens, subscriptions:VTL
    generation: Mapped[int] = mapped_column(BigInteger)
