"""Accounts and their authenticators: password, TOTP, recovery codes.

Building blocks: ``passwords`` (Argon2id, policy), ``totp`` (RFC 6238, no reuse),
``recovery`` (single-use codes). The TOTP secret is sealed with the key ring; the last
accepted time step is stored so a code is never accepted twice. While a TOTP setup waits for
its first code, the new secret is a sealed challenge (``auth.challenges``), one per account,
deleted once confirmed and purged once expired.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dinhdanh.auth import opaque, passwords, recovery, totp
from dinhdanh.auth.challenges import Challenges
from dinhdanh.auth.models import Account, RecoveryCode
from dinhdanh.crypto import KeyRing, open_sealed, seal
from dinhdanh.identity import indexes
from dinhdanh.identity.idnumber import IdNumberError
from dinhdanh.identity.idnumber import parse as parse_id
from dinhdanh.identity.service import Registry

TOTP_SETUP = "totp_setup"
TOTP_SETUP_TTL = timedelta(minutes=10)


def _totp_context(account_id: str) -> bytes:
    return b"auth.totp:" + account_id.encode()


@dataclass(frozen=True, slots=True)
class TotpSetup:
    handle: str  # names the pending setup; sent back with the first code
    secret: bytes  # shown once to the user (base32, QR code); stored sealed only


class SetupOutcome(StrEnum):
    CONFIRMED = "confirmed"
    WRONG_CODE = "wrong_code"  # the setup stays pending: the user may try again
    EXPIRED = "expired"  # unknown, expired, another account's, or already confirmed


@dataclass(frozen=True, slots=True)
class Authenticators:
    password: bool
    totp: bool
    recovery_codes_left: int


class Accounts:
    def __init__(
        self,
        ring: KeyRing,
        challenges: Challenges,
        registry: Registry,
        random: opaque.RandomBytes = os.urandom,
    ) -> None:
        self._ring = ring
        self._registry = registry
        self.challenges = challenges
        self._random = random

    # -- lookup --
    def id_index(self, id_number: str) -> bytes | None:
        """The blind index of a typed ID number; None if it is not one (no account can have
        it, and its format is public)."""
        try:
            return indexes.id_index(self._ring, parse_id(id_number).value)
        except IdNumberError:
            return None

    def id_index_of(self, session: Session, account: Account) -> bytes | None:
        """The blind index of the account's ID number (read from the registry, not opened)."""
        return self._registry.id_bidx_of(session, account.subject_id)

    def subject_of(self, session: Session, id_number: str) -> str | None:
        """The subject id of the citizen with this ID number (blind index; nothing decrypted)."""
        subject = self._registry.subject(session, id_number)
        return None if subject is None else subject.subject_id

    def by_id_index(self, session: Session, id_bidx: bytes | None) -> Account | None:
        subject = None if id_bidx is None else self._registry.subject_by_index(session, id_bidx)
        return None if subject is None else self.by_subject(session, subject.subject_id)

    def by_id_number(self, session: Session, id_number: str) -> Account | None:
        """The account of the citizen with this ID number (blind index; nothing decrypted)."""
        return self.by_id_index(session, self.id_index(id_number))

    def by_subject(self, session: Session, subject_id: str) -> Account | None:
        return session.scalars(select(Account).where(Account.subject_id == subject_id)).first()

    def get(self, session: Session, account_id: str) -> Account | None:
        return session.get(Account, account_id)

    # -- lifecycle --
    def create(self, session: Session, subject_id: str, level: int, now: datetime) -> Account:
        account = Account(
            id=opaque.new_id(self._random),
            subject_id=subject_id,
            level=level,
            password_hash=None,
            totp_sealed=None,
            totp_last_step=None,
            created_at=now,
            updated_at=now,
        )
        session.add(account)
        session.flush()
        return account

    # -- password --
    def set_password(
        self, account: Account, password: str, user_inputs: list[str], now: datetime
    ) -> list[passwords.PolicyViolation]:
        violations = passwords.check_password_policy(password, user_inputs=user_inputs)
        if not violations:
            account.password_hash = passwords.hash_password(password)
            account.updated_at = now
        return violations

    @staticmethod
    def password_matches(stored: str | None, password: str) -> bool:
        """Argon2id check; the same work when there is no stored hash. Needs no session."""
        if stored is None:
            return passwords.dummy_verify(password)
        return passwords.verify_password(stored, password)

    @staticmethod
    def rehash_if_needed(account: Account, password: str) -> None:
        """After a successful check: a hash made with old parameters is made again."""
        if account.password_hash is not None and passwords.needs_rehash(account.password_hash):
            account.password_hash = passwords.hash_password(password)

    # -- TOTP --
    def set_totp(self, account: Account, secret: bytes, now: datetime) -> None:
        account.totp_sealed = seal(self._ring, secret, _totp_context(account.id))
        account.totp_last_step = None
        account.updated_at = now

    def totp_secret(self, account: Account) -> bytes | None:
        if account.totp_sealed is None:
            return None
        return open_sealed(self._ring, account.totp_sealed, _totp_context(account.id))

    def begin_totp_setup(self, session: Session, account: Account, now: datetime) -> TotpSetup:
        """A new secret, pending until its first code; replaces the account's pending one."""
        self.challenges.discard_pending(session, TOTP_SETUP, account.id)
        secret = self._random(totp.SECRET_LEN)
        handle = self.challenges.issue(session, TOTP_SETUP, secret, account.id, TOTP_SETUP_TTL, now)
        return TotpSetup(handle, secret)

    def pending_totp_secret(
        self, session: Session, account: Account, handle: str, now: datetime
    ) -> bytes | None:
        return self.challenges.peek(session, handle, TOTP_SETUP, account.id, now)

    def confirm_totp_setup(
        self, session: Session, account: Account, handle: str, code: str, now: datetime
    ) -> SetupOutcome:
        """A right code makes the pending secret the account's (sealed) and deletes it."""
        secret = self.pending_totp_secret(session, account, handle, now)
        if secret is None:
            return SetupOutcome.EXPIRED
        step = totp.verify_totp(secret, code, int(now.timestamp()), None)
        if step is None:
            return SetupOutcome.WRONG_CODE
        self.challenges.take(session, handle, TOTP_SETUP, account.id, now)
        self.set_totp(account, secret, now)
        account.totp_last_step = step
        return SetupOutcome.CONFIRMED

    def check_totp(self, session: Session, account: Account, code: str, now: datetime) -> bool:
        """A right code whose step is later than the last one accepted, claimed atomically:
        of two requests with the same code at the same instant, one wins."""
        secret = self.totp_secret(account)
        if secret is None:
            return False
        step = totp.verify_totp(secret, code, int(now.timestamp()), account.totp_last_step)
        if step is None:
            return False
        claimed = session.execute(
            update(Account)
            .where(
                Account.id == account.id,
                or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return int(claimed.rowcount) == 1  # type: ignore[attr-defined]

    # -- recovery codes --
    def new_recovery_codes(self, session: Session, account: Account) -> list[str]:
        session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
            .values(used_at=account.updated_at)
        )
        codes = recovery.generate_recovery_codes()
        for code in codes:
            session.add(RecoveryCode(account_id=account.id, code_sha256=recovery.hash_code(code)))
        session.flush()
        return codes

    def use_recovery_code(
        self, session: Session, account: Account, code: str, now: datetime
    ) -> bool:
        rows = list(
            session.scalars(
                select(RecoveryCode).where(
                    RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
                )
            )
        )
        index = recovery.match_code([r.code_sha256 for r in rows], code)
        if index is None:
            return False
        # Claimed only if still unused: the same code sent twice at once is accepted once.
        claimed = session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.id == rows[index].id, RecoveryCode.used_at.is_(None))
            .values(used_at=now)
        )
        return int(claimed.rowcount) == 1  # type: ignore[attr-defined]

    def authenticators(self, session: Session, account: Account) -> Authenticators:
        left = len(
            list(
                session.scalars(
                    select(RecoveryCode.id).where(
                        RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
                    )
                )
            )
        )
        return Authenticators(
            account.password_hash is not None, account.totp_sealed is not None, left
        )
