"""The audit log over several hash chains (format 3, ADR 0018): every kind of tampering is
named in whichever chain it happens, entries of formats 1 and 2 written before the migration
still verify as chain 0, and appends to different chains do not wait on one another."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, DateTime, Engine, bindparam, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing, sign_hybrid
from dinhdanh.privacy.audit import (
    GENESIS,
    AccessContext,
    AuditLog,
    VerifyReport,
    _checkpoint_bytes,
    chain_of,
    entry_hash,
    entry_hash_v2,
    entry_hash_v3,
    pack_heads,
    unpack_heads,
)
from dinhdanh.settings import Settings
from dinhdanh.store import make_engine, upgrade
from dinhdanh.wiring import Container, build, read_keyring

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CTX = AccessContext("apikey:abc:officer", "officer", "case 2026/17")
CHAINS = 4
N = 48


def _fill(c: Container, n: int = N, every: int = 16, chains: int = CHAINS) -> AuditLog:
    log = AuditLog(c.ring, checkpoint_every=every, chains=chains)
    with c.unit_of_work() as s:
        for i in range(n):
            log.append(s, [CTX.event("read", f"subject-{i}", ("full_name",))], T0 + timedelta(i))
    return log


def _chain_rows(conn: Connection, chain: int) -> list[int]:
    """Global seqs of a chain's entries, in chain order."""
    stmt = text("SELECT seq FROM audit_entries WHERE chain = :c ORDER BY chain_seq")
    return list(conn.scalars(stmt, {"c": chain}))


def _run(conn: Connection, sql: str, **params: object) -> None:
    conn.execute(text(sql), params)


# Each tamper works on chain `k` of an intact log; all of them must be caught.
def _edit(conn: Connection, k: int) -> None:
    seqs = _chain_rows(conn, k)
    _run(conn, "UPDATE audit_entries SET purpose = 'curiosity' WHERE seq = :s", s=seqs[1])


