"""Helpers of the age credential tests: citizens of known ages, issuing through the service,
a verifier of our own credentials, and the sd-jwt reference implementation as a second
verifier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from dinhdanh.age.credentials.keys import IssuerAlg
from dinhdanh.age.credentials.verifier import Trust
from dinhdanh.age.wallet import Wallet
from dinhdanh.identity.age import latest_birth
from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.wiring import Container, build, init_data_dir
from tests.support import Citizen, make_citizen

RFC9901: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "sd_jwt_rfc9901.json").read_text(encoding="utf-8")
)
CTX = AccessContext("account:test", "citizen", "age credentials")
VERIFIER = "https://shop.example.vn"


def born_aged(years: int, today: date) -> date:
    """A birth date making someone exactly ``years`` old today (a birthday today)."""
    return latest_birth(years, today)


def id_number_for(dob: date, serial: str = "012345") -> str:
    """An ID number of a woman born on ``dob`` registered in Hà Nội (Circular 59/2021)."""
    century = (dob.year - 1900) // 100 * 2 + 1  # 1: 1900s, 3: 2000s (female)
    return f"001{century}{dob.year % 100:02d}{serial}"


def make_teen(c: Container, today: date, years: int = 17, serial: str = "012345") -> Citizen:
    """A registry citizen ``years`` old (17: over 13 and 16, not 18), no account."""
    dob = born_aged(years, today)
    return make_citizen(c, id_number_for(dob, serial), "Trần Thị Bình", dob, with_account=False)


def record_death(c: Container, citizen: Citizen) -> None:
    """The registry feed reports ``citizen`` dead today."""
    death = CitizenRecord(
        citizen.id_number,
        citizen.full_name,
        citizen.date_of_birth,
        Sex.FEMALE,
        citizen.id_number[:3],
        phone=citizen.phone,
        date_of_death=c.clock().date(),
    )
    with c.unit_of_work() as s:
        c.registry.upsert(s, [death], AccessContext("test", "registry_import", "death"), c.clock())


def issue(
    c: Container,
    subject: str,
    wallet: Wallet,
    n: int = 10,
    *,
    alg: IssuerAlg = "EdDSA",
    now: datetime | None = None,
) -> list[str]:
    """A batch through ``AgeCredentials.issue_batch``, stored in ``wallet``."""
    keys = wallet.holder_keys(n)
    with c.unit_of_work() as s:
        credentials = c.age_credentials.issue_batch(
            s, subject, keys, CTX, now or c.clock(), alg=alg
        )
    wallet.store(credentials)
    return credentials


def local_trust(c: Container, **options: Any) -> Trust:
    """A verifier of our own credentials, statuses read from our database."""
    return c.age_credentials.trust(
        c.age_credentials.local_status(c.unit_of_work, c.clock), **options
    )


@pytest.fixture(scope="module")
def sqlite_container(
    tmp_path_factory: pytest.TempPathFactory, ring_json: str
) -> Iterator[Container]:
    """One SQLite container for a module whose tests need a store but test no storage."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("age") / "var", keyring=ring_json)
    init_data_dir(settings)[1].dispose()
    with closing(build(settings)) as c:
        yield c
