"""Table of staff grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.identity.service import SUBJECT_FK
from dinhdanh.store import Base

_TS = DateTime(timezone=True)


class StaffGrant(Base):
    """One role for one citizen, for one organisation, until ``expires_at`` or revocation.
    Rows are never deleted: an ended grant still explains the audit entries made under it."""

    __tablename__ = "staff_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey(SUBJECT_FK), index=True)
    role: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(200))  # an audit actor
    granted_at: Mapped[datetime] = mapped_column(_TS)
    expires_at: Mapped[datetime] = mapped_column(_TS)
    revoked_at: Mapped[datetime | None] = mapped_column(_TS)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
