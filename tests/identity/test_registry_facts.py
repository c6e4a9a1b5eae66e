"""The registry's interface for other domains: subjects and facts, audited when opened."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from dinhdanh.identity import indexes
from dinhdanh.identity.rules import CitizenRecord, check_citizen
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD, row

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
CTX = AccessContext("test", "officer", "test facts")
AN, CHAU, HUY, ELDER = GOOD[0], GOOD[2], GOOD[3], GOOD[4]  # HUY's guardian is AN
NOBODY = "00000000-0000-0000-0000-000000000000"
LEAP = row("001308000042", "Vũ Thị Mai", "2008-02-29", "F", guardian_id_number=AN["id_number"])


def _load(c: Container) -> dict[str, str]:
    records = [check_citizen(r, NOW.date()) for r in [*GOOD, LEAP]]
    assert all(isinstance(r, CitizenRecord) for r in records), records
    with c.unit_of_work() as s:
        c.registry.upsert(s, records, CTX, NOW)  # type: ignore[arg-type]
    subjects = {}
    with c.unit_of_work() as s:
        for r in [*GOOD, LEAP]:
            subject = c.registry.subject(s, r["id_number"])
            assert subject is not None
            subjects[r["id_number"]] = subject.subject_id
    return subjects


def _entries(c: Container) -> list[tuple[str, str | None, str]]:
    with c.unit_of_work() as s:
        rows = s.execute(
            select(AuditEntry.action, AuditEntry.subject, AuditEntry.fields).order_by(
                AuditEntry.seq
            )
        )
        return [(a, sub, f) for a, sub, f in rows]


def _count(c: Container) -> int:
    with c.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_subject_by_id_number_opens_nothing(container: Container) -> None:
    c = container
    ids = _load(c)
    before = _count(c)
    with c.unit_of_work() as s:
        an = c.registry.subject(s, " 001090012345 ".strip())
        assert an is not None
        assert an.subject_id == ids[AN["id_number"]]
        assert an.id_bidx == indexes.id_index(c.ring, AN["id_number"])
        assert an.name_bidx == indexes.name_index(c.ring, AN["full_name"])
        assert an.dob_bidx == indexes.dob_index(c.ring, date(1990, 5, 12))
        assert (an.deceased, an.has_guardian) == (False, False)
        assert an.deceased is False
        huy = c.registry.subject_by_id(s, ids[HUY["id_number"]])
        assert huy is not None
        assert huy.has_guardian is True
        assert c.registry.subject(s, "079195999999") is None  # well-formed, nobody
        assert c.registry.subject(s, "not a number") is None
        assert c.registry.subject_by_index(s, an.id_bidx) == an
        # Clear-column facts.
        assert c.registry.is_verified(s, ids[AN["id_number"]])
        assert not c.registry.is_verified(s, ids[ELDER["id_number"]])  # deceased
        assert not c.registry.is_verified(s, NOBODY)
        assert c.registry.is_deceased(s, ids[ELDER["id_number"]]) is True
        assert c.registry.is_deceased(s, ids[AN["id_number"]]) is False
        assert c.registry.is_deceased(s, NOBODY) is None
    assert _count(c) == before


def test_age_facts_open_the_birth_date_and_are_audited(container: Container) -> None:
    c = container
    ids = _load(c)
    mai = ids[LEAP["id_number"]]
    before = _count(c)
    with c.unit_of_work() as s:
        # Born 29 February 2008: 18 on 1 March 2026, a common year.
        assert c.registry.is_over(s, mai, 18, date(2026, 2, 28), CTX, NOW) is False
        assert c.registry.is_over(s, mai, 18, date(2026, 3, 1), CTX, NOW) is True
        assert c.registry.is_over(s, NOBODY, 18, NOW.date(), CTX, NOW) is None
    entries = _entries(c)[before:]
    assert [(a, sub) for a, sub, _ in entries] == [("read", mai), ("read", mai)]
    assert all("date_of_birth" in f and "full_name" not in f for _, _, f in entries)


def test_guardians_and_children_by_blind_index(container: Container) -> None:
    c = container
    ids = _load(c)
    an, huy, mai = ids[AN["id_number"]], ids[HUY["id_number"]], ids[LEAP["id_number"]]
    before = _count(c)
    with c.unit_of_work() as s:
        assert c.registry.guardians_of(s, huy, CTX, NOW) == [an]
        assert c.registry.guardians_of(s, an, CTX, NOW) == []
        assert sorted(c.registry.children_of(s, an, CTX, NOW)) == sorted([huy, mai])
        assert c.registry.children_of(s, huy, CTX, NOW) == []
    entries = _entries(c)[before:]
    # One entry for the guardian link read, one per child found; each names the link only.
    assert sorted(sub or "" for _, sub, _ in entries) == sorted([huy, huy, mai])
    assert all("guardian_id_number" in f and "date_of_birth" not in f for _, _, f in entries)


def test_dates_of_death_open_the_deceased_only(container: Container) -> None:
    c = container
    ids = _load(c)
    before = _count(c)
    with c.unit_of_work() as s:
        id_bidxs, dates = c.registry.dates_of_death(s, CTX, NOW)
    assert id_bidxs == [indexes.id_index(c.ring, ELDER["id_number"])]
    assert dates == [date(2020, 3, 3)]
    assert [(a, sub) for a, sub, _ in _entries(c)[before:]] == [("read", ids[ELDER["id_number"]])]
