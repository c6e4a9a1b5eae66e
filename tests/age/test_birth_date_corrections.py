"""A registry correction of a birth date sets the age bands platforms hold again, down as well
as up (age.bands.recheck_corrected): an account whose owner turns out to be 15 loses "over
16" and waits for a guardian; the platform is told; the citizen's age credentials are
revoked; the date is told by its blind index (one audited read, nothing opened). Real
sign-ins and bindings through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.age.bands import Rechecked
from dinhdanh.age.wallet import Wallet
from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.models import BirthDateCorrection
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.wiring import Container
from tests.age.conftest import issue
from tests.age.test_bands import bind_as, feed, person, refresh_reads, status
from tests.social.conftest import add_platform
from tests.support import Citizen, Clock

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
IMPORT = AccessContext("test", "registry_import", "a correction")


def correct(c: Container, who: Citizen, dob: date, name: str | None = None) -> None:
    record = CitizenRecord(
        who.id_number, name or who.full_name, dob, Sex.MALE, who.id_number[:3], phone=who.phone
    )
    with c.unit_of_work() as s:
        c.registry.upsert(s, [record], IMPORT, NOW)


def recheck(c: Container) -> Rechecked:
    with c.unit_of_work() as s:
        done = c.age_bands.recheck_corrected(s, c.clock())
        c.age_credentials.revoke_deceased(s, c.clock(), also=done.subjects)
        return done


def queued(c: Container) -> list[str]:
    with c.unit_of_work() as s:
        return list(s.scalars(select(BirthDateCorrection.subject_id)))


def test_a_corrected_birth_date_lowers_the_bands(
    container: Container, app_client: TestClient
) -> None:
    c = container
    c.clock = Clock(NOW)
    teen = person(c, date(2010, 1, 10), "000401")  # 16 today
    adult = person(c, date(1990, 3, 3), "000402")
    zalo = add_platform(c, "zalo")
    bind_as(app_client, teen, zalo, "t1")
    bind_as(app_client, adult, zalo, "a1")
    before = status(c, zalo, "t1")
    assert (before.age_over_16, before.age_over_18, before.guardian_approved) == (
        True,
        False,
        None,
    )
    issue(c, teen.subject_id, Wallet(), 4)

    # A change that is not the birth date queues nothing.
    correct(c, adult, date(1990, 3, 3), name="Lê Minh Anh Thư")
    assert queued(c) == []

    # The registry corrects the birth date within the same year: 15 today.
    correct(c, teen, date(2010, 12, 20))
    assert queued(c) == [teen.subject_id]
    reads = len(refresh_reads(c))
    assert recheck(c) == Rechecked([teen.subject_id], 1)
    after = status(c, zalo, "t1")
    assert (after.age_over_13, after.age_over_16, after.age_over_18) == (True, False, False)
    assert after.guardian_approved is False
    assert "PENDING_GUARDIAN" in after.flags
    assert feed(c, zalo)[-1] == ("t1", "age_band_changed", c.clock())
    assert status(c, zalo, "a1").age_over_18 is True  # the other binding untouched
    with c.unit_of_work() as s:
        assert c.age_credentials.active(s, teen.subject_id, c.clock()) == 0
    # One audited read of the birth date, by its blind index.
    assert refresh_reads(c)[reads:] == [("read", teen.subject_id, "date_of_birth")]

    # Done: the queue is empty, a second run changes nothing and tells nobody.
    assert queued(c) == []
    told = len(feed(c, zalo))
    assert recheck(c) == Rechecked([], 0)
    assert len(feed(c, zalo)) == told

    # Corrected back: the bands rise again at once, the guardian state ends.
    correct(c, teen, date(2010, 1, 10))
    assert recheck(c) == Rechecked([teen.subject_id], 1)
    back = status(c, zalo, "t1")
    assert (back.age_over_16, back.guardian_approved, back.flags) == (True, None, ())
