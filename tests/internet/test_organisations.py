"""The business-registry import: reason codes, idempotent, strict, resumable, the legal
representative linked to the registry by blind index and never stored in clear."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dinhdanh.internet.importer import import_organisations
from dinhdanh.internet.models import Organisation
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.store.batch import BatchReport
from dinhdanh.store.models import ImportRun
from dinhdanh.wiring import Container
from tests.internet.factories import BRANCH, CTX, NOW, ORG, ORG2, codes, org, run_of, write
from tests.support import ID_NUMBER, make_citizen

OFFICER = AccessContext("test:officer", "officer", "checking a registration")


def run(c: Container, path: Path, **kw: object) -> BatchReport:
    return import_organisations(
        path, internet=c.internet, ring=c.ring, ctx=CTX, run=run_of(c, **kw)
    )


def count(c: Container, model: type) -> int:
    with c.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def snapshot(c: Container) -> list[tuple[object, ...]]:
    with c.engine.connect() as conn:
        stmt = select(Organisation.__table__).order_by(Organisation.tax_code)
        return [tuple(r) for r in conn.execute(stmt)]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_import_and_the_legal_representative_link(
    container: Container, tmp_path: Path, suffix: str
) -> None:
    citizen = make_citizen(container, with_account=False)
    rows = [org(), org(BRANCH, name="Chi nhánh", legal_rep_id_number="")]
    report = run(container, write(tmp_path / f"orgs{suffix}", rows))
    assert (report.counts.created, report.rejected_count) == (2, 0)
    i = container.internet
    with container.unit_of_work() as s:
        view = i.organisation(s, "01.00.233.488")
        assert view is not None
        assert (view.name, view.status, view.has_legal_rep) == (rows[0]["name"], "active", True)
        branch = i.organisation(s, BRANCH)
        assert branch is not None
        assert (branch.tax_code, branch.head_tax_code) == ("0314409058002", "0314409058")
        subject = i.legal_representative(s, ORG)
        assert subject is not None
        assert subject.subject_id == citizen.subject_id
        assert i.legal_representative(s, "0314409058002") is None
        assert i.organisations_represented(s, subject.id_bidx) == [ORG]
        assert i.open_legal_rep(s, ORG, OFFICER, NOW) == ID_NUMBER
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert last is not None
        assert (last.action, last.subject) == ("read", citizen.subject_id)


def test_reason_codes(container: Container, tmp_path: Path) -> None:
    rows = [
        org(),  # 2
        org("0100233480"),  # 3
        org("12345"),  # 4
        org("0100233488-000"),  # 5
        org(""),  # 6
        org(ORG2, name=" "),  # 7
        org(ORG2, status="closed"),  # 8
        org(ORG2, established="2001-02-30"),  # 9
        org(ORG2, established="2027-01-01"),  # 10
        org(ORG2, established="2010-01-01", dissolved="2009-01-01", status="dissolved"),  # 11
        org(ORG2, legal_rep_id_number="12345"),  # 12
        org(ORG2, name="x" * 501),  # 13
        org(ORG2, address="x" * 1001),  # 14
        org("0314409058"),  # 15: conflicts with 16
        org("0314409058", name="Another name"),  # 16
    ]
    report = run(container, write(tmp_path / "orgs.csv", rows))
    assert codes(report) == {
        3: ["tax_code_checksum"],
        4: ["tax_code_format"],
        5: ["tax_code_component"],
        6: ["tax_code_missing"],
        7: ["name_missing"],
        8: ["invalid_status"],
        9: ["invalid_date"],
        10: ["date_in_future"],
        11: ["dissolved_before_established"],
        12: ["legal_rep_id_invalid"],
        13: ["name_too_long"],
        14: ["address_too_long"],
        15: ["duplicate_conflict"],
        16: ["duplicate_conflict"],
    }
    assert report.rejected[0].label == "0100233480"
    assert count(container, Organisation) == 1


def test_reimport_changes_nothing_and_a_change_updates(
    container: Container, tmp_path: Path
) -> None:
    path = write(tmp_path / "orgs.csv", [org(), org(ORG2)])
    run(container, path)
    before, audit = snapshot(container), count(container, AuditEntry)
    again = run(container, path)
    assert (again.counts.unchanged, again.counts.created, again.counts.updated) == (2, 0, 0)
    assert snapshot(container) == before
    assert count(container, AuditEntry) == audit
    changed = run(container, write(tmp_path / "b.csv", [org(), org(ORG2, status="dissolved")]))
    assert (changed.counts.updated, changed.counts.unchanged) == (1, 1)
    with container.unit_of_work() as s:
        view = container.internet.organisation(s, ORG2)
        assert view is not None
        assert view.status == "dissolved"


def test_strict_applies_nothing(container: Container, tmp_path: Path) -> None:
    report = run(container, write(tmp_path / "o.csv", [org(), org("0100233480")]), strict=True)
    assert report.aborted
    assert count(container, Organisation) == count(container, ImportRun) == 0


class Crash(Exception):
    pass


def test_resume_after_a_crash_between_chunks(container: Container, tmp_path: Path) -> None:
    from dinhdanh.synth.internet import generate_resources

    rows = generate_resources(organisations=30, domains=0, seed=5).organisations[:30]
    path = write(tmp_path / "orgs.csv", rows)
    calls = 0

    @contextmanager
    def dying() -> Iterator[Session]:
        nonlocal calls
        calls += 1
        if calls == 5:  # ledger row, index check, two chunks, then the process "dies"
            raise Crash
        with container.unit_of_work() as s:
            yield s

    with pytest.raises(Crash):
        run(container, path, chunk_size=10, unit_of_work=dying)
    assert count(container, Organisation) == 20  # whole chunks only
    report = run(container, path, chunk_size=10)
    assert report.resumed_from_line == 22
    assert report.counts.created == 30
    assert count(container, Organisation) == 30


def test_no_id_number_in_the_database(container: Container, tmp_path: Path) -> None:
    run(container, write(tmp_path / "orgs.csv", [org(), org(ORG2)]))
    with container.engine.connect() as conn:
        dump = "\n".join(
            repr(tuple(r))
            for t in ("organisations", "audit_entries", "import_runs")
            for r in conn.execute(text(f"SELECT * FROM {t}"))
        )
    assert ID_NUMBER not in dump
    assert "Công ty TNHH Phở Ngon" in dump  # public data stays readable
