"""Logging in: first factor (password), second factor (TOTP or recovery code), throttled.

Level 1 needs two factors (issue 3, item 2): a password opens an ``mfa_pending`` session;
a TOTP or recovery code completes it. A passkey with user verification counts as both
(``webauthn``). Every attempt is audited (actor the account or "anonymous", no personal
field is read) and recorded as a sign-in event the citizen sees on "my account".

Throttling (OWASP device cookies, ``sessions.DeviceCookies``): every failure counts against
the client's IP (``ip:ADDR``). It also counts against the device (``device:NONCE``) when the
browser holds a valid device cookie for the account, and against the ID number typed
(``id:BIDX``, its blind index) when it does not. So an attacker who fails on purpose, from as
many addresses as they like, blocks only untrusted clients of the account: the citizen on a
device they logged in from before is throttled by that device's own failures. No block
exceeds the throttle's cap, and attempts during a block neither count nor extend it. An ID
number is throttled whether or not it has an account (an unknown one costs a dummy Argon2id
verification), so wrong ID numbers and wrong passwords get the same answers, lockout included,
and cost the same time. A full login (both factors, a
passkey) resets the key it was throttled under and returns a fresh device cookie.

Account recovery (``auth.account_recovery``): a login attempt first applies a recovery whose
wait is over; a login with the old second factor (or a step-up) cancels one still waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.auth.account_recovery import Recoveries
from dinhdanh.auth.accounts import Accounts
from dinhdanh.auth.models import Account, SignInEvent
from dinhdanh.auth.passkeys import PasskeyFailed, Passkeys
from dinhdanh.auth.sessions import DeviceCookies, Sessions
from dinhdanh.auth.throttle import Throttles
from dinhdanh.errors import DomainError
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.store.batch import UnitOfWork


class LoginFailed(DomainError):
    """Wrong credentials, or throttled (``retry_after`` set): one message for the user."""

    code, status, title = "login_failed", 401, "Login failed"

    def __init__(self, retry_after: datetime | None = None) -> None:
        super().__init__("login failed")
        self.retry_after = retry_after
        if retry_after is not None:
            self.code, self.status, self.title = "throttled", 429, "Too many attempts"


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    mfa_pending: bool
    account_id: str
    # A new device cookie value after a full login (None while the second factor is due).
    device: str | None = None


def _ctx(account: Account | None) -> AccessContext:
    actor = f"account:{account.id}" if account else "anonymous"
    return AccessContext(actor, "citizen", "sign-in")


class Login:
    def __init__(
        self,
        accounts: Accounts,
        sessions: Sessions,
        throttles: Throttles,
        audit: AuditLog,
        passkeys: Passkeys,
        devices: DeviceCookies,
        recoveries: Recoveries,
    ) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.throttles = throttles
        self.audit = audit
        self.passkeys = passkeys
        self.devices = devices
        self.recoveries = recoveries

    def keys(
        self,
        id_bidx: bytes | None,
        account: Account | None,
        ip: str,
        device: str | None,
        now: datetime,
    ) -> list[str]:
        """Throttle keys of an attempt: the IP, then the trusted device or else the ID number
        typed (its blind index), whether or not an account has it: an ID number without an
        account locks exactly like one with an account."""
        trusted = self.devices.find(device, account.id, now) if account is not None else None
        if trusted is not None:
            return [f"ip:{ip}", trusted.key]
        return [f"ip:{ip}"] + ([] if id_bidx is None else [f"id:{id_bidx.hex()}"])

    def trust(
        self, session: Session, keys: list[str], account_id: str, device: str | None, now: datetime
    ) -> str:
        """A full login: forget the failures of the device or ID-number key it was throttled
        under (never the IP's), and hand out a fresh device cookie for this account."""
        for key in keys[1:]:
            self.throttles.reset(session, key)
        return self.devices.issue(device, account_id, now)

    def record(
        self,
        session: Session,
        account: Account | None,
        method: str,
        outcome: str,
        ip: str,
        now: datetime,
    ) -> None:
        subject = account.subject_id if account else None
        self.audit.append(session, [_ctx(account).event(f"{method}:{outcome}", subject, ())], now)
        if account is not None:
            session.add(
                SignInEvent(account_id=account.id, at=now, method=method, outcome=outcome, ip=ip)
            )

    def password(
        self,
        unit_of_work: UnitOfWork,
        id_number: str,
        password: str,
        *,
        ip: str,
        user_agent: str,
        now: datetime,
        device: str | None = None,
    ) -> LoginResult:
        """Raises ``LoginFailed``; failures are committed before it is raised.
        ``device`` is the browser's device cookie, if any.

        Argon2id (~30 ms) runs between two transactions, not inside one: on SQLite every
        transaction holds the database's write lock, and hashing under it serialized all
        logins of all workers. The second transaction holds the keys (``Throttles.hold``)
        and checks the block again, so concurrent attempts are counted one at a time and get
        no more answers than sequential ones: an attempt that finds the key blocked by then
        fails as throttled, whatever its password.
        """
        id_bidx = self.accounts.id_index(id_number)
        with unit_of_work() as session:
            account = self.accounts.by_id_index(session, id_bidx)
            if account is not None:
                self.recoveries.apply_due(session, account, now)
            keys = self.keys(id_bidx, account, ip, device, now)
            blocked = self.throttles.blocked_until(session, keys, now)
            if blocked is not None:
                self.record(session, account, "password", "throttled", ip, now)
        if blocked is not None:
            raise LoginFailed(blocked)
        stored = account.password_hash if account is not None else None
        ok = self.accounts.password_matches(stored, password)
        failure: LoginFailed | None = None
        with unit_of_work() as session:
            # The same row again, by primary key: the ID number was resolved in the first.
            account = self.accounts.get(session, account.id) if account is not None else None
            blocked = self.throttles.hold(session, keys, now)
            if blocked is not None:
                self.record(session, account, "password", "throttled", ip, now)
                failure = LoginFailed(blocked)
            elif not ok or account is None or account.password_hash != stored:
                self.throttles.fail(session, keys, now)
                self.record(session, account, "password", "failed", ip, now)
                failure = LoginFailed(None)
            else:
                result = self._password_ok(
                    session, account, password, keys, ip, user_agent, now, device
                )
        if failure is not None:
            raise failure
        return result

    def _password_ok(
        self,
        session: Session,
        account: Account,
        password: str,
        keys: list[str],
        ip: str,
        user_agent: str,
        now: datetime,
        device: str | None,
    ) -> LoginResult:
        self.accounts.rehash_if_needed(account, password)
        mfa = account.totp_sealed is not None
        # Counters are reset only by a full login: a known password must not buy fresh free
        # guesses at the second factor.
        new_device = None if mfa else self.trust(session, keys, account.id, device, now)
        token = self.sessions.create(
            session,
            account_id=account.id,
            amr=("pwd",),
            # Level 1 needs two factors: a password alone reaches level 0.
            acr=account.level if mfa else 0,
            mfa_pending=mfa,
            ip=ip,
            user_agent=user_agent,
            now=now,
        )
        self.record(session, account, "password", "mfa_pending" if mfa else "ok", ip, now)
        return LoginResult(token, mfa, account.id, new_device)

    def second_factor(
        self,
        session: Session,
        token: str,
        code: str,
        *,
        ip: str,
        now: datetime,
        device: str | None = None,
    ) -> LoginResult:
        """A TOTP code or a recovery code completes an ``mfa_pending`` session: new token and
        a fresh device cookie."""
        account = self._account_of(session, token, now, mfa_pending=True)
        factor, keys = self.prove(session, account, code, ip=ip, device=device, now=now)
        new_token = self.sessions.complete_mfa(session, token, factor, now)
        if new_token is None:
            raise LoginFailed(None)
        new_device = self.trust(session, keys, account.id, device, now)
        self.recoveries.cancel(session, account, now)
        self.record(session, account, factor, "ok", ip, now)
        return LoginResult(new_token, False, account.id, new_device)

    def _account_of(
        self, session: Session, token: str, now: datetime, *, mfa_pending: bool
    ) -> Account:
        """The account of a live session in the given stage, after applying a recovery whose
        wait is over (which ends the session: then ``LoginFailed``)."""
        view = self.sessions.resolve(session, token, now)
        if view is None or view.mfa_pending is not mfa_pending:
            raise LoginFailed(None)
        account = self.accounts.get(session, view.account_id)
        if account is None or self.recoveries.apply_due(session, account, now):
            raise LoginFailed(None)
        return account

    def prove(
        self,
        session: Session,
        account: Account,
        code: str,
        *,
        ip: str,
        device: str | None,
        now: datetime,
    ) -> tuple[str, list[str]]:
        """The account's second factor: a TOTP or recovery code, throttled like a login.
        Returns the ``amr`` value and the throttle keys; raises ``LoginFailed``."""
        id_bidx = self.accounts.id_index_of(session, account)
        keys = self.keys(id_bidx, account, ip, device, now)
        blocked = self.throttles.hold(session, keys, now)
        if blocked is not None:
            self.record(session, account, "otp", "throttled", ip, now)
            raise LoginFailed(blocked)
        factor = None
        if self.accounts.check_totp(session, account, code, now):
            factor = "otp"
        elif self.accounts.use_recovery_code(session, account, code, now):
            factor = "recovery"
        if factor is None:
            self.throttles.fail(session, keys, now)
            self.record(session, account, "otp", "failed", ip, now)
            raise LoginFailed(None)
        return factor, keys

    def step_up(
        self,
        session: Session,
        token: str,
        code: str,
        *,
        ip: str,
        now: datetime,
        device: str | None = None,
    ) -> None:
        """A full session proves its second factor again, so it may change authenticators
        for a while (``auth.stepup``). It also cancels a waiting recovery."""
        account = self._account_of(session, token, now, mfa_pending=False)
        factor, _ = self.prove(session, account, code, ip=ip, device=device, now=now)
        self.sessions.step_up(session, token, factor, now)
        self.recoveries.cancel(session, account, now)
        self.record(session, account, factor, "step_up", ip, now)

    def passkey(
        self,
        session: Session,
        handle: str,
        credential: dict[str, Any],
        *,
        ip: str,
        user_agent: str,
        now: datetime,
        device: str | None = None,
    ) -> LoginResult:
        """A passkey with user verification: two factors at once (RFC 8176 ``hwk``, ``user``).
        Only the IP is throttled: the account is unknown until the signature verifies."""
        keys = [f"ip:{ip}"]
        blocked = self.throttles.hold(session, keys, now)
        if blocked is not None:
            self.record(session, None, "passkey", "throttled", ip, now)
            raise LoginFailed(blocked)
        try:
            cred = self.passkeys.finish_login(session, handle, credential, now)
        except PasskeyFailed:
            self.throttles.fail(session, keys, now)
            self.record(session, None, "passkey", "failed", ip, now)
            raise LoginFailed(None) from None
        account = self.accounts.get(session, cred.account_id)
        if account is None or self.recoveries.apply_due(session, account, now):
            raise LoginFailed(None)  # a recovery whose wait is over just revoked the passkey
        self.recoveries.cancel(session, account, now)
        token = self.sessions.create(
            session,
            account_id=account.id,
            amr=("hwk", "user", "mfa"),
            acr=account.level,
            mfa_pending=False,
            ip=ip,
            user_agent=user_agent,
            now=now,
        )
        self.record(session, account, "passkey", "ok", ip, now)
        new_device = self.devices.issue(device, account.id, now)
        return LoginResult(token, False, account.id, new_device)
