"""The tamper-evident audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical bytes,
so editing, deleting, inserting or reordering any row breaks the chain from that row on. A
database writer could rebuild the whole chain, so every N entries (and at shutdown) the tip is
signed with the hybrid key (Ed25519 + ML-DSA-65), which lives outside the database.

Entry format 2 adds who on what basis (organisation, legal basis, case reference) and until
when the citizen may not see the entry (disclose_after). Its hashed bytes begin with the
version, so a version-2 row relabelled 1 no longer matches; a version-1 row must have those
columns empty, so filling them in (a delay on an old entry, say) breaks it too. Entries
written before format 2 keep their bytes: nothing already signed is re-chained.

Format 3 spreads the log over several chains (ADR 0018): an entry goes to chain
``hash(subject) mod chains`` and is hashed with its chain and its position there, so appends
for different people lock different head rows and server nodes stop taking turns on one.
A checkpoint signs the heads of every chain together. ``seq`` stays unique over the log (a
PostgreSQL sequence; gaps allowed) and is hashed too. Rows of formats 1 and 2 are chain 0
with their ``seq`` as position: chain 0 continues the single chain of before, and the
checkpoints signed before keep verifying.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from dinhdanh.crypto import CryptoError, KeyRing, sign_hybrid, verify_hybrid
from dinhdanh.privacy.models import AuditChainCheckpoint, AuditCheckpoint, AuditEntry, AuditHead
from dinhdanh.store.bulk import insert_rows
from dinhdanh.store.db import insert_missing

GENESIS = b"\x00" * 32
_CHECKPOINT_DOMAIN = b"dinhdanh/audit-checkpoint/1"
_CHAINS_DOMAIN = b"dinhdanh/audit-checkpoint/2"
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
    "chain",
    "chain_seq",
)
FORMAT = 3  # of the entries this code writes


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str
    role: str
    purpose: str
    action: str
    subject: str | None
    fields: tuple[str, ...] = ()
    organisation: str | None = None
    legal_basis: str | None = None
    case_ref: str | None = None
    disclose_after: datetime | None = None


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
        # Bulk paths make an event per row (a million for a registry load): set through the
        # slots, not the frozen dataclass's __init__ (object.__setattr__ per field), about
        # twice as fast; equal to AuditEvent(...) field by field (tests/privacy).
        ev: AuditEvent = object.__new__(AuditEvent)
        _set_actor(ev, self.actor)
        _set_role(ev, self.role)
        _set_purpose(ev, self.purpose)
        _set_action(ev, action)
        _set_subject(ev, subject)
        _set_fields(ev, fields)
        _set_organisation(ev, self.organisation)
        _set_legal_basis(ev, self.legal_basis)
        _set_case_ref(ev, self.case_ref)
        _set_disclose_after(ev, self.disclose_after)
        return ev


_EVENT_SLOTS = AuditEvent.__dict__
_set_actor = _EVENT_SLOTS["actor"].__set__
_set_role = _EVENT_SLOTS["role"].__set__
_set_purpose = _EVENT_SLOTS["purpose"].__set__
_set_action = _EVENT_SLOTS["action"].__set__
_set_subject = _EVENT_SLOTS["subject"].__set__
_set_fields = _EVENT_SLOTS["fields"].__set__
_set_organisation = _EVENT_SLOTS["organisation"].__set__
_set_legal_basis = _EVENT_SLOTS["legal_basis"].__set__
_set_case_ref = _EVENT_SLOTS["case_ref"].__set__
_set_disclose_after = _EVENT_SLOTS["disclose_after"].__set__


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    entries: int
    checkpoints: int
    first_bad_seq: int | None = None
    problem: str | None = None
    chain: int | None = None


def _timestamp(at: datetime) -> str:
    # SQLite hands back naive datetimes; hash the UTC wall time so both databases agree.
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


# Hot path of every import: actors, roles and purposes repeat, so their JSON is cached.
_json = functools.lru_cache(maxsize=4096)(functools.partial(json.dumps, ensure_ascii=False))
_json_str: Callable[[str], str] = json.encoder.encode_basestring


def _opt(value: str | None) -> str:
    return "null" if value is None else _json(value)


def _core(
    seq: int,
    timestamp: str,
    actor: str,
    role: str,
    purpose: str,
    action: str,
    subject: str | None,
    fields: str,
) -> str:
    # What json.dumps(subject, ensure_ascii=False) returns for a str, without its Python
    # wrapper (a sixth of an append's own time: subjects do not repeat, so are not cached).
    subj = "null" if subject is None else _json_str(subject)
    return (
        f"{seq},{_json(timestamp)},{_json(actor)},{_json(role)},{_json(purpose)},"
        f"{_json(action)},{subj},{_json(fields)}"
    )


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
    """Format 1: SHA-256 over the previous hash and the entry as a compact JSON array.

    The same bytes as json.dumps([seq, timestamp, ...], separators=(",", ":")): JSON framing
    keeps the fields unambiguous whatever characters a purpose contains.
    """
    body = f"[{_core(seq, timestamp, actor, role, purpose, action, subject, fields)}]"
    return hashlib.sha256(prev_hash + body.encode()).digest()


def _tail_v2(
    organisation: str | None, legal_basis: str | None, case_ref: str | None, disclose: str | None
) -> str:
    return f",{_opt(organisation)},{_opt(legal_basis)},{_opt(case_ref)},{_opt(disclose)}]"


def entry_hash_v2(
    prev_hash: bytes,
    seq: int,
    timestamp: str,
    actor: str,
    role: str,
    purpose: str,
    action: str,
    subject: str | None,
    fields: str,
    organisation: str | None,
    legal_basis: str | None,
    case_ref: str | None,
    disclose_after: str | None,
) -> bytes:
    """Format 2: json.dumps([2, seq, timestamp, ..., fields, organisation, legal_basis,
    case_ref, disclose_after], separators=(",", ":")) after the previous hash. The leading 2
    is the format itself, so the version of a row is as tamper-evident as its contents."""
    core = _core(seq, timestamp, actor, role, purpose, action, subject, fields)
    return _digest_v2(
        prev_hash, core, _tail_v2(organisation, legal_basis, case_ref, disclose_after)
    )


def _digest_v2(prev_hash: bytes, core: str, tail: str) -> bytes:
    return hashlib.sha256(prev_hash + f"[2,{core}{tail}".encode()).digest()


# seq, timestamp, actor, role, purpose, action, subject, fields, organisation, legal_basis,
# case_ref, disclose_after: what format 2 hashes after the previous hash.
EntryFields = tuple[
    int, str, str, str, str, str, str | None, str, str | None, str | None, str | None, str | None
]


def entry_hash_v3(prev_hash: bytes, chain: int, chain_seq: int, entry: EntryFields) -> bytes:
    """Format 3: json.dumps([3, chain, chain_seq, seq, timestamp, ..., disclose_after],
    separators=(",", ":")) after the previous hash of the same chain."""
    core = _core(*entry[:8])
    return _digest_v3(prev_hash, chain, chain_seq, core, _tail_v2(*entry[8:]))


def _digest_v3(prev_hash: bytes, chain: int, chain_seq: int, core: str, tail: str) -> bytes:
    return hashlib.sha256(prev_hash + f"[3,{chain},{chain_seq},{core}{tail}".encode()).digest()


def _optional_timestamp(at: datetime | None) -> str | None:
    return None if at is None else _timestamp(at)


def _stored_hash(entry: AuditEntry) -> bytes | None:
    """The hash the row should carry given its format and contents; None if the row cannot
    be a valid entry of its format."""
    args = (
        entry.prev_hash,
        entry.seq,
        _timestamp(entry.at),
        entry.actor,
        entry.role,
        entry.purpose,
        entry.action,
        entry.subject,
        entry.fields,
    )
    extra = (entry.organisation, entry.legal_basis, entry.case_ref, entry.disclose_after)
    org, basis, case_ref, disclose = extra
    if entry.format == FORMAT:
        if entry.chain_seq is None:
            return None
        fields = (*args[1:], org, basis, case_ref, _optional_timestamp(disclose))
        return entry_hash_v3(entry.prev_hash, entry.chain, entry.chain_seq, fields)
    if entry.chain != 0 or entry.chain_seq is not None:
        return None  # entries of the single chain of before are chain 0's
    if entry.format == 1:
        return None if any(v is not None for v in extra) else entry_hash(*args)
    if entry.format == 2:
        return entry_hash_v2(*args, org, basis, case_ref, _optional_timestamp(disclose))
    return None


def _disclosure(ev: AuditEvent) -> tuple[str | None, str | None, str | None, datetime | None]:
    return ev.organisation, ev.legal_basis, ev.case_ref, ev.disclose_after


def _checkpoint_bytes(seq: int, digest: bytes, at: datetime) -> bytes:
    return _CHECKPOINT_DOMAIN + struct.pack(">Q", seq) + digest + _timestamp(at).encode()


_HEAD = struct.Struct(">IQ32s")  # chain, position, hash


def pack_heads(heads: Sequence[tuple[int, int, bytes]]) -> bytes:
    return struct.pack(">I", len(heads)) + b"".join(_HEAD.pack(*h) for h in sorted(heads))


def unpack_heads(packed: bytes) -> list[tuple[int, int, bytes]] | None:
    """The (chain, position, hash) triples of a checkpoint; None if malformed."""
    if len(packed) < 4:
        return None
    (count,) = struct.unpack_from(">I", packed)
    if len(packed) != 4 + count * _HEAD.size:
        return None
    return [_HEAD.unpack_from(packed, 4 + i * _HEAD.size) for i in range(count)]


def _chains_checkpoint_bytes(heads: bytes, at: datetime) -> bytes:
    return _CHAINS_DOMAIN + _timestamp(at).encode() + b"|" + heads


def chain_of(subject: str | None, actor: str, chains: int) -> int:
    """The chain of an entry: a hash of its subject (of its actor when it has none)."""
    if chains == 1:
        return 0
    key = (subject if subject is not None else actor).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % chains


@dataclass(slots=True)
class _Anchor:
    """What a signed checkpoint says one chain's entry at one position hashes to."""

    label: str
    digest: bytes
    signed: bool  # the signature verified


