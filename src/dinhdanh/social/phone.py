"""Binding by phone (issue 10, item 3; Decree 147/2024: an account is authenticated by a
Vietnamese mobile number), and the ``JUNK_SIM_OWNER`` recheck.

    create:  {account_id, msisdn} -> a check: the account id and the number sealed to it,
             a 6-digit code sent by SMS, kept as an HMAC -> 202 {id, expires_at}
    confirm: {code} -> right code, and the number is clean and held by a living citizen
             (``telecom.standing``) -> binding (method ``phone``); anything else -> None,
             which the web layer answers as one refusal, ``phone_check_failed``

Nothing in an answer depends on whether, or to whom, the number is registered. Creating a
check never looks at the telecom registry: every number gets the same row, the same counting
and the same SMS (a number outside the Vietnamese mobile plan gets the row and no SMS: the
numbering plan is public, and sending abroad would invite SMS-pumping fraud). Only a right
code, which only the number's holder has, leads to the registry, and every refusal after it
is the same ``None`` as a wrong code, an expired or used check, or one out of attempts.

Limits, each atomic under parallel requests: ``max_attempts`` codes per check (the check row
is locked while a code is compared, so at most that many are ever compared), and checks
started per number (across platforms), per account and per platform within a window
(``platform_phone_counts``: rows created at zero with ``ON CONFLICT DO NOTHING``, then locked
in sorted key order, like ``auth.throttle``; a fixed cap per window, not a back-off, as these
count attempts of every outcome). Guesses per number are so at most ``per_number *
max_attempts`` a window, and every code costs an SMS to the number's holder.

The level: a code reached a SIM whose subscriber data (ID number, name, birth date) matches
the population registry. That is level 1 (DESIGN.md, "Levels of assurance"), the level an SMS
code gives at enrolment too, so a phone binding's ``acr`` is ``urn:dinhdanh:loa:1``.

The number is kept only as ``number_key`` = HMAC(platform || 0 || number) under the
blind-index key: enough to find the binding when reconciliation later finds the number junk,
different at every platform. ``recheck_numbers`` does that after each reconciliation run.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dinhdanh.auth.oidc.claims import acr_uri
from dinhdanh.auth.oidc.pairwise import pairwise_sub
from dinhdanh.auth.sms import SmsGateway
from dinhdanh.crypto import CryptoError, KeyRing, blind_index, open_sealed, seal
from dinhdanh.crypto.derive import pairwise_key
from dinhdanh.identity.phone import PhoneError, to_e164
from dinhdanh.identity.service import Registry
from dinhdanh.social import models as m
from dinhdanh.social.errors import PlatformNotFound, SocialError
from dinhdanh.social.service import MAX_ACCOUNT_ID, Social, Status, _chunks, _utc, sector_of
from dinhdanh.social.waiting import phone_bindings_waiting
from dinhdanh.store.db import insert_missing
from dinhdanh.store.ids import uuid7s
from dinhdanh.telecom import models as tm
from dinhdanh.telecom.rules import RuleConfig
from dinhdanh.telecom.standing import standing
from dinhdanh.telecom.timeline import TERMINAL

ACR = acr_uri(1)
MESSAGE = (
    "dinhdanh: {platform} asks to link an account to this number. Code {code}. "
    "Never give it to anyone."
)
# Phone-shaped (digits, separators, a leading + or parenthesis) and 8 to 15 digits: anything
# else is a format error. Within that, every number gets the same answer.
_SHAPE = re.compile(r"[+(]?[0-9 .\-()]+")


class PhoneCheckNotFound(SocialError):
    code, status, title = "phone_check_not_found", 404, "No such phone check"


class PhoneCheckFailed(SocialError):
    """One refusal for every failed confirm: nothing tells which check failed."""

    code, status, title = "phone_check_failed", 400, "The phone check failed"

    def __init__(self) -> None:
        super().__init__(
            "the code is wrong, expired or used up, or this number cannot bind the account"
        )


class PhoneCheckLimited(SocialError):
    code, status, title = "phone_check_limited", 429, "Too many phone checks"

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(
            "too many phone checks for this number, account or platform: try again later",
            retry_at=_utc(retry_at).isoformat(),
        )


@dataclass(frozen=True, slots=True)
class PhoneCheckConfig:
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    window: timedelta = timedelta(hours=24)
    per_number: int = 5
    per_account: int = 5
    per_platform: int = 100_000


@dataclass(frozen=True, slots=True)
class Created:
    id: str
    expires_at: datetime


def phone_digits(raw: str) -> tuple[str, str | None]:
    """(the number as a counting key, its E.164 form if it is a Vietnamese mobile number).

    Raises ``PhoneError`` (``msisdn_invalid``) only when ``raw`` is not phone-shaped at all."""
    try:
        e164 = to_e164(raw)
    except PhoneError:
        text = unicodedata.normalize("NFKC", raw).strip()
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(text) > 40 or not _SHAPE.fullmatch(text) or not 8 <= len(digits) <= 15:
            raise PhoneError("msisdn_invalid", "not a phone number") from None
        return digits, None
    return e164, e164


class PhoneChecks:
    def __init__(
        self,
        ring: KeyRing,
        social: Social,
        registry: Registry,
        sms: SmsGateway,
        rules: RuleConfig,
        config: PhoneCheckConfig,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._ring = ring
        self._social = social
        self._registry = registry
        self._sms = sms
        self._rules = rules
        self.config = config
        self._random = random
        self._pairwise = pairwise_key(ring)

    # -- keys: each under the blind-index key with its own purpose ----------------------
    def number_key(self, code: str, msisdn: str) -> bytes:
        """What a phone binding keeps of its number: different at every platform."""
        return blind_index(self._ring, f"{code}\x00{msisdn}", "social.phone_number")

    def _code_mac(self, check_id: str, code: str) -> bytes:
        return blind_index(self._ring, f"{check_id}\x00{code}", "social.phone_code")

    def _count_key(self, kind: str, value: str) -> str:
        return f"{kind}:{blind_index(self._ring, value, 'social.phone_count').hex()}"

    @staticmethod
    def _context(code: str, check_id: str) -> bytes:
        return f"social.phone_check\x00{code}\x00{check_id}".encode()

    # -- create --------------------------------------------------------------------------
    def create(
        self, session: Session, code: str, account_id: str, msisdn: str, now: datetime
    ) -> Created:
        """Start a check: the same work and answer for every phone-shaped number."""
        if not 1 <= len(account_id) <= MAX_ACCOUNT_ID:
            raise SocialError(f"an account id has 1 to {MAX_ACCOUNT_ID} characters")
        platform = session.get(m.Platform, code)
        if platform is None:
            raise PlatformNotFound(f"no platform {code!r}")
        digits, e164 = phone_digits(msisdn)
        cfg = self.config
        self._count(
            session,
            {
                self._count_key("n", digits): cfg.per_number,
                self._count_key("a", f"{code}\x00{account_id}"): cfg.per_account,
                f"p:{code}": cfg.per_platform,
            },
            now,
        )
        # Checks past expiry for a day answer "failed" like any other; then they go.
        session.execute(
            delete(m.PhoneCheck).where(m.PhoneCheck.expires_at < now - timedelta(days=1))
        )
        check_id = uuid7s(1, now)[0]
        pin = str(int.from_bytes(self._random(8), "big") % 1_000_000).zfill(6)
        held = json.dumps({"account": account_id, "msisdn": e164}).encode()
        expires = now + cfg.ttl
        session.add(
            m.PhoneCheck(
                id=check_id,
                platform=code,
                sealed=seal(self._ring, held, self._context(code, check_id)),
                code_mac=self._code_mac(check_id, pin),
                attempts=0,
                closed=False,
                created_at=now,
                expires_at=expires,
            )
        )
        if e164 is not None:
            self._sms.send(session, e164, MESSAGE.format(platform=platform.name, code=pin), now)
        session.flush()
        return Created(check_id, expires)

    def _count(self, session: Session, limits: dict[str, int], now: datetime) -> None:
        """Count one check against every key's limit, or none if any is spent."""
        ordered = sorted(limits)
        zero = [{"key": k, "window_start": now, "count": 0} for k in ordered]
        insert_missing(session, m.PhoneCheckCount, zero)
        rows = session.scalars(
            select(m.PhoneCheckCount)
            .where(m.PhoneCheckCount.key.in_(ordered))
            .order_by(m.PhoneCheckCount.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        spent = []
        for row in rows:
            if now >= _utc(row.window_start) + self.config.window:
                row.window_start, row.count = now, 0
            if row.count >= limits[row.key]:
                spent.append(_utc(row.window_start) + self.config.window)
        if spent:
            raise PhoneCheckLimited(max(spent))
        for row in rows:
            row.count += 1

    # -- confirm -------------------------------------------------------------------------
    def confirm(
        self, session: Session, code: str, check_id: str, pin: str, now: datetime
    ) -> Status | None:
        """The account's status once bound, or None for any refusal. A refusal is an answer,
        not an error: the caller commits it (the attempt counts) before refusing."""
        # Locked until the commit: codes for one check are compared one at a time.
        row = session.get(m.PhoneCheck, check_id, with_for_update=True, populate_existing=True)
        if row is None or row.platform != code:
            raise PhoneCheckNotFound("no such phone check for this platform")
        if row.closed or _utc(row.expires_at) <= now or row.attempts >= self.config.max_attempts:
            return None
        row.attempts += 1
        right = hmac.compare_digest(row.code_mac, self._code_mac(row.id, pin.strip()))
        row.closed = right or row.attempts >= self.config.max_attempts
        session.flush()
        if not right:
            return None
        try:
            held = json.loads(open_sealed(self._ring, row.sealed, self._context(code, row.id)))
        except CryptoError:
            return None  # moved from another row: it never opens
        msisdn = held["msisdn"]
        if msisdn is None:
            return None
        found = standing(session, self._registry, msisdn, self._rules, now)
        if not found.clean or found.subject_id is None:
            return None
        subject = found.subject_id
        sub = pairwise_sub(self._pairwise, sector_of(code), subject)
        key = self.number_key(code, msisdn)
        return self._social._bind(
            session, code, held["account"], subject, sub, "phone", ACR, now, number_key=key
        )

    # -- JUNK_SIM_OWNER ------------------------------------------------------------------
    def recheck_numbers(self, session: Session, now: datetime, junk: Iterable[str] = ()) -> int:
        """Flag phone bindings whose number is now junk (``junk``: the numbers a
        reconciliation run just found junk) or under an open lock case, and tell each
        platform (``number_junk``, ``number_locked``); returns how many. Run after each
        reconciliation (``dinhdanh reconcile subscriptions``) and by ``dinhdanh platforms
        recheck``. Flags stay: the account was bound by a number found junk. Numbers go by
        in chunks: a national run's millions are never all keyed at once."""
        b = m.Binding
        if not phone_bindings_waiting(session):
            return 0  # no phone binding left to flag: ``junk`` is not even read
        c = tm.LockCase
        open_cases = select(c.msisdn).where(c.state.not_in([s.value for s in TERMINAL]))
        platforms = [p.code for p in self._social.platforms(session)]
        changed = 0
        # Junk first: a number both junk and locked is told as junk.
        for numbers, kind in (
            (junk, "number_junk"),
            (session.scalars(open_cases).all(), "number_locked"),
        ):
            for chunk in _chunks(list(numbers)):
                for code in platforms:
                    keys = [self.number_key(code, n) for n in chunk]
                    stmt = select(b).where(
                        b.platform == code, b.number_key.in_(keys), b.number_junk.is_(False)
                    )
                    for binding in session.scalars(stmt):
                        binding.number_junk, binding.checked_at = True, now
                        account = self._social._open(binding)["account"]
                        self._social._event(session, code, account, kind, now)
                        changed += 1
                    session.flush()
        return changed
