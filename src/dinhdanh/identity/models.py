"""Citizen registry tables. Every personal field is sealed; lookups go through blind indexes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.store import Base


class Citizen(Base):
    __tablename__ = "citizens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # random UUID, never the ID no.
    id_bidx: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    name_bidx: Mapped[bytes] = mapped_column(LargeBinary(16))
    dob_bidx: Mapped[bytes] = mapped_column(LargeBinary(16))
    guardian_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    phone_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    # The one personal fact kept outside the seal: junk-SIM reconciliation must find the SIMs
    # of deceased owners without decrypting the registry (their dates are then opened one by one).
    deceased: Mapped[bool] = mapped_column(Boolean)
    # The whole record (CitizenRecord.canonical()) sealed as one AES-GCM ciphertext bound to
    # this row's id: one seal per row instead of one per field keeps a 1 M import fast.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Keyed digest of the whole record: a re-import of unchanged data is detected without
    # decrypting anything.
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_citizens_name_dob", "name_bidx", "dob_bidx"),
        # Partial: most citizens have neither, and a million-row import pays per index entry.
        Index(
            "ix_citizens_guardian",
            "guardian_bidx",
            sqlite_where=text("guardian_bidx IS NOT NULL"),
            postgresql_where=text("guardian_bidx IS NOT NULL"),
        ),
        Index(
            "ix_citizens_phone",
            "phone_bidx",
            sqlite_where=text("phone_bidx IS NOT NULL"),
            postgresql_where=text("phone_bidx IS NOT NULL"),
        ),
        # The deceased (about 0.5 %), whom every reconciliation opens: found without reading
        # the whole registry (its WHERE is the query's, Registry.dates_of_death).
        Index(
            "ix_citizens_deceased",
            "id",
            sqlite_where=text("deceased IS 1"),
            postgresql_where=text("deceased IS true"),
        ),
    )


class BirthDateCorrection(Base):
    """A citizen whose registry birth date changed (``Registry.apply``): the age bands their
    platforms hold and their age credentials are rechecked (``age.bands``), then the row
    goes. Holds no date: the recheck tells it from the record's blind index."""

    __tablename__ = "birth_date_corrections"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    corrected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
