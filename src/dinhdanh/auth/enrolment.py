"""Enrolment at level 1 (DESIGN.md "Levels of assurance"; Decree 69/2024 level 1).

A citizen states ID number, full name and birth date; they must match the registry; a
one-time code then goes to every number the telecom registry lists for that ID number and that
is safe to use (``phones.TelecomPhones``). The flow is a state machine (docs/auth.md has the
diagram):

    started --match or not--> code_sent --right code--> verified --password--> completed
    code_sent --wrong code--> code_sent, and after ``max_attempts`` --> locked (this flow only)
    verified --password, the account has a second factor--> factor_due
    factor_due --TOTP or recovery code--> completed
    factor_due --"reset after a waiting period"--> waiting (``auth.account_recovery``)
    any --time--> expired

An SMS code is possession of a number that a carrier upload can put under anyone's identity,
so it never takes over an account's second factor (issue 8, finding 1). An account without
one gets the new password at once, and a session of ``pwd sms`` at level 1 at most (never
``mfa``). An account with TOTP, a passkey or recovery codes keeps its password until the user
proves that factor in this flow, or until a recovery's waiting period ends.

Never revealing whether an ID number exists: a stated identity that matches nobody, a citizen
the telecom registry lists no usable number for, and a citizen whose codes are being sent too
often all get a flow like any other, "code sent", whose codes all fail.
Codes are 6 digits, stored as SHA-256 over the flow id and the code, valid ``otp_ttl``,
single use (the hash is cleared once matched).

Locks are per flow, never per ID number: ``max_attempts`` wrong codes end that flow, and a
fresh flow can start at once. A lock per ID number could be renewed by anyone who knows the
number (a flow starts for any stated identity, and its codes all fail), locking the citizen
out for good. What stops code guessing instead is the cost of a code: a code is sent only
when name and birth date match, and codes sent for one ID number back off
(``enrol-send:BIDX``: a few free, then 2 s, 4 s, ... capped at the throttle's cap,
``DINHDANH_LOCKOUT_MINUTES``). A start during that back-off sends nothing and answers the same
page. Guessing therefore needs the name and birth date and gets at most ``max_attempts``
guesses per 15 minutes per ID number once the back-off is at its cap (480 a day: one chance
in about 2,000 a day against 6 digits), and every code it triggers reaches the citizen's
phone. The price: someone who knows the ID number, name and birth date can hold back the
citizen's next code by up to 15 minutes at a time, and can repeat that as long as they keep
texting the citizen a code every 15 minutes. They can never block a flow the citizen holds.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from dinhdanh.auth import opaque, passwords
from dinhdanh.auth.account_recovery import Recoveries
from dinhdanh.auth.accounts import Accounts
from dinhdanh.auth.login import Login, LoginFailed
from dinhdanh.auth.models import Account, Enrolment
from dinhdanh.auth.oidc.claims import CHILD_AGE
from dinhdanh.auth.opaque import as_utc
from dinhdanh.auth.passwords import PolicyViolation
from dinhdanh.auth.phones import PhoneDirectory
from dinhdanh.auth.sms import SmsGateway, mask_phone
from dinhdanh.auth.stepup import has_second_factor
from dinhdanh.auth.throttle import Throttles
from dinhdanh.errors import DomainError
from dinhdanh.identity import indexes
from dinhdanh.identity.age import is_over
from dinhdanh.identity.idnumber import parse as parse_id
from dinhdanh.identity.rules import fold_name
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext, AuditLog

FLOW_TTL = timedelta(minutes=30)
MESSAGE = "dinhdanh: your code is {code}. Never give it to anyone."
CTX = AccessContext("auth:enrolment", "system", "enrolment: match stated identity")
_EVENTS = AccessContext("auth:enrolment", "system", "enrolment")
# The session at the end of enrolment without a second factor: a password and an SMS code.
SMS_AMR = ("pwd", "sms")
SMS_MAX_LEVEL = 1


class State(StrEnum):
    CODE_SENT = "code_sent"
    VERIFIED = "verified"
    FACTOR_DUE = "factor_due"
    COMPLETED = "completed"
    WAITING = "waiting"
    LOCKED = "locked"


class Event(StrEnum):
    CODE_OK = "code_ok"
    CODE_WRONG = "code_wrong"
    TOO_MANY = "too_many"
    PASSWORD_SET = "password_set"  # noqa: S105  (an event name)
    FACTOR_NEEDED = "factor_needed"
    FACTOR_OK = "factor_ok"
    WAIT_CHOSEN = "wait_chosen"


TRANSITIONS: dict[State, dict[Event, State]] = {
    State.CODE_SENT: {
        Event.CODE_OK: State.VERIFIED,
        Event.CODE_WRONG: State.CODE_SENT,
        Event.TOO_MANY: State.LOCKED,
    },
    State.VERIFIED: {Event.PASSWORD_SET: State.COMPLETED, Event.FACTOR_NEEDED: State.FACTOR_DUE},
    State.FACTOR_DUE: {Event.FACTOR_OK: State.COMPLETED, Event.WAIT_CHOSEN: State.WAITING},
    State.COMPLETED: {},
    State.WAITING: {},
    State.LOCKED: {},
}


def next_state(state: State, event: Event) -> State:
    """The transition table; an event a state doesn't accept raises ``EnrolmentFailed``."""
    target = TRANSITIONS[state].get(event)
    if target is None:
        raise EnrolmentFailed("this step is not possible now")
    return target


