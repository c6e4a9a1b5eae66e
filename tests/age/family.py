"""A family in the registry for the guardian tests: parents, a child under 16, a teen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.wiring import Container
from tests.support import Citizen, make_citizen

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
TODAY = NOW.date()
SEED = AccessContext("test", "registry_import", "seed")
OFFICER = AccessContext("test:officer", "officer", "guardian links")


def id_for(dob: date, serial: str) -> str:
    century = (dob.year - 1900) // 100 * 2 + 1
    return f"001{century}{dob.year % 100:02d}{serial}"


def person(
    c: Container, dob: date, serial: str, name: str = "Trần Thị Bình", *, account: bool = False
) -> Citizen:
    return make_citizen(c, id_for(dob, serial), name, dob, with_account=account)


@dataclass
class Family:
    mother: Citizen
    father: Citizen
    aunt: Citizen
    child: Citizen  # 12 on TODAY
    teen: Citizen  # 17 on TODAY
    other_parent: Citizen  # guardian of no one here


def make_family(c: Container, *, accounts: bool = False) -> Family:
    return Family(
        mother=person(c, date(1985, 3, 4), "000101", "Trần Thị Mai", account=accounts),
        father=person(c, date(1984, 7, 9), "000102", "Lê Văn Hùng", account=accounts),
        aunt=person(c, date(1990, 1, 1), "000103", "Trần Thị Lan", account=accounts),
        child=person(c, date(2014, 2, 28), "000104", "Lê Minh Anh"),
        teen=person(c, date(2008, 9, 30), "000105", "Lê Minh Khoa"),
        other_parent=person(c, date(1980, 5, 5), "000106", "Phạm Văn Tú", account=accounts),
    )


def registry_guardian(c: Container, child: Citizen, guardian: Citizen | None) -> None:
    """The citizen feed names ``guardian`` (or nobody) as the child's guardian."""
    rec = CitizenRecord(
        child.id_number,
        child.full_name,
        child.date_of_birth,
        Sex.FEMALE,
        child.id_number[:3],
        guardian_id_number=None if guardian is None else guardian.id_number,
        phone=child.phone,
    )
    with c.unit_of_work() as s:
        c.registry.upsert(s, [rec], SEED, NOW)


def link(c: Container, child: Citizen, guardian: Citizen, **kw: object) -> str:
    with c.unit_of_work() as s:
        made = c.guardians.add(
            s,
            child=child.subject_id,
            guardian=guardian.subject_id,
            relation=str(kw.get("relation", "mother")),
            source=str(kw.get("source", "officer")),
            valid_from=kw.get("valid_from", date(2020, 1, 1)),  # type: ignore[arg-type]
            valid_to=kw.get("valid_to"),  # type: ignore[arg-type]
            legal_basis="court order 12/2026",
            ctx=OFFICER,
            now=kw.get("now", NOW),  # type: ignore[arg-type]
        )
    return made.id
