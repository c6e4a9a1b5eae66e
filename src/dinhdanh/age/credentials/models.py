"""Tables of the age credentials: status lists and, per batch issued, how to find its entries.

A status list row holds the list's bits as they are published (``bits``: 1 = revoked) and, next
to them, which indexes are already given out (``taken``); both are bit strings, index ``i`` at
bit ``i % 8`` (least significant first) of byte ``i // 8``, as in the Token Status List draft.

A batch row lets a citizen (or a death in the registry) revoke a batch later: the subject and
the batch's (list, index) pairs are sealed together, and the only other columns are a keyed
hash of the subject for lookups (unjoinable with any other table without the key ring) and
when the batch expires. No index is ever stored in clear beside anything that names a person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.store import Base


class StatusListRow(Base):
    __tablename__ = "age_status_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    taken: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IssuedBatch(Base):
    __tablename__ = "age_credential_batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # random, not time-ordered
    # blind_index(subject id, "age.credentials.holder"): finds a citizen's batches, joins nothing.
    holder: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    # seal({"s": subject id, "e": [[list, index], ...]}, context "age.batch:" + id)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
