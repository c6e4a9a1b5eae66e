"""Fixtures of the provider tests: the real app, a citizen with an account, registered clients."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dinhdanh.auth import totp
from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container

PASSWORD = "mây trắng bay về núi 42"
TOTP_SECRET = b"12345678901234567890"
REDIRECT = "https://rp.example/cb"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Citizen:
    id_number: str
    subject_id: str
    account_id: str
    full_name: str
    date_of_birth: date
    phone: str


@pytest.fixture
def app_client(container: Container) -> Iterator[TestClient]:
    # https: the session cookie is Secure, so the cookie jar only sends it back over https.
    with TestClient(create_app(container), base_url="https://testserver") as tc:
        yield tc


def make_citizen(
    c: Container,
    id_number: str = "001090012345",
    full_name: str = "Nguyễn Văn An",
    dob: date = date(1990, 5, 12),
    phone: str = "+84912345678",
    *,
    with_account: bool = True,
) -> Citizen:
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


@pytest.fixture
def machine(container: Container) -> tuple[str, str]:
    """A client_credentials client: (client_id, client_secret)."""
    with container.unit_of_work() as s:
        info, secret = container.auth.clients.create(
            s,
            name="M",
            redirect_uris=[],
            grant_types=("client_credentials",),
            now=container.clock(),
        )
    assert secret is not None
    return info.client_id, secret


@pytest.fixture
def citizen(container: Container) -> Citizen:
    return make_citizen(container)


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def current_totp() -> str:
    return totp.totp_at(TOTP_SECRET, int(time.time()))


def log_in(tc: TestClient, citizen: Citizen, code: str | None = None) -> None:
    log_in_with(tc, citizen.id_number, PASSWORD, code or current_totp())


def demo_totp(person: dict[str, Any]) -> str:
    """The current TOTP code of a citizen printed by ``dinhdanh demo --json``."""
    b32 = person["totp_secret"]
    return totp.totp_at(base64.b32decode(b32 + "=" * (-len(b32) % 8)), int(time.time()))


def log_in_with(tc: TestClient, id_number: str, password: str, code: str) -> None:
    """Password then TOTP through the real pages."""
    page = tc.get("/login")
    resp = tc.post(
        "/login",
        data={
            "id_number": id_number,
            "password": password,
            "csrf": csrf_of(page.text),
            "next": "/account",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"].startswith("/login/second-factor")
    page = tc.get(resp.headers["location"])
    resp = tc.post(
        "/login/second-factor",
        data={"code": code, "csrf": csrf_of(page.text), "next": "/account"},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
