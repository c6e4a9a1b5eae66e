"""Step-up before changing authenticators (issue 8, finding 1).

Setting up or replacing TOTP, printing recovery codes, adding or revoking a passkey: each
needs a session whose authentication included the account's current second factor (TOTP,
a recovery code, a passkey) within ``window`` (``DINHDANH_STEP_UP_SECONDS``, like OIDC's
``max_age``). An account with no second factor yet may set up its first one after a fresh
password login (which includes the end of enrolment). Freshness is read from the session row
only (``amr``, ``auth_time``), never from anything the browser sends. An SMS code is never a
second factor here: a session of ``pwd sms`` cannot change an existing account's factors.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.auth.models import Account, RecoveryCode, WebAuthnCredential

# RFC 8176 values that prove the account's own second factor ("recovery" is ours).
SECOND_FACTOR_AMR = frozenset({"otp", "recovery", "hwk"})


def is_fresh(
    amr: Iterable[str],
    auth_time: datetime,
    has_second_factor: bool,
    now: datetime,
    window: timedelta,
) -> bool:
    """May a session authenticated with ``amr`` at ``auth_time`` change authenticators?"""
    if now - auth_time > window:
        return False
    methods = set(amr)
    if has_second_factor:
        return not SECOND_FACTOR_AMR.isdisjoint(methods)
    return "pwd" in methods


def has_second_factor(session: Session, account: Account) -> bool:
    """TOTP, an active passkey or an unused recovery code."""
    if account.totp_sealed is not None:
        return True
    passkey = session.scalar(
        select(WebAuthnCredential.id).where(
            WebAuthnCredential.account_id == account.id, WebAuthnCredential.revoked_at.is_(None)
        )
    )
    if passkey is not None:
        return True
    code = session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
        )
    )
    return code is not None


class StepUp:
    def __init__(self, window: timedelta) -> None:
        self.window = window

    def allows(
        self,
        session: Session,
        account: Account,
        amr: Iterable[str],
        auth_time: datetime,
        now: datetime,
    ) -> bool:
        return is_fresh(amr, auth_time, has_second_factor(session, account), now, self.window)
