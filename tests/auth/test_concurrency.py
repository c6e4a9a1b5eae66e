"""Guess limits and one-time values under concurrency: parallel attempts, each in its own
thread and unit of work, as parallel requests would be. On PostgreSQL (read committed) they
really overlap; on SQLite every transaction takes the write lock at BEGIN, so the same counts
must hold there too. Evaluated guesses are counted from the audit log (one entry per answer)."""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from dinhdanh.auth import totp
from dinhdanh.auth.enrolment import EnrolmentFailed, State
from dinhdanh.auth.login import LoginFailed, LoginResult
from dinhdanh.auth.models import Enrolment, Throttle
from dinhdanh.identity import indexes
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.wiring import Container
from tests.auth.factories import subscribe
from tests.auth.softkey import SoftPasskey
from tests.oidc.conftest import PASSWORD, TOTP_SECRET, Citizen, make_citizen
from tests.parallel import BURST, burst, only

T = TypeVar("T")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
FREE = 3  # DINHDANH_THROTTLE_FREE_FAILURES: the 4th failure blocks


def _audited(c: Container, action: str) -> int:
    with c.unit_of_work() as s:
        counted = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        return int(s.scalar(counted) or 0)


# -- enrolment codes ------------------------------------------------------------------------


def test_parallel_wrong_enrolment_codes_get_at_most_max_attempts(container: Container) -> None:
    c = container
    person = make_citizen(c, with_account=False)
    subscribe(c, person, person.phone, "VNP")
    with c.unit_of_work() as s:
        token = c.auth.enrolments.start(
            s, person.id_number, person.full_name, person.date_of_birth, ip="10.0.0.1", now=T0
        ).token
        found = re.search(r"\b(\d{6})\b", c.auth.outbox.messages(s, limit=1)[0].text)
    assert found
    right = found.group(1)
    wrong = [f"{(int(right) + 1 + i) % 1_000_000:06d}" for i in range(BURST)]

    def guess(i: int) -> None:
        with c.unit_of_work() as s, suppress(EnrolmentFailed):  # committed: the code counts
            c.auth.enrolments.verify(s, token, wrong[i], T0)

    only(burst(guess))
    max_attempts = c.settings.otp_max_attempts
    assert _audited(c, "enrolment:code_wrong") == max_attempts  # compared, one by one
    assert _audited(c, "enrolment:code_locked") == BURST - max_attempts
    with c.unit_of_work() as s:
        flow = s.scalars(select(Enrolment)).one()
        assert (flow.attempts, flow.state) == (max_attempts, State.LOCKED)
        with pytest.raises(EnrolmentFailed) as refused:  # the right code comes too late
            c.auth.enrolments.verify(s, token, right, T0)
    assert refused.value.flow_over


# -- password and second factor -------------------------------------------------------------


def _pending(c: Container, citizen: Citizen, n: int) -> list[str]:
    """``n`` sessions waiting for their second factor (password logins, one after the other)."""
    tokens = []
    for _ in range(n):
        first = c.auth.login.password(
            c.unit_of_work, citizen.id_number, PASSWORD, ip="10.0.0.1", user_agent="t", now=T0
        )
        assert first.mfa_pending
        tokens.append(first.token)
    return tokens


def _second(c: Container, token: str, code: str, ip: str) -> LoginResult | LoginFailed:
    with c.unit_of_work() as s:
        try:
            return c.auth.login.second_factor(s, token, code, ip=ip, now=T0)
        except LoginFailed as exc:
            return exc  # committed: the failure counts


def _wins(outcomes: list[LoginResult | LoginFailed | Exception]) -> int:
    only(outcomes, LoginFailed)
    return sum(isinstance(o, LoginResult) for o in outcomes)


