"""WebAuthn passkeys (W3C Web Authentication Level 2, through py_webauthn): register, log in,
list, revoke.

- Registration (section 7.1) asks for a discoverable credential (``residentKey: required``)
  with user verification (``userVerification: required``), so a passkey alone is two factors:
  possession of the authenticator and the PIN or biometric that unlocks it (issue 3, item 2).
- Authentication (section 7.2) needs no user name: the browser offers the passkeys it holds
  for the relying party; the credential id it returns names the account.
- The relying-party ID is ``DINHDANH_WEBAUTHN_RP_ID`` (default the issuer's host); the expected
  origin is the issuer's origin. Browsers refuse WebAuthn on IP-address origins such as
  ``http://127.0.0.1``: use a host name (``localhost`` locally).
- Challenges are 32 bytes derived from a handle with a server key, valid five minutes and
  single use (``auth.challenges.SignedChallenges``): nothing is stored when options are
  handed out, and a successful ceremony records its handle as used. The signature counter
  must grow when the authenticator keeps one (section 6.1.1); passkeys that always send 0
  (synced ones) are accepted.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from dinhdanh.auth.challenges import SignedChallenges
from dinhdanh.auth.models import Account, WebAuthnCredential
from dinhdanh.errors import DomainError

CHALLENGE_TTL = timedelta(minutes=5)
REGISTER = "webauthn_register"
LOGIN = "webauthn_login"


class PasskeyFailed(DomainError):
    """The ceremony failed; the message is safe to show."""

    code, status, title = "passkey_rejected", 400, "The passkey was not accepted"


@dataclass(frozen=True, slots=True)
class Ceremony:
    handle: str  # names the stored challenge; sent back with the browser's answer
    options: dict[str, Any]  # PublicKeyCredential{Creation,Request}Options as JSON


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def origin_of(issuer: str) -> str:
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}"


class Passkeys:
    def __init__(
        self,
        rp_id: str,
        origin: str,
        challenges: SignedChallenges,
        rp_name: str = "dinhdanh",
    ) -> None:
        self.rp_id = rp_id
        self.origin = origin
        self.challenges = challenges
        self.rp_name = rp_name

    # -- challenges --
    def _challenge(self, handle: str, purpose: str, account_id: str | None, now: datetime) -> bytes:
        challenge = self.challenges.challenge(handle, purpose, account_id, now)
        if challenge is None:
            raise PasskeyFailed("the request expired: try again")
        return challenge

    def _use(self, session: Session, handle: str, now: datetime) -> None:
        """After the answer verified: the challenge is spent, once (``PasskeyFailed`` if it
        was already, also by a request at the same instant)."""
        if not self.challenges.use(session, handle, now):
            raise PasskeyFailed("this request was already used: try again")

    # -- registration --
    def begin_registration(
        self, session: Session, account: Account, user_name: str, now: datetime
    ) -> Ceremony:
        existing = self.list(session, account)
        handle, challenge = self.challenges.issue(REGISTER, account.id, CHALLENGE_TTL, now)
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.rp_name,
            user_id=account.id.encode(),
            user_name=user_name,
            user_display_name=user_name,
            challenge=challenge,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(
                    id=base64.urlsafe_b64decode(c.id + "=" * (-len(c.id) % 4))
                )
                for c in existing
            ],
        )
        return Ceremony(handle, json.loads(options_to_json(options)))

    def finish_registration(
        self,
        session: Session,
        account: Account,
        handle: str,
        credential: dict[str, Any],
        name: str,
        now: datetime,
    ) -> WebAuthnCredential:
        challenge = self._challenge(handle, REGISTER, account.id, now)
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                require_user_verification=True,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise PasskeyFailed(f"the passkey was not accepted: {exc}") from None
        self._use(session, handle, now)
        cred_id = _b64url(verified.credential_id)
        if session.get(WebAuthnCredential, cred_id) is not None:
            raise PasskeyFailed("this passkey is already registered")
        transports = credential.get("response", {}).get("transports") or []
        cred = WebAuthnCredential(
            id=cred_id,
            account_id=account.id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            name=(name.strip() or "passkey")[:100],
            transports=" ".join(str(t) for t in transports)[:200],
            user_verified=verified.user_verified,
            created_at=now,
            last_used_at=None,
            revoked_at=None,
        )
        session.add(cred)
        session.flush()
        return cred

    # -- authentication --
    def begin_login(self, now: datetime) -> Ceremony:
        """Options for a login; stateless (no row is written, no session needed)."""
        handle, challenge = self.challenges.issue(LOGIN, None, CHALLENGE_TTL, now)
        options = generate_authentication_options(
            rp_id=self.rp_id,
            challenge=challenge,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return Ceremony(handle, json.loads(options_to_json(options)))

    def finish_login(
        self, session: Session, handle: str, credential: dict[str, Any], now: datetime
    ) -> WebAuthnCredential:
        """The credential used (its account logs in), or ``PasskeyFailed``."""
        challenge = self._challenge(handle, LOGIN, None, now)
        cred_id = credential.get("id") if isinstance(credential, dict) else None
        cred = session.get(WebAuthnCredential, cred_id) if isinstance(cred_id, str) else None
        if cred is None or cred.revoked_at is not None:
            raise PasskeyFailed("this passkey is not registered")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                credential_public_key=cred.public_key,
                credential_current_sign_count=cred.sign_count,
                require_user_verification=True,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise PasskeyFailed(f"the passkey was not accepted: {exc}") from None
        self._use(session, handle, now)
        cred.sign_count = verified.new_sign_count
        cred.last_used_at = now
        return cred

    # -- management --
    def list(self, session: Session, account: Account) -> list[WebAuthnCredential]:
        return list(
            session.scalars(
                select(WebAuthnCredential)
                .where(
                    WebAuthnCredential.account_id == account.id,
                    WebAuthnCredential.revoked_at.is_(None),
                )
                .order_by(WebAuthnCredential.created_at)
            )
        )

    def revoke(self, session: Session, account: Account, cred_id: str, now: datetime) -> bool:
        cred = session.get(WebAuthnCredential, cred_id)
        if cred is None or cred.account_id != account.id or cred.revoked_at is not None:
            return False
        cred.revoked_at = now
        return True
