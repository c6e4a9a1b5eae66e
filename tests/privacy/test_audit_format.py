"""Audit entry format 2 (organisation, legal basis, case reference, disclosure date in the
hash) next to format 1: entries signed before the migration verify as they are, and neither
the new columns nor a row's format can be edited unnoticed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime, Engine, bindparam, text

from dinhdanh.privacy.audit import (
    GENESIS,
    AccessContext,
    AuditEvent,
    AuditLog,
    _core,
    entry_hash,
    entry_hash_v2,
    entry_hash_v3,
)
from dinhdanh.settings import Settings
from dinhdanh.store import make_engine, upgrade
from dinhdanh.wiring import Container, build
from tests.cli.helpers import cli, env_of
from tests.privacy.test_access_log import OFFICER, T0

OLD = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
PRE_MIGRATION = "0011_upload_rejects"
DELAYED = replace(OFFICER, disclose_after=T0 + timedelta(days=90))
PLAIN = AccessContext("cli:import", "registry_import", "population registry import")


def _old_rows(engine: Engine, n: int) -> None:
    """Entries as the code before format 2 wrote them, into the schema of that time."""
    prev = GENESIS
    insert = text(
        "INSERT INTO audit_entries (seq, at, actor, role, purpose, action, subject, fields,"
        " prev_hash, hash) VALUES (:seq, :at, 'apikey:0a1b:Viettel', 'carrier',"
        " 'subscriber upload of VTL', 'read', :subject, 'full_name,date_of_birth', :prev, :hash)"
    ).bindparams(bindparam("at", type_=DateTime(timezone=True)))
    with engine.begin() as conn:
        for seq in range(1, n + 1):
            digest = entry_hash(
                prev,
                seq,
                "2026-02-01T08:00:00.000000",
                "apikey:0a1b:Viettel",
                "carrier",
                "subscriber upload of VTL",
                "read",
                f"subject-{seq}",
                "full_name,date_of_birth",
            )
            conn.execute(
                insert,
                {"seq": seq, "at": OLD, "subject": f"subject-{seq}", "prev": prev, "hash": digest},
            )
            prev = digest
        conn.execute(
            text("INSERT INTO audit_head (id, seq, hash, checkpointed_seq) VALUES (1, :n, :h, 0)"),
            {"n": n, "h": prev},
        )


@pytest.fixture
def migrated(settings: Settings) -> Iterator[Container]:
    """Five format-1 entries written before the migration and signed, then the migration,
    then three entries of the current format (two delayed, one not) after them."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, PRE_MIGRATION)
    _old_rows(engine, 5)
    upgrade(engine)
    engine.dispose()
    c = build(settings)
    with c.unit_of_work() as s:
        c.audit.checkpoint(s, T0)  # signs the format-1 tip, as a shutdown before would have
        c.audit.append(
            s,
            [
                DELAYED.event("read", "subject-1", ("full_name",)),
                DELAYED.event("read", "subject-2", ("full_name",)),
                PLAIN.event("update", "subject-3", ("phone",)),
            ],
            T0,
        )
        c.audit.checkpoint(s, T0)
    try:
        yield c
    finally:
        c.close()


def _sql(c: Container, statement: str) -> None:
    # :later, where a statement has it: a year after the delay the officer stated.
    later = bindparam("later", T0 + timedelta(days=90 + 365), DateTime(True))
    stmt = text(statement)
    if ":later" in statement:
        stmt = stmt.bindparams(later)
    with c.engine.begin() as conn:
        conn.execute(stmt)


def _verify(c: Container) -> tuple[bool, int | None, str | None, int]:
    with c.unit_of_work() as s:
        r = c.audit.verify(s)
    return r.ok, r.first_bad_seq, r.problem, r.entries


def test_old_entries_verify_as_they_are_beside_new_ones(migrated: Container) -> None:
    assert _verify(migrated) == (True, None, None, 8)
    with migrated.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, format, organisation, disclose_after FROM audit_entries ORDER BY seq")
        ).all()
    assert [r.format for r in rows] == [1, 1, 1, 1, 1, 3, 3, 3]
    assert all(r.organisation is None and r.disclose_after is None for r in rows[:5])
    assert rows[5].organisation == "Công an tỉnh Hà Nội"
    assert rows[5].disclose_after is not None
    assert rows[7].organisation is None  # a context without one stays empty


