"""Brute-force protection: per-account and per-IP back-off, capped at 15 minutes, audited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dinhdanh.auth import totp
from dinhdanh.auth.login import LoginFailed, LoginResult
from dinhdanh.auth.throttle import backoff
from dinhdanh.identity import indexes
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.wiring import Container
from tests.oidc.conftest import PASSWORD, TOTP_SECRET, Citizen, make_citizen

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
    try:
        c.auth.login.password(
            c.unit_of_work, citizen.id_number, password, ip=ip, user_agent="t", now=now
        )
    except LoginFailed as exc:
        return exc
    return None


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


def test_failures_during_the_hash_block_a_right_password(
    container: Container, citizen: Citizen
) -> None:
    # The password is hashed between two transactions; attackers who get the account blocked
    # meanwhile must not let this attempt through: concurrency buys no extra guesses.
    c = container
    calls = 0

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        nonlocal calls
        calls += 1
        if calls == 2:  # after the check, before the outcome is recorded
            for i in range(4):
                assert _login(c, citizen, "wrong password!", f"10.9.0.{i}", T0) is not None
        with c.unit_of_work() as s:
            yield s

    with pytest.raises(LoginFailed) as raised:
        c.auth.login.password(
            unit_of_work, citizen.id_number, PASSWORD, ip="10.1.1.1", user_agent="t", now=T0
        )
    assert raised.value.retry_after is not None
    assert calls == 2


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


def _answers(c: Container, citizen: Citizen) -> list[float | None]:
    """What 10 wrong passwords from 10 addresses, a second apart, are told: the wait, if any."""
    out = []
    for i in range(10):
        now = T0 + timedelta(seconds=i)
        failure = _login(c, citizen, "wrong password!", f"10.11.{i}.{citizen.id_number[-2:]}", now)
        assert failure is not None
        out.append(None if failure.retry_after is None else (failure.retry_after - now).seconds)
    return out


def test_lockout_does_not_tell_whether_an_account_exists(container: Container) -> None:
    # The same answers for an account, a registered citizen without one, and an ID number
    # the registry does not know: all three are throttled by the ID number typed.
    c = container
    account = make_citizen(c)
    no_account = make_citizen(c, "001090012346", "Lê Thị Hoa", with_account=False)
    unknown = Citizen("001090099999", "", "", "", T0.date(), "")
    expected = _answers(c, account)
    assert any(wait is not None for wait in expected)  # the account does lock
    assert _answers(c, no_account) == expected
    assert _answers(c, unknown) == expected


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


# -- device cookies (OWASP): the attacker locks untrusted clients, never the citizen's device --


def _attempt(
    c: Container, citizen: Citizen, password: str, ip: str, now: datetime, device: str | None
) -> LoginResult | LoginFailed:
    try:
        return c.auth.login.password(
            c.unit_of_work,
            citizen.id_number,
            password,
            ip=ip,
            user_agent="t",
            now=now,
            device=device,
        )
    except LoginFailed as exc:
        return exc


def _full_login(c: Container, citizen: Citizen, now: datetime, device: str | None) -> str:
    """Password then TOTP at ``now``; returns the new device cookie."""
    first = _attempt(c, citizen, PASSWORD, "10.0.0.1", now, device)
    assert isinstance(first, LoginResult), first.retry_after
    assert first.mfa_pending
    assert first.device is None  # no cookie before the second factor
    code = totp.totp_at(TOTP_SECRET, int(now.timestamp()))
    with c.unit_of_work() as s:
        done = c.auth.login.second_factor(
            s, first.token, code, ip="10.0.0.1", now=now, device=device
        )
    assert done.device is not None
    return done.device


def test_an_attacker_failing_forever_never_stops_the_citizen_on_their_device(
    container: Container, citizen: Citizen
) -> None:
    c = container
    device = _full_login(c, citizen, T0, None)
    key = f"id:{indexes.id_index(c.ring, citizen.id_number).hex()}"
    attempts = blocked_seen = refused_untrusted = 0
    block_until: datetime | None = None
    # 4 hours: the attacker tries every 20 s from a new address, without the cookie.
    for i in range(720):
        now = T0 + timedelta(seconds=20 * (i + 1))
        outcome = _attempt(c, citizen, "wrong password!", f"10.{i // 250}.{i % 250}.9", now, None)
        attempts += 1
        assert isinstance(outcome, LoginFailed)
        if outcome.retry_after is not None:
            blocked_seen += 1
            # No single block is longer than 15 minutes, and trying during it extends nothing.
            assert outcome.retry_after - now <= CAP
            if block_until is not None and now < block_until:
                assert outcome.retry_after == block_until
            block_until = outcome.retry_after
        if i % 21 == 20:  # every 7 minutes the citizen logs in, on their own device
            device = _full_login(c, citizen, now + timedelta(seconds=1), device)
            # Without the cookie (a new device) they would have shared the attacker's lockout.
            with c.unit_of_work() as s:
                if c.auth.throttles.blocked_until(s, [key], now + timedelta(seconds=2)):
                    refused_untrusted += 1
    assert blocked_seen > 600  # the account really was locked for untrusted clients
    assert refused_untrusted > 20
    with c.unit_of_work() as s:
        audited = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.in_(("password:failed", "password:throttled")))
        )
    assert audited == attempts  # every attacker attempt is audited


def test_a_device_locks_only_itself_and_cookies_are_bound_to_their_account(
    container: Container, citizen: Citizen
) -> None:
    c = container
    device = _full_login(c, citizen, T0, None)
    now = T0 + timedelta(minutes=1)
    for _ in range(8):  # the device's own failures (someone at the citizen's computer)
        _attempt(c, citizen, "wrong password!", f"10.9.{_}.1", now, device)
    refused = _attempt(c, citizen, PASSWORD, "10.9.99.1", now, device)
    assert isinstance(refused, LoginFailed)
    assert refused.retry_after is not None
    # The account itself is not locked: a client without that cookie gets in.
    assert isinstance(_attempt(c, citizen, PASSWORD, "10.9.99.2", now, None), LoginResult)
    # A cookie for another account, a forged one or an expired one counts as no cookie.
    other = make_citizen(c, "001090012346", "Lê Thị Hoa", phone="+84912345679")
    with c.unit_of_work() as s:
        account = c.auth.accounts.by_id_number(s, other.id_number)
        assert account is not None
    assert c.auth.devices.find(device, account.id, now) is None
    assert c.auth.devices.find(device, citizen.account_id, now) is not None
    assert c.auth.devices.find(device[:-2] + "AA", citizen.account_id, now) is None
    late = now + timedelta(days=c.settings.device_cookie_days + 1)
    assert c.auth.devices.find(device, citizen.account_id, late) is None
    both = c.auth.devices.issue(device, account.id, now)
    assert c.auth.devices.find(both, account.id, now) is not None
    assert c.auth.devices.find(both, citizen.account_id, now) is not None
