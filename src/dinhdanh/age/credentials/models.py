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

from sqlalchemy import Boolean, DateTime, Integer, LargeBinary, String
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


# -- OpenID4VCI and OpenID4VP (``vci.py``, ``vp.py``) -------------------------------------


class VciOffer(Base):
    """A credential offer's pre-authorized code and the access token it buys: each single
    use, short lived, stored as a SHA-256. The row goes when its batch is issued (only the
    sealed batch row stays) or, unused, once it has expired."""

    __tablename__ = "age_vci_offers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36))
    code_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    code_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    code_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class VciNonce(Base):
    """A ``c_nonce`` spent by a credential request (SHA-256), kept until it would have
    expired so that it is never spent twice (the nonce endpoint itself stores nothing)."""

    __tablename__ = "age_vci_nonces"

    nonce_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class VpRequest(Base):
    """A platform's request for one age claim (OpenID4VP) and, once answered, its result:
    the claim's value only. ``state``: pending, verified, rejected."""

    __tablename__ = "age_vp_requests"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)  # random, in the response_uri
    platform: Mapped[str] = mapped_column(String(64), index=True)
    claim: Mapped[str] = mapped_column(String(20))
    nonce: Mapped[str] = mapped_column(String(43))
    state: Mapped[str] = mapped_column(String(10))
    value: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