@pytest.mark.parametrize(
    ("tamper", "bad_seq"),
    [
        # The investigation extends its secrecy by a year.
        ("UPDATE audit_entries SET disclose_after = :later WHERE seq = 6", 6),
        ("UPDATE audit_entries SET disclose_after = NULL WHERE seq = 7", 7),
        ("UPDATE audit_entries SET organisation = 'Bộ Công an' WHERE seq = 6", 6),
        ("UPDATE audit_entries SET legal_basis = 'court_order' WHERE seq = 7", 7),
        ("UPDATE audit_entries SET case_ref = 'HN-2026-0001' WHERE seq = 6", 6),
        # A delay added to an entry that had none.
        ("UPDATE audit_entries SET disclose_after = at WHERE seq = 8", 8),
        # A format-2 row relabelled format 1, with and without its new columns cleared.
        ("UPDATE audit_entries SET format = 1 WHERE seq = 8", 8),
        (
            "UPDATE audit_entries SET format = 1, organisation = NULL, legal_basis = NULL,"
            " case_ref = NULL, disclose_after = NULL WHERE seq = 6",
            6,
        ),
        # An old entry given a delay or an organisation after the fact.
        ("UPDATE audit_entries SET disclose_after = at WHERE seq = 2", 2),
        ("UPDATE audit_entries SET organisation = 'Viettel' WHERE seq = 3", 3),
        # A format-1 row claimed to be format 2, and a format nobody writes.
        ("UPDATE audit_entries SET format = 2 WHERE seq = 4", 4),
        ("UPDATE audit_entries SET format = 4 WHERE seq = 7", 7),
    ],
)
def test_edits_of_the_new_columns_and_the_format_are_named(
    migrated: Container, tamper: str, bad_seq: int
) -> None:
    _sql(migrated, tamper)
    ok, seq, problem, _ = _verify(migrated)
    assert not ok
    assert seq == bad_seq
    assert problem is not None
    assert "altered" in problem


def test_the_cli_names_an_extended_delay(migrated: Container) -> None:
    s = migrated.settings
    env = env_of(s) | {"DINHDANH_KEYRING": s.keyring or ""}
    assert cli(s, "audit", "verify", env=env).returncode == 0
    _sql(migrated, "UPDATE audit_entries SET disclose_after = :later WHERE seq = 7")
    proc = cli(s, "audit", "verify", check=False, env=env)
    assert proc.returncode == 1
    assert "entry 7" in proc.stderr


_text = st.one_of(st.none(), st.text())


@given(st.integers(min_value=1, max_value=2**62), st.text(), _text, _text, _text, _text)
def test_entry_hash_v2_frames_the_entry_as_json(
    seq: int,
    purpose: str,
    organisation: str | None,
    legal_basis: str | None,
    case_ref: str | None,
    disclose_after: str | None,
) -> None:
    """Format 2 hashes exactly the bytes of a compact JSON array that starts with the 2."""
    prev = hashlib.sha256(purpose.encode()).digest()
    ts = "2026-03-01T08:00:00.000000"
    core = (seq, ts, "staff:1", "officer", purpose, "read", "s-1", "full_name")
    body = json.dumps(
        [2, *core, organisation, legal_basis, case_ref, disclose_after],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    expected = hashlib.sha256(prev + body.encode()).digest()
    got = entry_hash_v2(prev, *core, organisation, legal_basis, case_ref, disclose_after)
    assert got == expected
    assert got != entry_hash(prev, *core)


@given(_text, st.text())
def test_the_core_of_an_entry_is_json_whatever_its_subject(subject: str | None, actor: str) -> None:
    """The subject, not cached, is framed apart from the other fields: the same bytes."""
    values = (7, "2026-03-01T08:00:00.000000", actor, "officer", "p", "read", subject, "a,b")
    expected = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))[1:-1]
    assert _core(*values) == expected


@given(st.text(), st.text(), _text, _text, _text, st.lists(st.text(), max_size=3))
def test_an_event_is_the_dataclass_of_its_fields(
    actor: str,
    action: str,
    subject: str | None,
    organisation: str | None,
    case_ref: str | None,
    fields: list[str],
) -> None:
    """AccessContext.event sets the slots itself: the same event as AuditEvent(...)."""
    ctx = AccessContext(actor, "officer", "p", organisation, "law", case_ref, T0)
    got = ctx.event(action, subject, tuple(fields))
    want = AuditEvent(
        actor, "officer", "p", action, subject, tuple(fields), organisation, "law", case_ref, T0
    )
    assert got == want
    assert repr(got) == repr(want)


def test_append_writes_what_entry_hash_v3_computes(container: Container) -> None:
    log = AuditLog(container.ring)
    with container.unit_of_work() as s:
        log.append(s, [DELAYED.event("read", "s-9", ("full_name", "sex"))], T0)
    with container.engine.connect() as conn:
        row = conn.execute(text("SELECT hash FROM audit_entries WHERE seq = 1")).one()
    expected = entry_hash_v3(
        GENESIS,
        0,
        1,
        (
            1,
            "2026-03-01T08:00:00.000000",
            DELAYED.actor,
            DELAYED.role,
            DELAYED.purpose,
            "read",
            "s-9",
            "full_name,sex",
            DELAYED.organisation,
            DELAYED.legal_basis,
            DELAYED.case_ref,
            "2026-05-30T08:00:00.000000",
        ),
    )
    assert bytes(row.hash) == expected