@dataclass(slots=True)
class _Tip:
    position: int = 0
    digest: bytes = GENESIS
    seq: int = 0  # the global seq of the chain's last entry


class AuditLog:
    def __init__(self, ring: KeyRing, checkpoint_every: int = 1000, chains: int = 1) -> None:
        self._ring = ring
        self.chains = chains
        # Per chain, so that the whole log is signed about every ``checkpoint_every`` entries.
        self._every = max(1, -(-checkpoint_every // chains))

    def _lock(self, session: Session, chains: Sequence[int]) -> dict[int, AuditHead]:
        """Lock the heads of ``chains`` (in order, so appenders cannot deadlock), creating
        missing ones at the genesis."""
        stmt = (
            select(AuditHead)
            .where(AuditHead.id.in_(chains))
            .order_by(AuditHead.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        heads = {h.id: h for h in session.scalars(stmt)}
        if len(heads) < len(chains):
            zero = {"seq": 0, "hash": GENESIS, "checkpointed_seq": 0}
            missing = sorted(set(range(self.chains)) | set(chains))
            insert_missing(session, AuditHead, [{"id": c, **zero} for c in missing])
            heads = {h.id: h for h in session.scalars(stmt)}
        return heads

    def _seqs(self, session: Session, n: int) -> list[int]:
        """``n`` fresh global seqs, ascending: a sequence on PostgreSQL (no lock across
        chains), the next after the largest on SQLite (which writes one at a time)."""
        if session.get_bind().dialect.name == "postgresql":
            stmt = text("SELECT nextval('audit_entries_seq') FROM generate_series(1, :n)")
            return sorted(session.scalars(stmt, {"n": n}))
        last = session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))
        return list(range(int(last or 0) + 1, int(last or 0) + n + 1))

    def append(self, session: Session, events: Sequence[AuditEvent], at: datetime) -> None:
        """Append events in order (within each chain), in the caller's transaction."""
        if not events:
            return
        chains = [chain_of(ev.subject, ev.actor, self.chains) for ev in events]
        heads = self._lock(session, sorted(set(chains)))
        # Seqs only once the heads are held: then, within a chain, a later position always
        # has a larger seq (the verifier walks by seq). In the order of the events.
        seqs = self._seqs(session, len(events))
        by_chain: dict[int, list[tuple[int, AuditEvent]]] = {}
        for chain, seq, ev in zip(chains, seqs, events, strict=True):
            by_chain.setdefault(chain, []).append((seq, ev))
        ts = _timestamp(at)
        due = False
        for chain in sorted(by_chain):
            head = heads[chain]
            position, prev = head.seq, head.hash
            # Events of one context share their format-2 columns: each run of them is one
            # insert with those columns as constants, so the rows stay narrow.
            for (org, basis, case_ref, disclose), run in itertools.groupby(
                by_chain[chain], lambda item: _disclosure(item[1])
            ):
                tail = _tail_v2(org, basis, case_ref, _optional_timestamp(disclose))
                rows = []
                for seq, ev in run:
                    position += 1
                    fields = ",".join(ev.fields)
                    core = _core(
                        seq, ts, ev.actor, ev.role, ev.purpose, ev.action, ev.subject, fields
                    )
                    digest = _digest_v3(prev, chain, position, core, tail)
                    rows.append(
                        (
                            seq,
                            ev.actor,
                            ev.role,
                            ev.purpose,
                            ev.action,
                            ev.subject,
                            fields,
                            prev,
                            digest,
                            chain,
                            position,
                        )
                    )
                    prev = digest
                extra = {
                    "organisation": org,
                    "legal_basis": basis,
                    "case_ref": case_ref,
                    "disclose_after": disclose,
                }
                # Empty ones are left to the column default (NULL): fewer values per row.
                constants = {"at": at, "format": FORMAT} | {
                    k: v for k, v in extra.items() if v is not None
                }
                insert_rows(session, ENTRIES, _ENTRY_COLUMNS, rows, constants=constants)
            head.seq, head.hash = position, prev
            due = due or head.seq - head.checkpointed_seq >= self._every
        if due and self._uncovered(session, heads):
            self._sign(session, heads, at)

    def _uncovered(self, session: Session, held: dict[int, AuditHead]) -> bool:
        """Whether a held chain has ``_every`` entries no checkpoint signed yet. A signing
        covers every chain, the ones its transaction did not hold at their committed tips, but
        resets only the held chains' counters; the others learn it here (without this, each
        chain signed on its own count: 16 chains signed every ~63 entries, not every 1,000)."""
        stmt = select(AuditChainCheckpoint.heads).order_by(AuditChainCheckpoint.id.desc())
        latest = session.scalars(stmt.limit(1)).first()
        covered = {c: pos for c, pos, _ in unpack_heads(latest) or ()} if latest else {}
        for chain, head in held.items():
            head.checkpointed_seq = max(head.checkpointed_seq, covered.get(chain, 0))
        return any(h.seq - h.checkpointed_seq >= self._every for h in held.values())

    def checkpoint(self, session: Session, at: datetime) -> bool:
        """Sign every chain's head if anything was appended since the last checkpoint (call
        at shutdown)."""
        ids = list(session.scalars(select(AuditHead.id)))
        heads = self._lock(session, ids) if ids else {}
        if all(h.seq == h.checkpointed_seq for h in heads.values()):
            return False
        self._sign(session, heads, at)
        return True

    def _sign(self, session: Session, held: dict[int, AuditHead], at: datetime) -> None:
        """Sign the heads of all chains together: those this transaction holds as it leaves
        them, the others as last committed (their entries are committed, so the signed
        positions exist whatever this transaction does)."""
        session.flush()
        tips = {h.id: (h.id, h.seq, h.hash) for h in session.scalars(select(AuditHead))}
        tips.update({c: (c, h.seq, h.hash) for c, h in held.items()})
        packed = pack_heads(list(tips.values()))
        signature = sign_hybrid(self._ring, _chains_checkpoint_bytes(packed, at))
        session.add(AuditChainCheckpoint(at=at, heads=packed, signature=signature))
        for head in held.values():
            head.checkpointed_seq = head.seq

    def for_subject(self, session: Session, subject: str, limit: int = 100) -> list[AuditEntry]:
        stmt = (
            select(AuditEntry)
            .where(AuditEntry.subject == subject)
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
        )
        return list(session.scalars(stmt))

    def _anchors(self, session: Session) -> tuple[dict[tuple[int, int], list[_Anchor]], int]:
        """Every signed checkpoint as (chain, position) -> what it says; and their number."""
        anchors: dict[tuple[int, int], list[_Anchor]] = {}
        count = 0
        for cp in session.scalars(select(AuditCheckpoint)):  # format 1: chain 0 only
            count += 1
            try:
                verify_hybrid(self._ring, _checkpoint_bytes(cp.seq, cp.hash, cp.at), cp.signature)
                signed = True
            except CryptoError:
                signed = False
            anchors.setdefault((0, cp.seq), []).append(
                _Anchor(f"checkpoint {cp.seq}", cp.hash, signed)
            )
        for ccp in session.scalars(select(AuditChainCheckpoint)):
            count += 1
            heads = unpack_heads(ccp.heads)
            try:
                message = _chains_checkpoint_bytes(ccp.heads, ccp.at)
                verify_hybrid(self._ring, message, ccp.signature)
                signed = heads is not None
            except CryptoError:
                signed = False
            for chain, position, digest in heads or []:
                if position:
                    label = f"checkpoint {ccp.id} (chain {chain}, entry {position})"
                    anchors.setdefault((chain, position), []).append(_Anchor(label, digest, signed))
        return anchors, count

    def verify(self, session: Session) -> VerifyReport:
        """Walk every chain; name the first entry (in seq order) that does not check out."""
        anchors, checkpoints = self._anchors(session)
        tips: dict[int, _Tip] = {}
        count = 0

        def bad(seq: int, problem: str, chain: int) -> VerifyReport:
            return VerifyReport(False, count, checkpoints, seq, problem, chain)

        stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=5000)
        rows = session.scalars(stmt)
        try:
            for entry in rows:
                chain = entry.chain
                tip = tips.setdefault(chain, _Tip())
                position = entry.seq if entry.chain_seq is None else entry.chain_seq
                if position != tip.position + 1:
                    return bad(
                        entry.seq,
                        f"entry {tip.position + 1} of chain {chain} is missing"
                        f" (found {position} at seq {entry.seq})",
                        chain,
                    )
                if entry.prev_hash != tip.digest:
                    return bad(
                        entry.seq, f"entry {entry.seq} does not link to the one before", chain
                    )
                digest = _stored_hash(entry)
                if digest is None or digest != entry.hash:
                    return bad(entry.seq, f"entry {entry.seq} was altered (hash mismatch)", chain)
                for anchor in anchors.get((chain, position), ()):
                    if not anchor.signed:
                        return bad(entry.seq, f"{anchor.label} has a bad signature", chain)
                    if anchor.digest != digest:
                        return bad(
                            entry.seq, f"{anchor.label} does not match entry {entry.seq}", chain
                        )
                tip.position, tip.digest, tip.seq = position, digest, entry.seq
                count += 1
        finally:
            rows.close()  # a server-side cursor on PostgreSQL when we stop early

        for chain, position in sorted(anchors):
            tip = tips.get(chain, _Tip())
            if position > tip.position:
                label = anchors[chain, position][0].label
                return bad(
                    tip.seq + 1,
                    f"entries of chain {chain} after {tip.position} were deleted ({label})",
                    chain,
                )
        heads = {h.id: h for h in session.scalars(select(AuditHead))}
        for chain in sorted(set(heads) | set(tips)):
            tip, head = tips.get(chain, _Tip()), heads.get(chain)
            if head is None or head.seq != tip.position or head.hash != tip.digest:
                says = "nothing" if head is None else str(head.seq)
                return bad(
                    tip.seq + 1,
                    f"chain {chain} ends at entry {tip.position} but its head says {says}",
                    chain,
                )
        return VerifyReport(True, count, checkpoints)