def test_parallel_wrong_second_factors_are_counted_one_by_one(container: Container) -> None:
    c = container
    citizen = make_citizen(c)
    tokens = _pending(c, citizen, BURST)
    right = totp.totp_at(TOTP_SECRET, int(T0.timestamp()))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    # From as many addresses: only the account's counter is shared.
    outcomes = burst(lambda i: _second(c, tokens[i], wrong, f"10.1.0.{i}"))
    assert _wins(outcomes) == 0
    evaluated = _audited(c, "otp:failed")
    assert evaluated == FREE + 1  # the 4th failure blocks; the others are refused unchecked
    assert _audited(c, "otp:throttled") == BURST - evaluated
    with c.unit_of_work() as s:
        counters = {t.key: t.failures for t in s.scalars(select(Throttle))}
    assert counters[f"id:{indexes.id_index(c.ring, citizen.id_number).hex()}"] == evaluated
    late = _second(c, tokens[0], right, "10.2.0.1")  # the right code, during the block
    assert isinstance(late, LoginFailed)
    assert late.retry_after is not None


def test_parallel_wrong_passwords_get_no_more_answers(container: Container) -> None:
    c = container
    citizen = make_citizen(c)

    def attempt(i: int) -> LoginFailed | LoginResult:
        try:
            return c.auth.login.password(
                c.unit_of_work, citizen.id_number, "wrong password!", ip=f"10.3.0.{i}",
                user_agent="t", now=T0,
            )  # fmt: skip
        except LoginFailed as exc:
            return exc

    outcomes = burst(attempt)
    assert _wins(outcomes) == 0
    assert _audited(c, "password:failed") == FREE + 1
    assert _audited(c, "password:throttled") == BURST - FREE - 1


def test_a_totp_code_sent_many_times_at_once_is_accepted_once(container: Container) -> None:
    c = container
    citizen = make_citizen(c)
    tokens = _pending(c, citizen, BURST)
    code = totp.totp_at(TOTP_SECRET, int(T0.timestamp()))
    outcomes = burst(lambda i: _second(c, tokens[i], code, f"10.4.0.{i}"))
    assert _wins(outcomes) == 1
    assert _audited(c, "otp:ok") == 1


def test_a_recovery_code_sent_many_times_at_once_is_accepted_once(container: Container) -> None:
    c = container
    citizen = make_citizen(c)
    with c.unit_of_work() as s:
        account = c.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        code = c.auth.accounts.new_recovery_codes(s, account)[0]
    tokens = _pending(c, citizen, BURST)
    outcomes = burst(lambda i: _second(c, tokens[i], code, f"10.5.0.{i}"))
    assert _wins(outcomes) == 1
    assert _audited(c, "recovery:ok") == 1


def test_a_pending_session_completes_once(container: Container) -> None:
    c = container
    citizen = make_citizen(c)
    with c.unit_of_work() as s:
        account = c.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        recovery = c.auth.accounts.new_recovery_codes(s, account)[0]
    [token] = _pending(c, citizen, 1)
    codes = [totp.totp_at(TOTP_SECRET, int(T0.timestamp())), recovery]
    # Two right second factors for one pending session, from two devices at once.
    outcomes = burst(lambda i: _second(c, token, codes[i], f"10.6.0.{i}"), n=2)
    assert _wins(outcomes) == 1


# -- passkeys -----------------------------------------------------------------------------


def test_a_passkey_challenge_is_used_once(container: Container) -> None:
    c = container
    citizen = make_citizen(c)
    key = SoftPasskey()
    key.register(c, citizen.account_id, T0)
    ceremony = c.auth.passkeys.begin_login(T0)
    answer = key.answer(ceremony.options, c.auth.passkeys.origin)

    def use(i: int) -> LoginResult | LoginFailed:
        with c.unit_of_work() as s:
            try:
                return c.auth.login.passkey(
                    s, ceremony.handle, answer, ip=f"10.7.0.{i}", user_agent="t",
                    now=T0 + timedelta(seconds=1),
                )  # fmt: skip
            except LoginFailed as exc:
                return exc

    outcomes = burst(use)
    assert _wins(outcomes) == 1
    assert _audited(c, "passkey:ok") == 1
