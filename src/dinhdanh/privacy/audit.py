"""The tamper-evident audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical bytes,
so editing, deleting, inserting or reordering any row breaks the chain from that row on. A
database writer could rebuild the whole chain, so every N entries (and at shutdown) the tip is
signed with the hybrid key (Ed25519 + ML-DSA-65), which lives outside the database.
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from dinhdanh.crypto import CryptoError, KeyRing, sign_hybrid, verify_hybrid
from dinhdanh.privacy.models import AuditCheckpoint, AuditEntry, AuditHead
from dinhdanh.store.bulk import insert_rows

GENESIS = b"\x00" * 32
_CHECKPOINT_DOMAIN = b"dinhdanh/audit-checkpoint/1"
ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]
_ENTRY_COLUMNS = (
    "seq",
    "actor",
    "role",
    "purpose",
    "action",
    "subject",
    "fields",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str
    role: str
    purpose: str
    action: str
    subject: str | None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessContext:
    """Who is touching personal data, in which role, and why: the head of every audit entry."""

    actor: str
    role: str
    purpose: str
    organisation: str | None = None
    legal_basis: str | None = None
    case_ref: str | None = None
    disclose_after: datetime | None = None

    def event(self, action: str, subject: str | None, fields: tuple[str, ...]) -> AuditEvent:
        return AuditEvent(self.actor, self.role, self.purpose, action, subject, fields)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    entries: int
    checkpoints: int
    first_bad_seq: int | None = None
    problem: str | None = None


def _timestamp(at: datetime) -> str:
    # SQLite hands back naive datetimes; hash the UTC wall time so both databases agree.
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


# Hot path of every import: actors, roles and purposes repeat, so their JSON is cached.
_json = functools.lru_cache(maxsize=4096)(functools.partial(json.dumps, ensure_ascii=False))


def entry_hash(
    prev_hash: bytes,
    seq: int,
    timestamp: str,
    actor: str,
    role: str,
    purpose: str,
    action: str,
    subject: str | None,
    fields: str,
) -> bytes:
    """SHA-256 over the previous hash and the entry as a compact JSON array.

    The same bytes as json.dumps([seq, timestamp, ...], separators=(",", ":")): JSON framing
    keeps the fields unambiguous whatever characters a purpose contains.
    """
    subj = "null" if subject is None else json.dumps(subject, ensure_ascii=False)
    body = (
        f"[{seq},{_json(timestamp)},{_json(actor)},{_json(role)},{_json(purpose)},"
        f"{_json(action)},{subj},{_json(fields)}]"
    )
    return hashlib.sha256(prev_hash + body.encode()).digest()


def _checkpoint_bytes(seq: int, digest: bytes, at: datetime) -> bytes:
    return _CHECKPOINT_DOMAIN + struct.pack(">Q", seq) + digest + _timestamp(at).encode()


class AuditLog:
    def __init__(self, ring: KeyRing, checkpoint_every: int = 1000) -> None:
        self._ring = ring
        self._every = checkpoint_every

    def _head(self, session: Session) -> AuditHead:
        head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
        if head is None:
            head = AuditHead(id=1, seq=0, hash=GENESIS, checkpointed_seq=0)
            session.add(head)
            session.flush()
        return head

    def append(self, session: Session, events: Sequence[AuditEvent], at: datetime) -> None:
        """Append events in order, in the caller's transaction."""
        if not events:
            return
        head = self._head(session)
        seq, prev, ts = head.seq, head.hash, _timestamp(at)
        rows = []
        for ev in events:
            seq += 1
            fields = ",".join(ev.fields)
            digest = entry_hash(
                prev, seq, ts, ev.actor, ev.role, ev.purpose, ev.action, ev.subject, fields
            )
            rows.append(
                (seq, ev.actor, ev.role, ev.purpose, ev.action, ev.subject, fields, prev, digest)
            )
            prev = digest
        insert_rows(session, ENTRIES, _ENTRY_COLUMNS, rows, constants={"at": at})
        head.seq, head.hash = seq, prev
        if head.seq - head.checkpointed_seq >= self._every:
            self._sign(session, head, at)

    def checkpoint(self, session: Session, at: datetime) -> bool:
        """Sign the tip if anything was appended since the last checkpoint (call at shutdown)."""
        head = self._head(session)
        if head.seq == head.checkpointed_seq:
            return False
        self._sign(session, head, at)
        return True

    def _sign(self, session: Session, head: AuditHead, at: datetime) -> None:
        signature = sign_hybrid(self._ring, _checkpoint_bytes(head.seq, head.hash, at))
        session.add(AuditCheckpoint(seq=head.seq, hash=head.hash, at=at, signature=signature))
        head.checkpointed_seq = head.seq

    def for_subject(self, session: Session, subject: str, limit: int = 100) -> list[AuditEntry]:
        stmt = (
            select(AuditEntry)
            .where(AuditEntry.subject == subject)
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
        )
        return list(session.scalars(stmt))

    def verify(self, session: Session) -> VerifyReport:
        """Walk the whole chain; name the first entry that does not check out."""
        checkpoints = {c.seq: c for c in session.scalars(select(AuditCheckpoint))}
        expected_seq, prev, count = 1, GENESIS, 0

        def bad(seq: int, problem: str) -> VerifyReport:
            return VerifyReport(False, count, len(checkpoints), seq, problem)

        stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=5000)
        rows = session.scalars(stmt)
        try:
            for entry in rows:
                if entry.seq != expected_seq:
                    return bad(expected_seq, f"entry {expected_seq} is missing (found {entry.seq})")
                if entry.prev_hash != prev:
                    return bad(entry.seq, f"entry {entry.seq} does not link to the one before")
                digest = entry_hash(
                    prev,
                    entry.seq,
                    _timestamp(entry.at),
                    entry.actor,
                    entry.role,
                    entry.purpose,
                    entry.action,
                    entry.subject,
                    entry.fields,
                )
                if digest != entry.hash:
                    return bad(entry.seq, f"entry {entry.seq} was altered (hash mismatch)")
                cp = checkpoints.get(entry.seq)
                problem = self._check_checkpoint(cp, digest) if cp else None
                if problem:
                    return bad(entry.seq, problem)
                prev, expected_seq, count = digest, expected_seq + 1, count + 1
        finally:
            rows.close()  # a server-side cursor on PostgreSQL when we stop early

        last = expected_seq - 1
        beyond = [s for s in checkpoints if s > last]
        if beyond:
            return bad(last + 1, f"entries after {last} were deleted (checkpoint {min(beyond)})")
        head = session.get(AuditHead, 1)
        if head is not None and (head.seq != last or head.hash != prev):
            return bad(last + 1, f"the chain ends at entry {last} but its head says {head.seq}")
        return VerifyReport(True, count, len(checkpoints))

    def _check_checkpoint(self, cp: AuditCheckpoint, digest: bytes) -> str | None:
        if cp.hash != digest:
            return f"checkpoint {cp.seq} does not match entry {cp.seq}"
        try:
            verify_hybrid(self._ring, _checkpoint_bytes(cp.seq, cp.hash, cp.at), cp.signature)
        except CryptoError:
            return f"checkpoint {cp.seq} has a bad signature"
        return None