class ChildEnrolment(DomainError):
    """A child under the guardian age cannot enrol alone (Decree 147/2024): a guardian
    creates their login from "My family". Decided on the stated birth date only, so it
    reveals nothing about the registry."""

    code, status, title = "enrolment_child", 403, "Children enrol through a guardian"


class EnrolmentFailed(DomainError):
    """The step failed; the message is safe to show (it reveals no registry content)."""

    code, title = "enrolment_failed", "The enrolment step failed"

    def __init__(
        self, message: str, retry_after: datetime | None = None, *, flow_over: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.flow_over = flow_over  # this flow is locked: start a new one (at once)


@dataclass(frozen=True, slots=True)
class Started:
    token: str
    sent_to: str | None  # masked number, or None (the page then says "your registered phone")


@dataclass(frozen=True, slots=True)
class Completed:
    """The flow ended with a session to issue: its ``amr`` and level."""

    account: Account
    amr: tuple[str, ...]
    acr: int
    throttle_keys: tuple[str, ...] = ()  # to reset after the second factor passed


class FactorDue:
    """The account has a second factor: prove it, or ask for a recovery with a wait."""


class Enrolments:
    def __init__(
        self,
        registry: Registry,
        accounts: Accounts,
        phones: PhoneDirectory,
        sms: SmsGateway,
        throttles: Throttles,
        audit: AuditLog,
        login: Login,
        recoveries: Recoveries,
        *,
        otp_ttl: timedelta,
        max_attempts: int,
        random: opaque.RandomBytes = os.urandom,
    ) -> None:
        self.registry = registry
        self.accounts = accounts
        self.phones = phones
        self.sms = sms
        self.throttles = throttles
        self.audit = audit
        self.login = login
        self.recoveries = recoveries
        self.otp_ttl = otp_ttl
        self.max_attempts = max_attempts
        self._random = random
        self.child_age = CHILD_AGE

    def _code(self) -> str:
        return str(int.from_bytes(self._random(8), "big") % 1_000_000).zfill(6)

    @staticmethod
    def _code_hash(flow_id: str, code: str) -> bytes:
        return hashlib.sha256(f"{flow_id}\x00{code}".encode()).digest()

    def start(
        self,
        session: Session,
        id_number: str,
        full_name: str,
        date_of_birth: date,
        *,
        ip: str,
        now: datetime,
    ) -> Started:
        value = parse_id(id_number).value  # IdNumberError: a format error, says nothing more
        if not is_over(date_of_birth, self.child_age, now):
            raise ChildEnrolment(
                f"under {self.child_age}, a parent or guardian creates your login on their"
                " My family page"
            )
        id_bidx = indexes.id_index(self.registry.ring, value)
        ip_key = f"enrol-ip:{ip}"
        blocked = self.throttles.hold(session, [ip_key], now)
        if blocked is not None:
            self.audit.append(session, [_EVENTS.event("enrolment:throttled", None, ())], now)
            raise EnrolmentFailed("too many attempts: try again later", blocked)
        view = self.registry.get_by_id_number(session, value, CTX, now)
        subject = None
        if (
            view is not None
            and view.record.date_of_death is None
            and fold_name(view.record.full_name) == fold_name(full_name)
            and view.record.date_of_birth == date_of_birth
        ):
            subject = view.subject_id
        token = opaque.new_token(self._random)
        flow_id = opaque.digest(token).hex()
        code = self._code()
        numbers = self.phones.numbers_for(session, id_bidx, subject, now) if subject else []
        send_key = f"enrol-send:{id_bidx.hex()}"
        if numbers and self.throttles.hold(session, [send_key], now) is not None:
            # Codes for this ID number are being asked for too often: send nothing, answer
            # the same page (this reveals nothing the first step did not).
            self.audit.append(
                session, [_EVENTS.event("enrolment:send_throttled", subject, ())], now
            )
            numbers = []
        sent_to = None
        if numbers:
            for number in numbers:
                self.sms.send(session, number, MESSAGE.format(code=code), now)
            sent_to = ", ".join(mask_phone(n) for n in numbers)
            self.throttles.fail(session, [send_key], now)
        session.add(
            Enrolment(
                id=flow_id,
                state=State.CODE_SENT.value,
                id_bidx=id_bidx,
                subject_id=subject if numbers else None,
                code_sha256=self._code_hash(flow_id, code),
                code_expires_at=now + self.otp_ttl,
                # One number: the right code proves that number. Several got the same code,
                # so it proves one of them, not which: none counts as verified.
                phone_bidx=self.registry.phone_index(numbers[0]) if len(numbers) == 1 else None,
                attempts=0,
                created_at=now,
                expires_at=now + FLOW_TTL,
            )
        )
        # Rate of flows per IP (an enumeration attempt starts many flows).
        self.throttles.fail(session, [ip_key], now)
        session.flush()
        return Started(token, sent_to)

    def _flow(self, session: Session, token: str, now: datetime) -> Enrolment:
        # Locked until the commit: a flow's steps run one at a time, so concurrent codes are
        # counted one by one (at most ``max_attempts`` are ever compared) and used once.
        row = session.get(
            Enrolment, opaque.digest(token).hex(), with_for_update=True, populate_existing=True
        )
        if row is None or as_utc(row.expires_at) <= now:
            raise EnrolmentFailed("this enrolment has expired: start again")
        return row

    def verify(self, session: Session, token: str, code: str, now: datetime) -> None:
        row = self._flow(session, token, now)
        if row.state == State.LOCKED:
            self.audit.append(
                session, [_EVENTS.event("enrolment:code_locked", row.subject_id, ())], now
            )
            raise EnrolmentFailed("too many wrong codes: start again", flow_over=True)
        state = State(row.state)
        if state is not State.CODE_SENT:
            raise EnrolmentFailed("this code was already used")
        ok = (
            row.subject_id is not None
            and row.code_sha256 is not None
            and row.code_expires_at is not None
            and as_utc(row.code_expires_at) > now
            and hmac.compare_digest(row.code_sha256, self._code_hash(row.id, code.strip()))
        )
        if ok:
            row.state = next_state(state, Event.CODE_OK).value
            row.code_sha256 = None  # single use
            self.audit.append(
                session, [_EVENTS.event("enrolment:code_ok", row.subject_id, ())], now
            )
            return
        row.attempts += 1
        event = Event.TOO_MANY if row.attempts >= self.max_attempts else Event.CODE_WRONG
        row.state = next_state(state, event).value
        self.audit.append(session, [_EVENTS.event("enrolment:code_wrong", row.subject_id, ())], now)
        if event is Event.TOO_MANY:
            raise EnrolmentFailed("too many wrong codes: start again", flow_over=True)
        raise EnrolmentFailed("wrong or expired code")

    def complete(
        self, session: Session, token: str, password: str, now: datetime
    ) -> Completed | FactorDue | list[PolicyViolation]:
        """Create the account at level 1, or set an existing account's new password when it
        has no second factor; with one, hold the password until ``prove_factor`` or ``wait``."""
        row = self._flow(session, token, now)
        state = State(row.state)
        if state is not State.VERIFIED or row.subject_id is None:
            raise EnrolmentFailed("verify the code first")
        rec = self.registry.open_subject(
            session, row.subject_id, ("id_number", "full_name"), CTX, now
        )
        inputs = [rec.id_number, rec.full_name] if rec else []
        account = self.accounts.by_subject(session, row.subject_id)
        if account is not None:
            self.recoveries.apply_due(session, account, now)
            if has_second_factor(session, account):
                violations = passwords.check_password_policy(password, user_inputs=inputs)
                if violations:
                    return violations
                row.password_hash = passwords.hash_password(password)
                row.state = next_state(state, Event.FACTOR_NEEDED).value
                self._event(session, account, row, "enrolment:factor_due", now)
                return FactorDue()
        if account is None:
            account = self.accounts.create(session, row.subject_id, 1, now)
        violations = self.accounts.set_password(account, password, inputs, now)
        if violations:
            return violations
        account.level = max(account.level, 1)
        account.phone_verified_bidx = row.phone_bidx
        row.state = next_state(state, Event.PASSWORD_SET).value
        self._event(session, account, row, "enrolment:completed", now)
        return Completed(account, SMS_AMR, min(account.level, SMS_MAX_LEVEL))

    def _factor_due(
        self, session: Session, token: str, now: datetime
    ) -> tuple[Enrolment, Account, str]:
        """The flow waiting for the second factor, its account and the new password's hash."""
        row = self._flow(session, token, now)
        account = None
        if row.state == State.FACTOR_DUE and row.subject_id is not None:
            account = self.accounts.by_subject(session, row.subject_id)
        if account is None or row.password_hash is None:
            raise EnrolmentFailed("this step is not possible now", flow_over=True)
        return row, account, row.password_hash

    def prove_factor(
        self, session: Session, token: str, code: str, *, ip: str, device: str | None, now: datetime
    ) -> Completed:
        """The account's TOTP or a recovery code (throttled like a login): the new password
        applies, a waiting recovery is cancelled, and a full session follows."""
        row, account, password_hash = self._factor_due(session, token, now)
        if self.recoveries.apply_due(session, account, now):
            raise EnrolmentFailed("this step is not possible now", flow_over=True)
        try:
            factor, keys = self.login.prove(session, account, code, ip=ip, device=device, now=now)
        except LoginFailed as exc:
            raise EnrolmentFailed("wrong or expired code", exc.retry_after) from None
        account.password_hash = password_hash
        account.updated_at = now
        account.phone_verified_bidx = row.phone_bidx  # the SMS code proved this number too
        row.password_hash = None
        row.state = next_state(State.FACTOR_DUE, Event.FACTOR_OK).value
        self.recoveries.cancel(session, account, now)
        self._event(session, account, row, "enrolment:completed", now)
        amr = (*SMS_AMR, factor, "mfa")
        return Completed(account, amr, account.level, tuple(keys))

    def wait(self, session: Session, token: str, now: datetime) -> datetime:
        """No second factor at hand: the reset waits (``auth.account_recovery``); returns when
        it applies. No session is issued."""
        row, account, password_hash = self._factor_due(session, token, now)
        apply_after = self.recoveries.request(session, account, password_hash, now)
        row.password_hash = None
        row.state = next_state(State.FACTOR_DUE, Event.WAIT_CHOSEN).value
        self._event(session, account, row, "enrolment:recovery_waiting", now)
        return apply_after

    def _event(
        self, session: Session, account: Account, row: Enrolment, action: str, now: datetime
    ) -> None:
        ctx = AccessContext(f"account:{account.id}", "citizen", "enrolment")
        self.audit.append(session, [ctx.event(action, row.subject_id, ())], now)
