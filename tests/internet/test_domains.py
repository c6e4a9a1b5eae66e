"""A registrar's domain import: reason codes, registrants stored like subscribers (blind
indexes and a sealed copy), registrars kept apart, idempotent, resumable, strict."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dinhdanh.crypto import keyring_to_json
from dinhdanh.internet.domains import DomainFeed
from dinhdanh.internet.errors import DomainHeldElsewhere, UnknownRegistrar
from dinhdanh.internet.importer import import_domains
from dinhdanh.internet.models import Domain
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.store.batch import BatchReport
from dinhdanh.wiring import Container
from tests.internet.factories import CTX, NOW, ORG, codes, company, person, run_of, write
from tests.support import BIRTH_DATE, FULL_NAME, ID_NUMBER, make_citizen

OFFICER = AccessContext("test:officer", "officer", "checking a registration")


@pytest.fixture
def registrars(container: Container) -> tuple[str, str]:
    with container.unit_of_work() as s:
        for code in ("PAVN", "MATBAO"):
            container.internet.add_registrar(s, code, f"Registrar {code}", NOW)
    return "PAVN", "MATBAO"


def run(c: Container, path: Path, registrar: str = "PAVN", **kw: object) -> BatchReport:
    return import_domains(
        path, registrar=registrar, internet=c.internet, ring=c.ring, ctx=CTX, run=run_of(c, **kw)
    )


def count(c: Container, registrar: str | None = None) -> int:
    with c.unit_of_work() as s:
        stmt = select(func.count()).select_from(Domain)
        if registrar:
            stmt = stmt.where(Domain.registrar == registrar)
        return s.scalar(stmt) or 0


@pytest.mark.usefixtures("registrars")
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_person_registrant_is_kept_like_a_subscriber(
    container: Container, tmp_path: Path, suffix: str
) -> None:
    citizen = make_citizen(container, with_account=False)
    rows = [person("PHỞ-NGON.vn"), company("cong-ty.com.vn")]
    report = run(container, write(tmp_path / f"d{suffix}", rows))
    assert (report.counts.created, report.rejected_count) == (2, 0)
    i = container.internet
    with container.unit_of_work() as s:
        d = i.domain(s, "xn--ph-ngon-h14c.vn")
        assert d is not None
        assert i.domain(s, "phở-ngon.vn") == d  # U-label or A-label
        assert (d.ascii_name, d.unicode_name, d.suffix) == (
            "xn--ph-ngon-h14c.vn",
            "phở-ngon.vn",
            "vn",
        )
        assert (d.registrar, d.registrant_type, d.registrant_name) == ("PAVN", "person", None)
        assert d.nameservers == ("ns1.example.vn", "ns2.example.vn")
        assert (d.created, d.expires, d.registrant_minor) == (
            date(2020, 1, 1),
            date(2027, 1, 1),
            False,
        )
        subject = container.registry.subject(s, ID_NUMBER)
        assert subject is not None
        row = s.get(Domain, d.id)
        assert row is not None
        # The registry's own blind indexes: lookups and DuckDB joins match them.
        assert (row.registrant_id_bidx, row.registrant_name_bidx, row.registrant_dob_bidx) == (
            subject.id_bidx,
            subject.name_bidx,
            subject.dob_bidx,
        )
        assert i.registrant_subject(s, d.id) == subject
        assert [x.ascii_name for x in i.domains_of_person(s, subject.id_bidx)] == [d.ascii_name]
        opened = i.open_registrant(s, d.id, OFFICER, NOW)
        assert opened is not None
        assert (opened.id_number, opened.full_name, opened.date_of_birth) == (
            ID_NUMBER,
            FULL_NAME,
            BIRTH_DATE,
        )
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert last is not None
        assert (last.action, last.subject) == ("read", citizen.subject_id)
        org = i.domain(s, "CONG-TY.COM.VN")
        assert org is not None
        assert (org.registrant_tax_code, org.registrant_name, org.suffix) == (
            ORG,
            "Công ty TNHH Phở Ngon",
            "com.vn",
        )
        assert i.open_registrant(s, org.id, OFFICER, NOW) is None
        assert [x.ascii_name for x in i.domains_of_organisation(s, ORG)] == ["cong-ty.com.vn"]
        assert i.domain(s, "not a name") is None


@pytest.mark.usefixtures("registrars")
def test_reason_codes(container: Container, tmp_path: Path) -> None:
    rows = [
        person("ok.vn"),  # 2
        person("ab--c.vn"),  # 3
        person("example.com"),  # 4
        person("com.vn"),  # 5
        person("www.ok.vn"),  # 6
        person("a" * 64 + ".vn"),  # 7
        person(".".join(["a" * 63] * 3 + ["a" * 59, "vn"])),  # 8
        person(""),  # 9
        person("t1.vn", registrant_type="robot"),  # 10
        person("t2.vn", registrant_id="12345"),  # 11
        person("t3.vn", registrant_id="003090012345"),  # 12
        person("t4.vn", registrant_name=""),  # 13
        person("t5.vn", registrant_dob="1990-02-30"),  # 14
        company("t6.vn", "0100233480"),  # 15
        person("t7.vn", created="2030-01-01", expires="2031-01-01"),  # 16
        person("t8.vn", expires="2019-01-01"),  # 17
        person("t9.vn", nameservers="ns1.example.vn bad_ns.vn"),  # 18
        person("t10.vn", nameservers=" ".join(f"ns{i}.example.vn" for i in range(14))),  # 19
        person("t11.vn", status="parked"),  # 20
        person("t12.vn", registrant_dob=""),  # 21
        company("t13.vn", registrant_name="x" * 501),  # 22
        person("dup.vn"),  # 23: conflicts with 24, given as its U-label's A-label
        person("DUP.vn", registrant_name="Trần Thị Bình"),  # 24
        person("same.vn"),  # 25, repeated identically on 26: applied once
        person("SAME.VN"),  # 26
    ]
    report = run(container, write(tmp_path / "d.csv", rows))
    assert codes(report) == {
        3: ["domain_invalid"],
        4: ["domain_not_vn"],
        5: ["domain_is_public_suffix"],
        6: ["domain_not_registrable"],
        7: ["domain_invalid"],
        8: ["domain_too_long"],
        9: ["domain_missing"],
        10: ["invalid_registrant_type"],
        11: ["id_format"],
        12: ["id_unknown_province"],
        13: ["registrant_name_missing"],
        14: ["invalid_date"],
        15: ["tax_code_checksum"],
        16: ["date_in_future"],
        17: ["expires_before_created"],
        18: ["nameserver_invalid"],
        19: ["too_many_nameservers"],
        20: ["invalid_status"],
        21: ["invalid_date"],
        22: ["registrant_name_too_long"],
        23: ["duplicate_conflict"],
        24: ["duplicate_conflict"],
    }
    assert count(container) == 2  # ok.vn and same.vn


def test_registrars_are_kept_apart(container: Container, registrars: tuple[str, str]) -> None:
    pavn, matbao = registrars
    tmp = container.settings.data_dir
    run(container, write(tmp / "a.csv", [person("phở-ngon.vn"), person("mine.vn")]), pavn)
    taken = [person("xn--ph-ngon-h14c.vn", registrant_name="Kẻ Khác"), person("theirs.vn")]
    report = run(container, write(tmp / "b.csv", taken), matbao)
    assert codes(report) == {2: ["domain_held_elsewhere"]}
    assert report.rejected[0].label == "xn--ph-ngon-h14c.vn"
    assert (count(container, pavn), count(container, matbao)) == (2, 1)
    with container.unit_of_work() as s:
        d = container.internet.domain(s, "phở-ngon.vn")
        assert d is not None
        assert d.registrar == pavn
        names = [x.ascii_name for x in container.internet.domains_of_registrar(s, matbao)]
        assert names == ["theirs.vn"]
    strict = run(container, write(tmp / "c.csv", taken), matbao, strict=True)
    assert strict.aborted  # held elsewhere counts for --strict too


def test_a_name_taken_after_validation_stops_the_chunk(
    container: Container, registrars: tuple[str, str]
) -> None:
    pavn, matbao = registrars
    feed = DomainFeed(keyring_to_json(container.ring))
    record = feed.check(person("race.vn"), NOW.date())
    assert not isinstance(record, list)
    prepared = feed.prepare([record])
    with container.unit_of_work() as s:
        container.internet.apply_domains(s, pavn, prepared, CTX, NOW)
    with pytest.raises(DomainHeldElsewhere), container.unit_of_work() as s:
        container.internet.apply_domains(s, matbao, prepared, CTX, NOW)
    assert count(container, matbao) == 0


@pytest.mark.usefixtures("registrars")
def test_unknown_registrar(container: Container, tmp_path: Path) -> None:
    with pytest.raises(UnknownRegistrar):
        run(container, write(tmp_path / "d.csv", [person("a.vn")]), "NOPE")


@pytest.mark.usefixtures("registrars")
def test_reimport_changes_nothing_then_an_update(container: Container, tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", [person("a.vn"), company("b.vn")])
    run(container, path)
    with container.engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(select(Domain.__table__).order_by(Domain.id))]
    again = run(container, path)
    assert (again.counts.unchanged, again.counts.created, again.counts.updated) == (2, 0, 0)
    with container.engine.connect() as conn:
        after = [tuple(r) for r in conn.execute(select(Domain.__table__).order_by(Domain.id))]
    assert after == before
    changed = run(container, write(tmp_path / "e.csv", [person("a.vn", status="suspended")]))
    assert changed.counts.updated == 1
    with container.unit_of_work() as s:
        d = container.internet.domain(s, "a.vn")
        assert d is not None
        assert d.status == "suspended"
        assert d.id in {row[0] for row in before}  # the same row, updated in place


@pytest.mark.usefixtures("registrars")
def test_a_minor_on_the_day_of_registration(container: Container, tmp_path: Path) -> None:
    rows = [
        person("young.vn", registrant_id="001210012345", registrant_dob="2010-05-12"),
        person("grown.vn", registrant_id="001210012346", registrant_dob="2002-01-01"),
    ]
    run(container, write(tmp_path / "d.csv", rows))
    with container.unit_of_work() as s:
        young, grown = (container.internet.domain(s, n) for n in ("young.vn", "grown.vn"))
        assert young is not None
        assert grown is not None
        assert (young.registrant_minor, grown.registrant_minor) == (True, False)


@pytest.mark.usefixtures("registrars")
def test_resume_after_a_crash(container: Container, tmp_path: Path) -> None:
    rows = [company(f"ten-{i}.vn") for i in range(30)]
    path = write(tmp_path / "d.csv", rows)
    calls = 0

    @contextmanager
    def dying() -> Iterator[Session]:
        nonlocal calls
        calls += 1
        # registrar check, 3 screens, ledger row, index check, two chunks, then "dies"
        if calls == 9:
            raise Crash
        with container.unit_of_work() as s:
            yield s

    with pytest.raises(Crash):
        run(container, path, chunk_size=10, unit_of_work=dying)
    assert count(container) == 20
    report = run(container, path, chunk_size=10)
    assert (report.resumed_from_line, report.counts.created, report.rejected_count) == (22, 30, 0)
    assert count(container) == 30


class Crash(Exception):
    pass


@pytest.mark.usefixtures("registrars")
def test_no_personal_value_in_the_database(container: Container, tmp_path: Path) -> None:
    run(container, write(tmp_path / "d.csv", [person("a.vn"), person("b.vn")]))
    with container.engine.connect() as conn:
        dump = "\n".join(
            repr(tuple(r))
            for t in ("domains", "audit_entries", "import_runs")
            for r in conn.execute(text(f"SELECT * FROM {t}"))
        )
    for value in (ID_NUMBER, FULL_NAME, BIRTH_DATE.isoformat()):
        assert value not in dump


@pytest.mark.usefixtures("registrars")
def test_the_synthetic_domains_import_cleanly(container: Container, tmp_path: Path) -> None:
    from itertools import islice

    from dinhdanh.synth.internet import generate_resources
    from dinhdanh.synth.population import generate_population

    people = list(islice(generate_population(200, seed=3, today=date(2026, 1, 1)), 200))
    synth = generate_resources(organisations=20, domains=150, people=people, seed=9)
    assert synth == generate_resources(organisations=20, domains=150, people=people, seed=9)
    assert any(not d["domain"].isascii() for d in synth.domains)  # Vietnamese U-labels
    report = run(container, write(tmp_path / "d.csv", synth.domains))
    assert (report.rejected_count, report.counts.created) == (0, 150)
