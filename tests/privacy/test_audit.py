"""The audit chain detects any edit, deletion, insertion or reordering, also made in SQL."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from dinhdanh.crypto import generate_keyring
from dinhdanh.privacy.audit import AccessContext, AuditLog, entry_hash
from dinhdanh.wiring import Container

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CTX = AccessContext("apikey:abc:officer", "officer", "case 2026/17")


def _fill(c: Container, n: int, every: int = 1000) -> AuditLog:
    log = AuditLog(c.ring, checkpoint_every=every)
    with c.unit_of_work() as s:
        for i in range(n):
            log.append(s, [CTX.event("read", f"subject-{i}", ("full_name",))], T0 + timedelta(i))
    return log


def _sql(c: Container, statement: str) -> None:
    with c.engine.begin() as conn:
        conn.execute(text(statement))


def _verify(c: Container, log: AuditLog) -> tuple[bool, int | None, str | None]:
    with c.unit_of_work() as s:
        r = log.verify(s)
    return r.ok, r.first_bad_seq, r.problem


def test_intact_chain_verifies(container: Container) -> None:
    log = _fill(container, 25, every=10)
    with container.unit_of_work() as s:
        report = log.verify(s)
    assert report.ok
    assert report.entries == 25
    assert report.checkpoints == 2  # after 10 and 20 entries


def test_checkpoint_at_shutdown_covers_the_tail(container: Container) -> None:
    log = _fill(container, 5, every=10)
    with container.unit_of_work() as s:
        assert log.checkpoint(s, T0)
        assert not log.checkpoint(s, T0)  # nothing new since
    with container.unit_of_work() as s:
        assert log.verify(s).checkpoints == 1


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "words"),
    [
        ("UPDATE audit_entries SET purpose = 'curiosity' WHERE seq = 7", 7, "altered"),
        ("UPDATE audit_entries SET subject = 'someone-else' WHERE seq = 3", 3, "altered"),
        # The entry after the gap is the first that does not check out.
        ("DELETE FROM audit_entries WHERE seq = 12", 13, "missing"),
        ("UPDATE audit_entries SET seq = seq + 1000 WHERE seq = 4", 5, "missing"),
    ],
)
def test_direct_sql_tampering_is_named(
    container: Container, tamper: str, bad_seq: int, words: str
) -> None:
    log = _fill(container, 20, every=100)
    _sql(container, tamper)
    ok, seq, problem = _verify(container, log)
    assert not ok
    assert seq == bad_seq
    assert problem is not None
    assert words in problem


def test_reordering_two_entries_is_detected(container: Container) -> None:
    log = _fill(container, 10, every=100)
    _sql(container, "UPDATE audit_entries SET seq = -1 WHERE seq = 5")
    _sql(container, "UPDATE audit_entries SET seq = 5 WHERE seq = 6")
    _sql(container, "UPDATE audit_entries SET seq = 6 WHERE seq = -1")
    ok, seq, _ = _verify(container, log)
    assert not ok
    assert seq == 5


def test_inserted_entry_is_detected(container: Container) -> None:
    log = _fill(container, 10, every=100)
    # Make room and copy a real row into the gap: the copied hash links to the wrong neighbour.
    _sql(container, "UPDATE audit_entries SET seq = seq + 100 WHERE seq > 6")
    _sql(container, "UPDATE audit_entries SET seq = seq - 99 WHERE seq > 100")
    _sql(
        container,
        "INSERT INTO audit_entries (seq, at, actor, role, purpose, action, subject, fields, "
        "prev_hash, hash) SELECT 7, at, actor, role, purpose, action, subject, fields, "
        "prev_hash, hash FROM audit_entries WHERE seq = 6",
    )
    ok, seq, _ = _verify(container, log)
    assert not ok
    assert seq == 7


def test_rebuilt_chain_fails_the_signed_checkpoint(container: Container) -> None:
    """An attacker who recomputes every hash still cannot forge the checkpoint signature."""
    log = _fill(container, 10, every=5)
    with container.unit_of_work() as s:
        s.execute(text("DELETE FROM audit_entries"))
        s.execute(text("DELETE FROM audit_head"))
    forged = AuditLog(generate_keyring(), checkpoint_every=1000)
    with container.unit_of_work() as s:
        for i in range(10):
            forged.append(s, [CTX.event("read", f"x-{i}", ("sex",))], T0)
    with container.engine.connect() as conn:  # PostgreSQL's sequence went on counting
        fifth = conn.scalar(text("SELECT min(seq) + 4 FROM audit_entries"))
    ok, seq, problem = _verify(container, log)
    assert not ok
    assert seq == fifth
    assert problem is not None
    assert "checkpoint" in problem


def test_deleting_the_tail_behind_a_checkpoint_is_detected(container: Container) -> None:
    log = _fill(container, 10, every=10)
    _sql(container, "DELETE FROM audit_entries WHERE seq > 8")
    _sql(container, "UPDATE audit_head SET seq = 8")
    ok, seq, problem = _verify(container, log)
    assert not ok
    assert seq == 9
    assert problem is not None
    assert "deleted" in problem


def test_deleting_the_tail_without_fixing_the_head_is_detected(container: Container) -> None:
    log = _fill(container, 10, every=100)
    _sql(container, "DELETE FROM audit_entries WHERE seq = 10")
    ok, seq, _ = _verify(container, log)
    assert not ok
    assert seq == 10


def test_a_forged_checkpoint_signature_fails(container: Container) -> None:
    log = _fill(container, 10, every=10)
    with container.unit_of_work() as s:
        s.execute(text("UPDATE audit_chain_checkpoints SET signature = heads"))
    ok, seq, problem = _verify(container, log)
    assert not ok
    assert seq == 10
    assert problem is not None
    assert "signature" in problem


def test_subject_reads_their_own_entries(container: Container) -> None:
    log = _fill(container, 6, every=100)
    with container.unit_of_work() as s:
        mine = log.for_subject(s, "subject-3")
    assert [(e.seq, e.purpose, e.fields) for e in mine] == [(4, "case 2026/17", "full_name")]


@given(
    st.integers(min_value=1, max_value=2**62),
    st.text(),
    st.text(),
    st.text(),
    st.one_of(st.none(), st.text()),
    st.text(),
)
def test_entry_hash_frames_fields_as_json(
    seq: int, actor: str, purpose: str, action: str, subject: str | None, fields: str
) -> None:
    """The fast encoder hashes exactly the bytes of a compact JSON array of the entry."""
    prev = hashlib.sha256(actor.encode()).digest()
    ts = "2026-03-01T08:00:00.000000"
    body = json.dumps(
        [seq, ts, actor, "officer", purpose, action, subject, fields],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    expected = hashlib.sha256(prev + body.encode()).digest()
    assert entry_hash(prev, seq, ts, actor, "officer", purpose, action, subject, fields) == expected
