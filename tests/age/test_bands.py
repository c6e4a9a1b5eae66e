"""Age bands of platform bindings rise as their owners grow up (age.bands): after the month
of the birthday has ended, never on the day; at 16 the guardian state ends; each platform is
told once; a rerun changes nothing; nothing stored joins two platforms' rows. Real sign-ins
and bindings through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.age.bands import Refreshed
from dinhdanh.age.guardian_rules import Decision
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.social import models as m
from dinhdanh.social.service import Status
from dinhdanh.wiring import Container
from tests.age.family import id_for, link
from tests.age.test_children import binding_of, decide, log_in_password
from tests.social.conftest import Plat, add_platform, bind, sign_in
from tests.social.linking import assert_unlinkable, binding_rows
from tests.support import PASSWORD, Citizen, Clock, make_citizen

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def person(c: Container, dob: date, serial: str, *, account: bool = True) -> Citizen:
    """A registry citizen with a password-only login (as a guardian makes a child's)."""
    who = make_citizen(c, id_for(dob, serial), "Lê Minh Anh", dob, with_account=False)
    if account:
        with c.unit_of_work() as s:
            made = c.auth.accounts.create(s, who.subject_id, 1, NOW)
            assert not c.auth.accounts.set_password(made, PASSWORD, [], NOW)
    return who


def bind_as(tc: TestClient, who: Citizen, plat: Plat, account: str) -> None:
    tc.cookies.clear()
    log_in_password(tc, who)
    resp = bind(tc, plat, account, sign_in(tc, plat))
    assert resp.status_code == 200, resp.text


def refresh(c: Container, day: date) -> Refreshed:
    c.clock = Clock(datetime.combine(day, time(3), UTC))
    with c.unit_of_work() as s:
        return c.age_bands.refresh(s, c.clock())


def status(c: Container, plat: Plat, account: str) -> Status:
    with c.unit_of_work() as s:
        return c.social.status(s, plat.code, [account], c.clock())[0]


def feed(c: Container, plat: Plat) -> list[tuple[str, str, datetime]]:
    with c.unit_of_work() as s:
        return [(e.account_id, e.kind, e.at) for e in c.social.events(s, plat.code, 0)]


def refresh_reads(c: Container) -> list[tuple[str, str | None, str]]:
    with c.unit_of_work() as s:
        rows = s.execute(
            select(AuditEntry.action, AuditEntry.subject, AuditEntry.fields).where(
                AuditEntry.actor == "age:bands"
            )
        )
        return [(a, subject, fields) for a, subject, fields in rows]


def audited(c: Container) -> int:
    with c.unit_of_work() as s:
        return len(s.scalars(select(AuditEntry.seq)).all())


def test_bands_rise_after_the_birthday_month(container: Container, app_client: TestClient) -> None:
    c = container
    c.clock = Clock(NOW)
    kid = person(c, date(2013, 6, 20), "000201")  # 12 today, 13 on 20 June
    teen = person(c, date(2010, 6, 10), "000202")  # 15 today, 16 on 10 June
    other = person(c, date(2013, 6, 5), "000203", account=False)  # 13 in June, bound nowhere
    person(c, date(2013, 7, 2), "000204", account=False)  # 13 in July: not in June's run
    zalo, fb = add_platform(c, "zalo"), add_platform(c, "fb")
    bind_as(app_client, kid, zalo, "k1")
    bind_as(app_client, kid, fb, "k-fb")
    bind_as(app_client, teen, zalo, "t1")
    assert status(c, zalo, "k1").age_over_13 is False
    before = status(c, zalo, "t1")
    assert (before.age_over_13, before.age_over_16, before.guardian_approved) == (
        True,
        False,
        False,
    )
    assert "PENDING_GUARDIAN" in before.flags

    # After both birthdays, but June has not ended: the platform learns nothing yet.
    assert refresh(c, date(2026, 6, 25)) == Refreshed(date(2026, 5, 31), 0)
    assert status(c, zalo, "k1").age_over_13 is False
    assert refresh_reads(c) == []  # a first run from the day of binding: nothing to look up

    audited_before = audited(c)
    assert refresh(c, date(2026, 7, 1)) == Refreshed(date(2026, 6, 30), 3)
    for plat, account in ((zalo, "k1"), (fb, "k-fb")):
        st = status(c, plat, account)
        assert (st.age_over_13, st.age_over_16, st.age_over_18) == (True, False, False)
    after = status(c, zalo, "t1")
    assert (after.age_over_16, after.age_over_18, after.guardian_approved) == (True, False, None)
    assert after.flags == ()
    at = c.clock()
    # Told once per binding, at the run's time, not on a birthday.
    assert feed(c, zalo)[-2:] == [("k1", "age_band_changed", at), ("t1", "age_band_changed", at)]
    assert feed(c, fb)[-1] == ("k-fb", "age_band_changed", at)

    # What the run processed: the birth-date matches of June, audited, and nothing opened.
    reads = refresh_reads(c)
    assert sorted(s or "" for _, s, _ in reads) == sorted(
        [kid.subject_id, teen.subject_id, other.subject_id]
    )
    assert {(a, f) for a, _, f in reads} == {("read", "date_of_birth")}
    assert audited(c) == audited_before + 3  # no other read (no record opened) in the run

    # Twice, or later in July: nothing changes, nobody is told again, nothing looked up.
    events = len(feed(c, zalo)) + len(feed(c, fb))
    assert refresh(c, date(2026, 7, 1)) == Refreshed(date(2026, 6, 30), 0)
    assert refresh(c, date(2026, 7, 20)) == Refreshed(date(2026, 6, 30), 0)
    assert len(feed(c, zalo)) + len(feed(c, fb)) == events
    assert len(refresh_reads(c)) == 3

    # The kid's two platforms' rows still share no value a thief could join them on.
    rows = [r for r in binding_rows(c) if r["age_over_13"] and not r["age_over_16"]]
    assert_unlinkable(rows, kid.subject_id)


def test_29_february_a_missed_period_and_an_approval(
    container: Container, app_client: TestClient
) -> None:
    c = container
    c.clock = Clock(NOW)
    mother = person(c, date(1985, 3, 4), "000301", account=False)
    leap16 = person(c, date(2012, 2, 29), "000302")  # 16 on 29 February 2028 (leap year)
    leap13 = person(c, date(2016, 2, 29), "000303")  # 13 on 1 March 2029 (common year)
    zalo = add_platform(c, "zalo")
    bind_as(app_client, leap16, zalo, "a")
    bind_as(app_client, leap13, zalo, "b")
    link(c, leap16, mother, now=NOW)
    decide(c, mother, leap16, binding_of(c, leap16), Decision.APPROVE)
    assert status(c, zalo, "a").guardian_approved is True

    assert refresh(c, date(2026, 7, 1)).changed == 0
    # No run for 20 months: the next one catches them all up, through February 2028.
    assert refresh(c, date(2028, 3, 1)) == Refreshed(date(2028, 2, 29), 1)
    st = status(c, zalo, "a")
    assert (st.age_over_16, st.guardian_approved, st.flags) == (True, None, ())
    with c.unit_of_work() as s:
        row = s.scalars(select(m.Binding).where(m.Binding.age_over_16.is_(True))).one()
        assert (row.guardian_state, row.guardian_link) == (None, None)
        assert c.children.sweep(s, c.clock()) == 0  # no approval left to end
    assert status(c, zalo, "b").age_over_13 is False

    # 2029 is common: 29 February children turn 13 on 1 March, so in March's period.
    assert refresh(c, date(2029, 3, 1)) == Refreshed(date(2029, 2, 28), 0)
    assert status(c, zalo, "b").age_over_13 is False
    assert refresh(c, date(2029, 4, 1)) == Refreshed(date(2029, 3, 31), 1)
    assert status(c, zalo, "b").age_over_13 is True
    kinds = [k for _, k, _ in feed(c, zalo)]
    assert kinds.count("age_band_changed") == 2
