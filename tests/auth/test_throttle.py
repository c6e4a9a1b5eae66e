"""Brute-force protection: per-account and per-IP back-off, capped at 15 minutes, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dinhdanh.auth.login import LoginFailed
from dinhdanh.auth.throttle import backoff
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.wiring import Container
from tests.oidc.conftest import PASSWORD, Citizen, make_citizen

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CAP = timedelta(minutes=15)


def test_backoff_is_exponential_and_capped() -> None:
    assert [backoff(n, 3, CAP).total_seconds() for n in range(1, 9)] == [
        0, 0, 0, 2, 4, 8, 16, 32,
    ]  # fmt: skip
    assert backoff(10_000, 3, CAP) == CAP
    assert all(backoff(n, 0, CAP) <= CAP for n in range(200))


def _login(
    c: Container, citizen: Citizen, password: str, ip: str, now: datetime
) -> LoginFailed | None:
    failure = None
    with c.unit_of_work() as s:
        try:
            c.auth.login.password(s, citizen.id_number, password, ip=ip, user_agent="t", now=now)
        except LoginFailed as exc:
            failure = exc
    return failure


@pytest.fixture
def citizen(container: Container) -> Citizen:
    return make_citizen(container)


def test_account_throttle_across_ips_and_its_cap(container: Container, citizen: Citizen) -> None:
    c = container
    now = T0
    for i in range(4):  # 3 free failures, the 4th blocks for 2 s
        failure = _login(c, citizen, "wrong password!", f"10.0.0.{i}", now)
        assert failure is not None
        assert failure.retry_after is None
    # Blocked now, even with the right password from a fresh IP.
    blocked = _login(c, citizen, PASSWORD, "10.1.1.1", now + timedelta(seconds=1))
    assert blocked is not None
    assert blocked.retry_after == now + timedelta(seconds=2)
    # Once the back-off has passed, the right password works and resets the account counter.
    assert _login(c, citizen, PASSWORD, "10.1.1.1", now + timedelta(seconds=3)) is None
    # Many failures: the wait grows but never beyond 15 minutes.
    for _ in range(30):
        failure = _login(c, citizen, "wrong password!", "10.2.2.2", now)
        assert failure is not None
        if failure.retry_after is not None:
            assert failure.retry_after - now <= CAP
            now = failure.retry_after  # wait it out, then fail again
    assert _login(c, citizen, PASSWORD, "10.3.3.3", now + CAP) is None


def test_ip_throttle_across_accounts(container: Container) -> None:
    c = container
    people = [
        make_citizen(c, f"00109001234{i}", phone=f"+8491234567{i}", full_name=f"Lê Văn {i}")
        for i in range(5)
    ]
    for p in people[:4]:
        assert _login(c, p, "wrong password!", "10.6.6.6", T0) is not None
    # The IP is now blocked for everyone, though this account never failed.
    blocked = _login(c, people[4], PASSWORD, "10.6.6.6", T0)
    assert blocked is not None
    assert blocked.retry_after is not None
    # Another IP is not affected.
    assert _login(c, people[4], PASSWORD, "10.7.7.7", T0) is None


def test_unknown_id_number_fails_like_a_wrong_password(container: Container) -> None:
    c = container
    ghost = Citizen("001090099999", "", "", "", T0.date(), "")
    failure = _login(c, ghost, "whatever password", "10.8.8.8", T0)
    assert failure is not None
    assert failure.retry_after is None


def test_every_failure_is_audited(container: Container, citizen: Citizen) -> None:
    c = container
    for i in range(5):
        _login(c, citizen, "wrong password!", "10.0.0.9", T0 + timedelta(seconds=i))
    with c.unit_of_work() as s:
        rows = s.execute(
            select(AuditEntry.action, func.count())
            .where(AuditEntry.action.like("password:%"))
            .group_by(AuditEntry.action)
        )
        counts = {row[0]: row[1] for row in rows}
        subjects = set(s.scalars(select(AuditEntry.subject).where(AuditEntry.action.like("pass%"))))
    assert counts.get("password:failed", 0) + counts.get("password:throttled", 0) == 5
    assert counts["password:failed"] >= 4
    assert subjects == {citizen.subject_id}
