"""Helpers shared across the test packages: the citizen most tests use, a factory that puts
one in the registry with an account, a clock moved by hand, and a free port. Fixtures are in
tests/conftest.py."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.wiring import Container

# The default citizen of the registry rows, subscriber rows and accounts the factories make.
ID_NUMBER = "001090012345"
FULL_NAME = "Nguyễn Văn An"
BIRTH_DATE = date(1990, 5, 12)
PHONE = "+84912345678"
PASSWORD = "mây trắng bay về núi 42"
TOTP_SECRET = b"12345678901234567890"


@dataclass
class Citizen:
    id_number: str
    subject_id: str
    account_id: str
    full_name: str
    date_of_birth: date
    phone: str


def make_citizen(
    c: Container,
    id_number: str = ID_NUMBER,
    full_name: str = FULL_NAME,
    dob: date = BIRTH_DATE,
    phone: str = PHONE,
    *,
    with_account: bool = True,
) -> Citizen:
    """A registry record and (unless told otherwise) an account with PASSWORD and TOTP."""
    now = datetime.now(UTC)
    rec = CitizenRecord(id_number, full_name, dob, Sex.MALE, id_number[:3], phone=phone)
    with c.unit_of_work() as s:
        c.registry.upsert(s, [rec], AccessContext("test", "registry_import", "seed"), now)
        view = c.registry.get_by_id_number(s, id_number, AccessContext("t", "t", "seed"), now)
        assert view is not None
        account_id = ""
        if with_account:
            account = c.auth.accounts.create(s, view.subject_id, 1, now)
            assert not c.auth.accounts.set_password(account, PASSWORD, [], now)
            c.auth.accounts.set_totp(account, TOTP_SECRET, now)
            account_id = account.id
    return Citizen(id_number, view.subject_id, account_id, full_name, dob, phone)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Clock:
    """A container clock that moves only when a test moves it (``container.clock = Clock()``)."""

    def __init__(self, now: datetime = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def require_java() -> None:
    """Skip a Spark test without a Java runtime, but fail it in CI (which installs one)."""
    import pytest

    from dinhdanh.analytics.spark import java_binary

    if java_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("CI: the Spark tests need a Java runtime (.ci/run installs one)")
        pytest.skip("no Java runtime (apt-get install default-jre-headless) for the Spark tests")


def assert_same_response(fast: Any, plain: Any) -> None:
    """A fast path's answer is the app's own: status, body and headers, byte for byte."""
    assert fast.status_code == plain.status_code, (fast.text, plain.text)
    assert fast.content == plain.content
    assert list(fast.headers.items()) == list(plain.headers.items())
