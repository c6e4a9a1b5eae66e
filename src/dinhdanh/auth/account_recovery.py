"""Recovering an account that has a second factor, without that factor: a waiting period.

Enrolling again proves only an SMS code, and a carrier upload can put anyone's number under a
citizen's identity. So when the account has TOTP, a passkey or recovery codes, the SMS code
alone never resets the password at once (``auth.enrolment``): the user proves the second
factor, or asks for this recovery. It is a state machine (docs/auth.md has the diagram):

    waiting --wait over, at the next login or re-enrolment--> applied
    waiting --login with the old second factor (or step-up)--> cancelled
    waiting --a newer request--> replaced

While it waits, nothing changes: the old password and factors keep working, and every known
channel (each number the telecom registry lists for the citizen, the sign-ins on "my account",
the audit log) is told, with the date. Applying sets the new password, removes TOTP, unused
recovery codes and passkeys, and ends every session and grant of the account.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.models import (
    Account,
    AccountRecovery,
    RecoveryCode,
    SignInEvent,
    WebAuthnCredential,
)
from dinhdanh.auth.opaque import as_utc
from dinhdanh.auth.phones import PhoneDirectory
from dinhdanh.auth.sessions import Sessions
from dinhdanh.auth.sms import SmsGateway
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AccessContext, AuditLog

REQUESTED = (
    "dinhdanh: a password reset without your second factor was asked for your account. It "
    "takes effect on {at} UTC. Not you? Log in with your authenticator app, a recovery code "
    "or your passkey before then to cancel it."
)
CANCELLED = "dinhdanh: the password reset of your account was cancelled by a login."
APPLIED = (
    "dinhdanh: the password of your account was reset after the waiting period; its "
    "authenticator app, recovery codes and passkeys were removed."
)


class RecoveryState(StrEnum):
    WAITING = "waiting"
    APPLIED = "applied"
    CANCELLED = "cancelled"
    REPLACED = "replaced"


class Recoveries:
    def __init__(
        self,
        registry: Registry,
        phones: PhoneDirectory,
        sms: SmsGateway,
        sessions: Sessions,
        audit: AuditLog,
        *,
        wait: timedelta,
        random: opaque.RandomBytes = os.urandom,
    ) -> None:
        self.registry = registry
        self.phones = phones
        self.sms = sms
        self.sessions = sessions
        self.audit = audit
        self.wait = wait
        self._random = random

    def pending(self, session: Session, account_id: str) -> AccountRecovery | None:
        return session.scalars(
            select(AccountRecovery).where(
                AccountRecovery.account_id == account_id,
                AccountRecovery.state == RecoveryState.WAITING.value,
            )
        ).first()

    def request(
        self, session: Session, account: Account, password_hash: str, now: datetime
    ) -> datetime:
        """Start the wait (a newer request replaces an older one); returns when it ends."""
        earlier = self.pending(session, account.id)
        if earlier is not None:
            self._end(earlier, RecoveryState.REPLACED, now)
        apply_after = now + self.wait
        session.add(
            AccountRecovery(
                id=opaque.new_id(self._random),
                account_id=account.id,
                state=RecoveryState.WAITING.value,
                password_hash=password_hash,
                requested_at=now,
                apply_after=apply_after,
                ended_at=None,
            )
        )
        at = apply_after.strftime("%Y-%m-%d %H:%M")
        self._tell(session, account, "requested", REQUESTED.format(at=at), now)
        return apply_after

    def cancel(self, session: Session, account: Account, now: datetime) -> bool:
        """A login with the old second factor: a waiting recovery ends, nothing applied."""
        row = self.pending(session, account.id)
        if row is None or as_utc(row.apply_after) <= now:
            return False
        self._end(row, RecoveryState.CANCELLED, now)
        self._tell(session, account, "cancelled", CANCELLED, now)
        return True

    def apply_due(self, session: Session, account: Account, now: datetime) -> bool:
        """Apply a recovery whose wait is over: new password, old factors and sessions gone."""
        row = self.pending(session, account.id)
        if row is None or as_utc(row.apply_after) > now or row.password_hash is None:
            return False
        account.password_hash = row.password_hash
        account.totp_sealed = None
        account.totp_last_step = None
        account.updated_at = now
        session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
            .values(used_at=now)
        )
        session.execute(
            update(WebAuthnCredential)
            .where(
                WebAuthnCredential.account_id == account.id,
                WebAuthnCredential.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        self.sessions.revoke_all(session, account.id, now)
        self._end(row, RecoveryState.APPLIED, now)
        self._tell(session, account, "applied", APPLIED, now)
        return True

    @staticmethod
    def _end(row: AccountRecovery, state: RecoveryState, now: datetime) -> None:
        row.state = state.value
        row.password_hash = None
        row.ended_at = now

    def _tell(
        self, session: Session, account: Account, outcome: str, text: str, now: datetime
    ) -> None:
        """Every known channel: the citizen's numbers, "my account", the audit log."""
        id_bidx = self.registry.id_bidx_of(session, account.subject_id)
        if id_bidx is not None:
            for number in self.phones.numbers_for(session, id_bidx, account.subject_id, now):
                self.sms.send(session, number, text, now)
        session.add(
            SignInEvent(account_id=account.id, at=now, method="reset", outcome=outcome, ip="")
        )
        ctx = AccessContext(f"account:{account.id}", "citizen", "account recovery")
        self.audit.append(session, [ctx.event(f"recovery:{outcome}", account.subject_id, ())], now)
        session.flush()
