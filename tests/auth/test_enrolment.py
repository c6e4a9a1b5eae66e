"""Enrolment at level 1: registry match, one-time code through the outbox to the numbers the
telecom registry lists, per-flow locks that no one can renew against the citizen, and answers
that never tell whether an ID number exists. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.auth.enrolment import Completed, EnrolmentFailed, State
from dinhdanh.auth.models import Enrolment
from dinhdanh.choices import Environment
from dinhdanh.identity import indexes
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.telecom.service import Verdict
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.auth.factories import subscribe
from tests.oidc.conftest import Citizen, csrf_of, make_citizen

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "sông Hồng chảy qua Hà Nội 7"


@pytest.fixture
def person(container: Container) -> Citizen:
    p = make_citizen(container, with_account=False)
    subscribe(container, p, p.phone, "VNP")
    return p


def _last_code(c: Container) -> str:
    with c.unit_of_work() as s:
        messages = c.auth.outbox.messages(s, limit=1)
    assert messages, "no SMS in the outbox"
    m = re.search(r"\b(\d{6})\b", messages[0].text)
    assert m
    return m.group(1)


def _start(c: Container, p: Citizen, now: datetime = T0, ip: str = "10.0.0.1") -> str:
    with c.unit_of_work() as s:
        started = c.auth.enrolments.start(
            s, p.id_number, p.full_name, p.date_of_birth, ip=ip, now=now
        )
    return started.token


def _verify(c: Container, token: str, code: str, now: datetime) -> EnrolmentFailed | None:
    failure = None
    with c.unit_of_work() as s:
        try:
            c.auth.enrolments.verify(s, token, code, now)
        except EnrolmentFailed as exc:
            failure = exc
    return failure


def test_match_code_and_password_create_a_level_1_account(
    container: Container, person: Citizen
) -> None:
    c = container
    token = _start(c, person)
    with c.unit_of_work() as s:
        sent = c.auth.outbox.messages(s)
    assert [m.to for m in sent] == [person.phone]
    code = _last_code(c)
    assert _verify(c, token, code, T0 + timedelta(seconds=30)) is None
    # Replaying the same code fails: it was single use.
    assert _verify(c, token, code, T0 + timedelta(seconds=40)) is not None
    with c.unit_of_work() as s:
        weak = c.auth.enrolments.complete(s, token, "password", T0 + timedelta(minutes=1))
        assert isinstance(weak, list)  # the common-password list refuses it
    with c.unit_of_work() as s:
        done = c.auth.enrolments.complete(s, token, NEW_PASSWORD, T0 + timedelta(minutes=1))
        assert isinstance(done, Completed)
        assert done.account.level == 1
        assert done.account.subject_id == person.subject_id
        # A password and an SMS code: level 1 at most, never "mfa" (issue 8, finding 1).
        assert (done.amr, done.acr) == (("pwd", "sms"), 1)
    with c.unit_of_work() as s:
        enrolled = c.auth.accounts.by_subject(s, person.subject_id)
        assert enrolled is not None
        assert c.auth.accounts.password_matches(enrolled.password_hash, NEW_PASSWORD)
        assert not c.auth.accounts.password_matches(enrolled.password_hash, NEW_PASSWORD + "x")
        actions = set(s.scalars(select(AuditEntry.action)))
    assert {"enrolment:code_ok", "enrolment:completed"} <= actions


def test_wrong_and_expired_codes_fail(container: Container, person: Citizen) -> None:
    c = container
    token = _start(c, person)
    code = _last_code(c)
    wrong = "000000" if code != "000000" else "111111"
    assert _verify(c, token, wrong, T0) is not None
    late = T0 + timedelta(seconds=c.settings.otp_seconds + 1)
    assert _verify(c, token, code, late) is not None
    with c.unit_of_work() as s, pytest.raises(EnrolmentFailed):
        c.auth.enrolments.complete(s, token, NEW_PASSWORD, late)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_five_wrong_codes_lock_that_flow_only(container: Container, person: Citizen) -> None:
    c = container
    token = _start(c, person)
    code = _last_code(c)
    for i in range(5):
        assert _verify(c, token, _wrong(code), T0 + timedelta(seconds=i)) is not None
    with c.unit_of_work() as s:
        row = s.scalars(select(Enrolment)).one()
        assert row.state == State.LOCKED
    # Even the right code fails in this flow now ...
    locked = _verify(c, token, code, T0 + timedelta(seconds=10))
    assert locked is not None
    assert locked.flow_over
    # ... but a fresh flow for the same ID number works at once, from any address.
    later = T0 + timedelta(seconds=20)
    token = _start(c, person, later, ip="10.9.9.9")
    assert _verify(c, token, _last_code(c), later) is None
    with c.unit_of_work() as s:
        actions = list(s.scalars(select(AuditEntry.action)))
    assert actions.count("enrolment:code_wrong") == 5
    assert actions.count("enrolment:code_locked") == 1


def test_an_attacker_who_knows_only_the_id_number_never_blocks_the_citizen(
    container: Container, person: Citizen
) -> None:
    """Flows for a wrong name (all an attacker without name and birth date can start) get
    their 5 wrong codes, again and again, from many addresses; the citizen's own flows, started
    before or during that, still work."""
    c = container
    before = _start(c, person, T0, ip="10.0.0.1")
    code_before = _last_code(c)
    now = T0
    for round_ in range(12):  # 3 hours, a new locked flow every 15 minutes
        now = T0 + timedelta(minutes=15 * round_)
        with c.unit_of_work() as s:
            attacker = c.auth.enrolments.start(
                s,
                person.id_number,
                "Kẻ Gian",
                person.date_of_birth,
                ip=f"10.66.0.{round_}",
                now=now,
            ).token
        for i in range(5):
            assert _verify(c, attacker, f"{i:06d}", now + timedelta(seconds=i)) is not None
        if round_ == 0:
            assert _verify(c, before, code_before, now + timedelta(seconds=10)) is None
        mine = _start(c, person, now + timedelta(seconds=30), ip="10.0.0.1")
        assert _verify(c, mine, _last_code(c), now + timedelta(seconds=40)) is None
    with c.unit_of_work() as s:
        wrongs = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "enrolment:code_wrong")
        ).all()
    assert len(wrongs) == 12 * 5


def test_codes_for_one_id_number_back_off_silently_and_at_most_15_minutes(
    container: Container, person: Citizen
) -> None:
    """Someone with the ID number, name and birth date starts flow after flow: after 3 free
    codes, sends back off (2 s, 4 s, ... capped at 15 minutes); a start during the back-off
    answers the same page but sends nothing. However long it goes on, a start 15 minutes after
    the last code sent always sends one."""
    c = container
    sends: list[datetime] = []
    now = T0
    for i in range(40):
        now = T0 + timedelta(seconds=i)
        with c.unit_of_work() as s:
            before = len(c.auth.outbox.messages(s, limit=1000))
        _start(c, person, now, ip=f"10.5.{i}.1")
        with c.unit_of_work() as s:
            if len(c.auth.outbox.messages(s, limit=1000)) > before:
                sends.append(now)
    assert 3 <= len(sends) < 10
    # Keep asking every 10 seconds for 2 hours: a code goes out at least every 15 minutes.
    for i in range(720):
        now = T0 + timedelta(minutes=1, seconds=10 * i)
        with c.unit_of_work() as s:
            before = len(c.auth.outbox.messages(s, limit=10_000))
        _start(c, person, now, ip=f"10.6.{i % 250}.{i // 250}")
        with c.unit_of_work() as s:
            if len(c.auth.outbox.messages(s, limit=10_000)) > before:
                sends.append(now)
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert max(gaps) <= timedelta(minutes=15, seconds=10)
    with c.unit_of_work() as s:
        suppressed = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "enrolment:send_throttled")
        ).all()
    assert len(suppressed) == 40 + 720 - len(sends)


def _numbers(c: Container, p: Citizen) -> list[str]:
    with c.unit_of_work() as s:
        return c.auth.phones.numbers_for(s, indexes.id_index(c.ring, p.id_number), p.subject_id, T0)


def test_the_code_goes_to_every_usable_number_of_the_telecom_registry(
    container: Container, person: Citizen
) -> None:
    c = container
    ctx = AccessContext("test", "citizen", "my numbers")
    subscribe(c, person, "+84961111111", "VTL")  # a second number: both get the code
    subscribe(c, person, "+84962222222", "VTL", status="terminated")
    subscribe(c, person, "+84963333333", "VTL", full_name="Trần Văn Bảy")  # someone else's name
    subscribe(c, person, "+84964444444", "VTL", date_of_birth="1991-05-12")  # wrong birth date
    subscribe(c, person, "+84965555555", "VTL")  # disowned below
    subscribe(c, person, "+84966666666", "VTL")  # flagged junk below (open lock case)
    subscribe(c, person, "+84967777777", "VTL")  # junk once, resolved: usable again
    with c.unit_of_work() as s:
        id_bidx = indexes.id_index(c.ring, person.id_number)
        c.telecom.declare(s, person.subject_id, id_bidx, "+84965555555", "disowned", ctx, T0)
        junk = [
            Verdict("VTL", "+84966666666", ("agent_burst",), "notify"),
            Verdict("VTL", "+84967777777", ("agent_burst",), "notify"),
        ]
        c.telecom.apply_verdicts(s, junk, None, ctx, T0)
        c.telecom.resolve(s, "VTL", "+84967777777", "owner re-verified", ctx, T0)
    assert _numbers(c, person) == [person.phone, "+84961111111", "+84967777777"]
    token = _start(c, person)
    with c.unit_of_work() as s:
        sent = c.auth.outbox.messages(s)
    assert sorted(m.to for m in sent) == sorted(_numbers(c, person))
    assert len({m.text for m in sent}) == 1  # one code, to each number
    assert _verify(c, token, _last_code(c), T0) is None


def test_a_citizen_without_a_usable_number_gets_no_code(container: Container) -> None:
    c = container
    # The registry still has a phone for them; only the telecom registry counts.
    p = make_citizen(c, with_account=False)
    assert _numbers(c, p) == []
    token = _start(c, p)
    with c.unit_of_work() as s:
        assert c.auth.outbox.messages(s) == []
    assert _verify(c, token, "123456", T0) is not None


def test_unknown_id_or_wrong_details_look_exactly_like_a_match(
    container: Container, person: Citizen
) -> None:
    c = container
    c.clock = lambda: T0
    unlisted = make_citizen(
        c, "001090054321", "Phạm Thị Hoa", person.date_of_birth, with_account=False
    )
    bodies = []
    with TestClient(create_app(c), base_url="https://testserver") as tc:
        csrf = csrf_of(tc.get("/enrol").text)
        for id_number, name in (
            (person.id_number, person.full_name),  # real
            ("001090099999", person.full_name),  # no such citizen
            (person.id_number, "Trần Thị Bình"),  # wrong name
            (unlisted.id_number, unlisted.full_name),  # real, but no number at any carrier
        ):
            resp = tc.post(
                "/enrol",
                data={
                    "id_number": id_number,
                    "full_name": name,
                    "date_of_birth": person.date_of_birth.isoformat(),
                    "csrf": csrf,
                },
            )
            assert resp.status_code == 200
            assert "__Host-dd_enrol=" in resp.headers["set-cookie"]
            bodies.append(resp.text)
            # Every flow asks for a code; only the real one ever gets a code that works.
            resp = tc.post("/enrol/code", data={"code": "123456", "csrf": csrf})
            assert resp.status_code == 400
    assert bodies[0] == bodies[1] == bodies[2] == bodies[3]
    # The one page says why a code may not come, without saying which reason applies.
    assert "registered with your ID" in bodies[0] or "đã đăng ký đúng số định danh" in bodies[0]
    with c.unit_of_work() as s:
        assert len(c.auth.outbox.messages(s)) == 1


def test_dev_outbox_only_in_dev(container: Container, person: Citizen) -> None:
    with TestClient(create_app(container), base_url="https://testserver") as tc:
        assert tc.get("/dev/outbox").status_code == 404
    _start(container, person)
    container.settings = container.settings.model_copy(update={"env": Environment.DEV})
    with TestClient(create_app(container), base_url="https://testserver") as tc:
        page = tc.get("/dev/outbox")
    assert page.status_code == 200
    assert _last_code(container) in page.text


def test_birth_date_mismatch_sends_nothing(container: Container, person: Citizen) -> None:
    c = container
    with c.unit_of_work() as s:
        c.auth.enrolments.start(
            s, person.id_number, person.full_name, date(1991, 1, 1), ip="10.0.0.2", now=T0
        )
    with c.unit_of_work() as s:
        assert c.auth.outbox.messages(s) == []
