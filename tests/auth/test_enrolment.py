"""Enrolment at level 1: registry match, one-time code through the outbox, lockout, and
answers that never tell whether an ID number exists. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.auth.enrolment import EnrolmentFailed, State
from dinhdanh.auth.models import Account, Enrolment
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.settings import Environment
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.oidc.conftest import Citizen, csrf_of, make_citizen

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "sông Hồng chảy qua Hà Nội 7"


@pytest.fixture
def person(container: Container) -> Citizen:
    return make_citizen(container, with_account=False)


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
        account = c.auth.enrolments.complete(s, token, NEW_PASSWORD, T0 + timedelta(minutes=1))
        assert isinstance(account, Account)
        assert account.level == 1
        assert account.subject_id == person.subject_id
    with c.unit_of_work() as s:
        assert c.auth.accounts.check_password(
            c.auth.accounts.by_subject(s, person.subject_id), NEW_PASSWORD
        )
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


def test_five_wrong_codes_lock_enrolment_for_15_minutes(
    container: Container, person: Citizen
) -> None:
    c = container
    token = _start(c, person)
    code = _last_code(c)
    wrong = "000000" if code != "000000" else "111111"
    for i in range(5):
        assert _verify(c, token, wrong, T0 + timedelta(seconds=i)) is not None
    with c.unit_of_work() as s:
        row = s.scalars(select(Enrolment)).one()
        assert row.state == State.LOCKED
    # Even the right code fails now, and so does a new flow for the same ID number.
    locked = _verify(c, token, code, T0 + timedelta(seconds=10))
    assert locked is not None
    assert locked.retry_after is not None
    assert locked.retry_after <= T0 + timedelta(minutes=15, seconds=5)
    with pytest.raises(EnrolmentFailed):
        _start(c, person, T0 + timedelta(minutes=10), ip="10.9.9.9")
    # After 15 minutes a new flow works again.
    later = T0 + timedelta(minutes=16)
    token = _start(c, person, later, ip="10.9.9.9")
    assert _verify(c, token, _last_code(c), later) is None
    with c.unit_of_work() as s:
        wrongs = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "enrolment:code_wrong")
        ).all()
    assert len(wrongs) == 5


def test_unknown_id_or_wrong_details_look_exactly_like_a_match(
    container: Container, person: Citizen
) -> None:
    c = container
    c.clock = lambda: T0
    bodies = []
    with TestClient(create_app(c), base_url="https://testserver") as tc:
        csrf = csrf_of(tc.get("/enrol").text)
        for id_number, name in (
            (person.id_number, person.full_name),  # real
            ("001090099999", person.full_name),  # no such citizen
            (person.id_number, "Trần Thị Bình"),  # wrong name
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
    assert bodies[0] == bodies[1] == bodies[2]
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
