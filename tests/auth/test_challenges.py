"""Challenges kept between two requests (TOTP setup, WebAuthn ceremonies): sealed and bound to
their row, handles stored as digests, deleted once used, purged once expired. The database is
read as raw bytes (the SQLite files, and a raw SELECT on either backend) to show that no TOTP
secret, challenge or handle is stored in clear. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from dinhdanh.auth import totp
from dinhdanh.auth.challenges import SignedChallenges
from dinhdanh.auth.models import Challenge, UsedChallenge
from dinhdanh.auth.passkeys import LOGIN, REGISTER
from dinhdanh.store.once import RedisOnce
from dinhdanh.wiring import Container
from tests.oidc.conftest import Citizen, csrf_of, log_in

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
HANDLE = re.compile(r'name="handle" value="([^"]+)"')


def raw_bytes(
    c: Container, tables: tuple[str, ...] = ("auth_challenges", "auth_accounts")
) -> bytes:
    """What a copy of the database holds: the SQLite files (database, WAL), and on either
    backend every value of ``tables`` read with a raw SELECT, bytes as stored."""
    chunks: list[bytes] = []
    if c.engine.dialect.name == "sqlite":
        files = sorted(c.settings.data_dir.glob("dinhdanh.db*"))
        assert files
        chunks += [f.read_bytes() for f in files]
    with c.engine.connect() as conn:
        for table in tables:
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        chunks.append(bytes(value))
                    else:
                        chunks.append(str(value).encode())
    return b"\x00".join(chunks)


def _challenges(c: Container) -> int:
    with c.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(Challenge)) or 0)


def _leaks(blob: bytes, secret: bytes, b32: str) -> list[bytes]:
    forms = (secret, b32.encode(), secret.hex().encode(), base64.b64encode(secret))
    return [f for f in forms if f in blob]


def test_totp_setup_secret_is_sealed_and_the_challenge_deleted_once_confirmed(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    log_in(tc, citizen)
    page = tc.get("/account/totp")
    assert page.status_code == 200
    m, h = SECRET.search(page.text), HANDLE.search(page.text)
    assert m
    assert h
    b32, handle = m.group(1), h.group(1)
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    assert len(secret) == totp.SECRET_LEN
    assert _challenges(container) == 1
    blob = raw_bytes(container)
    assert _leaks(blob, secret, b32) == []
    assert handle.encode() not in blob  # the handle is stored as its SHA-256 only

    now = int(time.time())
    window = {totp.hotp(secret, totp.time_step(now) + d) for d in range(-2, 3)}
    wrong = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in window)
    form = {"handle": handle, "csrf": csrf_of(page.text), "next": "/account"}
    retry = tc.post("/account/totp", data=form | {"code": wrong})
    assert retry.status_code == 400
    assert b32 in retry.text  # shown again from the sealed copy; the challenge is kept
    assert _challenges(container) == 1

    done = tc.post("/account/totp", data=form | {"code": totp.totp_at(secret, now)})
    assert done.status_code == 200, done.text
    assert _challenges(container) == 0  # consumed: deleted
    with container.unit_of_work() as s:
        account = container.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        assert account.totp_sealed is not None
        assert container.auth.accounts.totp_secret(account) == secret
    assert _leaks(raw_bytes(container), secret, b32) == []  # sealed on the account too
    again = tc.post(
        "/account/totp",
        data=form | {"code": totp.totp_at(secret, now + 30)},
        follow_redirects=False,
    )
    assert again.status_code == 303  # the handle is spent


def test_a_new_totp_setup_replaces_the_pending_one(container: Container, citizen: Citizen) -> None:
    c = container
    with c.unit_of_work() as s:
        account = c.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        first = c.auth.accounts.begin_totp_setup(s, account, T0)
        second = c.auth.accounts.begin_totp_setup(s, account, T0 + timedelta(seconds=5))
        assert c.auth.accounts.pending_totp_secret(s, account, first.handle, T0) is None
        assert c.auth.accounts.pending_totp_secret(s, account, second.handle, T0) == second.secret
    assert _challenges(c) == 1


def test_passkey_challenges_are_stored_nowhere_and_single_use(
    container: Container, citizen: Citizen
) -> None:
    c = container
    with c.unit_of_work() as s:
        account = c.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        reg = c.auth.passkeys.begin_registration(s, account, "me", T0)
    login = c.auth.passkeys.begin_login(T0)
    assert _challenges(c) == 0
    signed = c.auth.passkeys.challenges
    for ceremony, purpose, account_id in ((reg, REGISTER, account.id), (login, LOGIN, None)):
        value = ceremony.options["challenge"]
        challenge = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        assert signed.challenge(ceremony.handle, purpose, account_id, T0) == challenge
        # Bound to its purpose, account and handle; gone once expired.
        assert signed.challenge(ceremony.handle, purpose, "someone else", T0) != challenge
        assert (
            signed.challenge(ceremony.handle, purpose, account_id, T0 + timedelta(minutes=5))
            is None
        )
    raw = bytearray(base64.urlsafe_b64decode(login.handle + "=="))
    raw[-1] ^= 0xFF  # a later expiry: another challenge, which no authenticator signed
    later = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert signed.challenge(later, LOGIN, None, T0) not in (
        None,
        signed.challenge(login.handle, LOGIN, None, T0),
    )
    with c.unit_of_work() as s:
        assert signed.use(s, login.handle, T0)
        assert not signed.use(s, login.handle, T0)
        assert not signed.use(s, login.handle + "=", T0)  # not another spelling either
    with c.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(UsedChallenge)) == 1
        later_login = c.auth.passkeys.begin_login(T0 + timedelta(minutes=6))
        assert signed.use(s, later_login.handle, T0 + timedelta(minutes=6))
        used = s.scalar(select(func.count()).select_from(UsedChallenge))
    assert used == 1  # the first one expired, and was purged


def test_expired_challenges_are_purged_when_a_new_one_is_issued(
    container: Container, citizen: Citizen
) -> None:
    c = container
    five = timedelta(minutes=5)
    with c.unit_of_work() as s:
        account = c.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        c.auth.accounts.begin_totp_setup(s, account, T0)  # 10 minutes
        stale = c.auth.challenges.issue(s, LOGIN, b"a" * 32, None, five, T0)
    assert _challenges(c) == 2
    with c.unit_of_work() as s:
        c.auth.challenges.issue(s, LOGIN, b"b" * 32, None, five, T0 + timedelta(minutes=6))
    assert _challenges(c) == 2  # the stale one is gone, the TOTP setup kept
    with c.unit_of_work() as s:
        assert c.auth.challenges.take(s, stale, LOGIN, None, T0) is None
        c.auth.challenges.issue(s, LOGIN, b"c" * 32, None, five, T0 + timedelta(minutes=30))
    assert _challenges(c) == 1


def test_a_sealed_challenge_does_not_open_on_another_row(container: Container) -> None:
    c = container
    with c.unit_of_work() as s:
        a = c.auth.challenges.issue(s, LOGIN, b"a" * 32, None, timedelta(minutes=5), T0)
        b = c.auth.challenges.issue(s, LOGIN, b"b" * 32, None, timedelta(minutes=5), T0)
    with c.unit_of_work() as s:
        rows = {r.id: r for r in s.scalars(select(Challenge))}
        assert len(rows) == 2
        first, second = rows.values()
        first.challenge, second.challenge = second.challenge, first.challenge
    with c.unit_of_work() as s:
        assert c.auth.challenges.take(s, a, LOGIN, None, T0) is None
        assert c.auth.challenges.take(s, b, LOGIN, None, T0) is None
    with c.unit_of_work() as s:
        handle = c.auth.challenges.issue(s, LOGIN, b"c" * 32, None, timedelta(minutes=5), T0)
        assert c.auth.challenges.take(s, handle, "webauthn_register", None, T0) is None
        assert c.auth.challenges.take(s, handle, LOGIN, "someone", T0) is None
        assert c.auth.challenges.take(s, handle, LOGIN, None, T0) == b"c" * 32


def test_passkey_challenges_used_on_one_node_are_used_on_every_node(
    container: Container, redis_url: str
) -> None:
    """With Redis (several server nodes), a handle used through one node's connection is
    refused through another's, at once; and the database holds no used handle."""
    c = container
    prefix = f"dinhdanh:test:{secrets.token_hex(4)}:"
    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    try:
        a, b = (SignedChallenges(c.ring, once=RedisOnce(x, prefix)) for x in clients)
        login = c.auth.passkeys.begin_login(T0)
        with c.unit_of_work() as s:
            assert a.use(s, login.handle, T0)
            assert not b.use(s, login.handle, T0)
            assert not a.use(s, login.handle, T0)
            other = c.auth.passkeys.begin_login(T0)
            assert b.use(s, other.handle, T0)  # another handle is its own
        with c.unit_of_work() as s:
            assert s.scalar(select(func.count()).select_from(UsedChallenge)) == 0
        assert len(list(clients[0].scan_iter(prefix + "*"))) == 2
    finally:
        for key in clients[0].scan_iter(prefix + "*"):
            clients[0].delete(key)
        for x in clients:
            x.close()