def _delete_middle(conn: Connection, k: int) -> None:
    seqs = _chain_rows(conn, k)
    _run(conn, "DELETE FROM audit_entries WHERE seq = :s", s=seqs[len(seqs) // 2])


def _insert_copy(conn: Connection, k: int) -> None:
    """A real row of the chain copied in as if appended later (its links point elsewhere)."""
    seqs = _chain_rows(conn, k)
    _run(
        conn,
        "INSERT INTO audit_entries (seq, at, actor, role, purpose, action, subject, fields,"
        " prev_hash, hash, format, chain, chain_seq) SELECT 100000, at, actor, role, purpose,"
        " action, subject, fields, prev_hash, hash, format, chain, :pos FROM audit_entries"
        " WHERE seq = :s",
        pos=len(seqs) + 1,
        s=seqs[0],
    )
    _run(conn, "UPDATE audit_head SET seq = seq + 1 WHERE id = :k", k=k)


def _swap_seqs(conn: Connection, k: int) -> None:
    a, b = _chain_rows(conn, k)[:2]
    _run(conn, "UPDATE audit_entries SET seq = -1 WHERE seq = :a", a=a)
    _run(conn, "UPDATE audit_entries SET seq = :a WHERE seq = :b", a=a, b=b)
    _run(conn, "UPDATE audit_entries SET seq = :b WHERE seq = -1", b=b)


def _swap_positions(conn: Connection, k: int) -> None:
    a, b = _chain_rows(conn, k)[:2]
    _run(conn, "UPDATE audit_entries SET chain_seq = 3 - chain_seq WHERE seq IN (:a, :b)", a=a, b=b)


def _move_to_other_chain(conn: Connection, k: int) -> None:
    seqs = _chain_rows(conn, k)
    _run(conn, "UPDATE audit_entries SET chain = :o WHERE seq = :s", o=(k + 1) % CHAINS, s=seqs[-1])


def _delete_tail_and_fix_head(conn: Connection, k: int) -> None:
    seqs = _chain_rows(conn, k)
    keep = 2
    _run(conn, "DELETE FROM audit_entries WHERE chain = :k AND chain_seq > :n", k=k, n=keep)
    row = conn.execute(text("SELECT hash FROM audit_entries WHERE seq = :s"), {"s": seqs[keep - 1]})
    _run(
        conn,
        "UPDATE audit_head SET seq = :n, hash = :h WHERE id = :k",
        n=keep,
        h=row.scalar_one(),
        k=k,
    )


def _delete_chain(conn: Connection, k: int) -> None:
    _run(conn, "DELETE FROM audit_entries WHERE chain = :k", k=k)
    _run(conn, "DELETE FROM audit_head WHERE id = :k", k=k)


def _forge_checkpoint_heads(conn: Connection, k: int) -> None:
    """A signed checkpoint made to name another hash for chain k: its signature breaks."""
    cp_id, packed = conn.execute(text("SELECT id, heads FROM audit_chain_checkpoints")).first()  # type: ignore[misc]
    heads = unpack_heads(bytes(packed))
    assert heads is not None
    forged = [(c, n, b"\x01" * 32 if c == k else h) for c, n, h in heads]
    _run(
        conn,
        "UPDATE audit_chain_checkpoints SET heads = :h WHERE id = :i",
        h=pack_heads(forged),
        i=cp_id,
    )


TAMPERS: dict[str, Callable[[Connection, int], None]] = {
    "edit": _edit,
    "delete": _delete_middle,
    "insert": _insert_copy,
    "swap seqs": _swap_seqs,
    "swap positions": _swap_positions,
    "move to another chain": _move_to_other_chain,
    "delete tail behind a checkpoint": _delete_tail_and_fix_head,
    "delete a whole chain": _delete_chain,
    "forge a checkpoint": _forge_checkpoint_heads,
}


def _verify_tampered(
    c: Container, log: AuditLog, tamper: Callable[[Connection, int], None], k: int
) -> VerifyReport:
    """Tamper and verify inside one transaction that is then rolled back."""
    with c.engine.connect() as conn:
        trans = conn.begin()
        try:
            tamper(conn, k)
            with Session(bind=conn) as s:
                return log.verify(s)
        finally:
            trans.rollback()


@pytest.fixture
def chained(container: Container) -> AuditLog:
    log = _fill(container)
    with container.unit_of_work() as s:
        report = log.verify(s)
    assert report.ok, report.problem
    assert report.entries == N
    return log


def test_entries_spread_over_chains_and_verify(container: Container, chained: AuditLog) -> None:
    with container.engine.connect() as conn:
        sizes = [len(_chain_rows(conn, k)) for k in range(CHAINS)]
        checkpoints = conn.scalar(text("SELECT count(*) FROM audit_chain_checkpoints"))
    assert sum(sizes) == N
    assert all(size >= 3 for size in sizes)
    assert checkpoints >= 1
    expected = [chain_of(f"subject-{i}", CTX.actor, CHAINS) for i in range(N)]
    assert sizes == [expected.count(k) for k in range(CHAINS)]


@pytest.mark.parametrize("kind", sorted(TAMPERS))
def test_each_kind_of_tampering_is_named_in_its_chain(
    container: Container, chained: AuditLog, kind: str
) -> None:
    for k in range(CHAINS):
        report = _verify_tampered(container, chained, TAMPERS[kind], k)
        assert not report.ok
        assert report.problem
        if kind == "forge a checkpoint":  # named at the first entry any chain anchors
            assert "bad signature" in report.problem
        elif kind != "move to another chain":  # named where the row lands or leaves a gap
            assert report.chain == k, report.problem


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(sorted(TAMPERS)), st.integers(0, CHAINS - 1))
def test_no_tampering_goes_unnoticed(
    container: Container, chained: AuditLog, kind: str, k: int
) -> None:
    assert not _verify_tampered(container, chained, TAMPERS[kind], k).ok
    with container.unit_of_work() as s:
        assert chained.verify(s).ok  # the rollback left the log as it was


def test_the_log_is_signed_about_every_checkpoint_every_entries(container: Container) -> None:
    """A checkpoint signs every chain, so with 16 chains and one entry per request the log is
    signed about every 160 entries, not whenever one chain has a sixteenth of that."""
    chains, every, n = 16, 160, 1600
    log = AuditLog(container.ring, checkpoint_every=every, chains=chains)
    for i in range(n):
        with container.unit_of_work() as s:
            log.append(s, [CTX.event("read", f"subject-{i}", ("full_name",))], T0)
    with container.unit_of_work() as s:
        report = log.verify(s)
    assert report.ok, report.problem
    # At most (every/chains - 1) uncovered entries per chain before some chain is due.
    most_between = chains * (every // chains - 1) + 1
    assert n // most_between <= report.checkpoints <= 2 * n // every


def test_shutdown_checkpoint_signs_every_chain(container: Container) -> None:
    log = _fill(container, n=10, every=1000)
    with container.unit_of_work() as s:
        assert log.checkpoint(s, T0)
        assert not log.checkpoint(s, T0)
    with container.engine.connect() as conn:
        packed = conn.scalar(text("SELECT heads FROM audit_chain_checkpoints"))
        heads = unpack_heads(bytes(packed))
        tips = {row.id: row.seq for row in conn.execute(text("SELECT id, seq FROM audit_head"))}
    assert heads is not None
    assert {c: n for c, n, _ in heads} == tips
    assert sum(tips.values()) == 10


def test_concurrent_appends_from_threads_verify(container: Container) -> None:
    log = AuditLog(container.ring, checkpoint_every=8, chains=CHAINS)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(15):
                with container.unit_of_work() as s:
                    events = [CTX.event("read", f"s-{t}-{i}-{j}", ("sex",)) for j in range(3)]
                    log.append(s, events, T0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    with container.unit_of_work() as s:
        report = log.verify(s)
    assert report.ok, report.problem
    assert report.entries == 4 * 15 * 3


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_appends_to_other_chains_do_not_wait(container: Container, backend: str) -> None:
    """While one transaction holds chain a's head, an append to chain b commits (with a lock
    timeout that would fail it if it waited), and one to chain a would wait."""
    log = AuditLog(container.ring, chains=CHAINS)
    subjects = {chain_of(f"p-{i}", CTX.actor, CHAINS): f"p-{i}" for i in range(50)}
    a, b = subjects[0], subjects[1]
    with container.unit_of_work() as s:  # the first append creates the heads of all chains
        log.append(s, [CTX.event("read", b, ())], T0)
    with container.unit_of_work() as holder:
        log.append(holder, [CTX.event("read", a, ())], T0)
        with container.unit_of_work() as other:
            other.execute(text("SET LOCAL lock_timeout = '3s'"))
            log.append(other, [CTX.event("read", b, ())], T0)
        with container.unit_of_work() as blocked:
            blocked.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                log.append(blocked, [CTX.event("read", a, ())], T0)
            blocked.rollback()
    with container.unit_of_work() as s:
        assert log.verify(s).ok


# Entries as the code before the chains wrote them: formats 1 and 2, one chain, head id 1,
# a format-1 checkpoint; then the migration and format-3 appends over several chains.
OLD_TS = "2026-02-01T08:00:00.000000"
OLD_AT = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def _old_log(engine: Engine, ring: KeyRing) -> None:
    insert = text(
        "INSERT INTO audit_entries (seq, at, actor, role, purpose, action, subject, fields,"
        " prev_hash, hash, format, organisation) VALUES (:seq, :at, 'staff:1', 'officer',"
        " 'case 1', 'read', :subject, 'full_name', :prev, :hash, :format, :org)"
    ).bindparams(bindparam("at", type_=DateTime(timezone=True)))
    prev = GENESIS
    with engine.begin() as conn:
        for seq in range(1, 7):
            subject = f"old-{seq}"
            args = (prev, seq, OLD_TS, "staff:1", "officer", "case 1", "read", subject, "full_name")
            fmt, org = (1, None) if seq <= 3 else (2, "Bộ Công an")
            digest = entry_hash(*args) if fmt == 1 else entry_hash_v2(*args, org, None, None, None)
            row = {"seq": seq, "at": OLD_AT, "subject": subject, "prev": prev, "hash": digest}
            conn.execute(insert, row | {"format": fmt, "org": org})
            prev = digest
            if seq == 4:
                sig = sign_hybrid(ring, _checkpoint_bytes(seq, digest, OLD_AT))
                conn.execute(
                    text(
                        "INSERT INTO audit_checkpoints (seq, hash, at, signature)"
                        " VALUES (:s, :h, :a, :g)"
                    ).bindparams(bindparam("a", type_=DateTime(timezone=True))),
                    {"s": seq, "h": digest, "a": OLD_AT, "g": sig},
                )
        conn.execute(
            text("INSERT INTO audit_head (id, seq, hash, checkpointed_seq) VALUES (1, 6, :h, 4)"),
            {"h": prev},
        )


@pytest.fixture
def migrated(settings: Settings) -> Iterator[Container]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, "0026_age_bands")
    _old_log(engine, read_keyring(settings))
    upgrade(engine)
    engine.dispose()
    c = build(settings)
    try:
        yield c
    finally:
        c.close()


def test_old_entries_stay_valid_as_chain_0(migrated: Container) -> None:
    log = AuditLog(migrated.ring, checkpoint_every=4, chains=CHAINS)
    with migrated.unit_of_work() as s:
        assert log.verify(s).ok
        for i in range(20):
            log.append(s, [CTX.event("read", f"new-{i}", ())], T0)
    with migrated.unit_of_work() as s:
        report = log.verify(s)
    assert report.ok, report.problem
    assert report.entries == 26
    with migrated.engine.connect() as conn:
        chain0 = conn.execute(
            text("SELECT seq, format, chain_seq FROM audit_entries WHERE chain = 0 ORDER BY seq")
        ).all()
        firsts = conn.scalar(
            text("SELECT count(*) FROM audit_entries WHERE format = 3 AND chain_seq = 1")
        )
    assert [r.format for r in chain0[:6]] == [1, 1, 1, 2, 2, 2]
    assert chain0[6].chain_seq == 7
    assert firsts == CHAINS - 1  # the other chains start at the genesis


@pytest.mark.parametrize(
    ("tamper", "bad_seq"),
    [
        ("UPDATE audit_entries SET purpose = 'x' WHERE seq = 2", 2),
        ("UPDATE audit_entries SET organisation = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entries SET chain = 1 WHERE seq = 3", 3),
        ("UPDATE audit_entries SET chain_seq = 4 WHERE seq = 4", 4),
        ("DELETE FROM audit_entries WHERE seq = 3", 4),
        ("UPDATE audit_checkpoints SET signature = hash", 4),
    ],
)
def test_old_entries_tampered_after_the_migration_are_named(
    migrated: Container, tamper: str, bad_seq: int
) -> None:
    log = AuditLog(migrated.ring, checkpoint_every=4, chains=CHAINS)
    with migrated.unit_of_work() as s:
        log.append(s, [CTX.event("read", f"new-{i}", ()) for i in range(8)], T0)
    with migrated.engine.begin() as conn:
        conn.execute(text(tamper))
    with migrated.unit_of_work() as s:
        report = log.verify(s)
    assert not report.ok
    assert report.first_bad_seq == bad_seq, report.problem


_opt_text = st.one_of(st.none(), st.text())


@given(st.integers(0, 2**31), st.integers(1, 2**62), st.text(), _opt_text, _opt_text)
def test_entry_hash_v3_frames_the_entry_as_json(
    chain: int, position: int, purpose: str, subject: str | None, organisation: str | None
) -> None:
    """Format 3 hashes exactly the bytes of a compact JSON array: 3, chain, position, then
    the fields of format 2."""
    prev = hashlib.sha256(purpose.encode()).digest()
    entry = (7, "2026-03-01T08:00:00.000000", "staff:1", "officer", purpose, "read", subject)
    fields = (*entry, "full_name", organisation, None, "HN-1", None)
    body = json.dumps([3, chain, position, *fields], ensure_ascii=False, separators=(",", ":"))
    expected = hashlib.sha256(prev + body.encode()).digest()
    assert entry_hash_v3(prev, chain, position, fields) == expected
