"""Tables of accounts, login and the OpenID Connect provider.

Every secret a client or browser holds (session token, authorization code, refresh token,
client secret, request_uri, challenge handle) is stored as a SHA-256 digest only: they are
random values of 128 bits or more, so a fast hash suffices (issue 3, item 9), and a copy of
the database can't be replayed. One-time codes (enrolment SMS codes, recovery codes) are
stored as SHA-256 digests too. Personal values and secrets we must read back (a TOTP secret,
also while its setup is pending; a phone number in the SMS outbox) are sealed with the key
ring like the registry's records.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dinhdanh.identity.service import SUBJECT_FK
from dinhdanh.store import Base

_TS = DateTime(timezone=True)


class Account(Base):
    """A citizen's login account: at most one per citizen subject."""

    __tablename__ = "auth_accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey(SUBJECT_FK), unique=True)
    level: Mapped[int] = mapped_column(Integer)  # level of assurance reached at enrolment
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(_TS)
    updated_at: Mapped[datetime] = mapped_column(_TS)
    # Blind index of the number the last enrolment's SMS code proved (phone_number_verified).
    phone_verified_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class RecoveryCode(Base):
    __tablename__ = "auth_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    code_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    used_at: Mapped[datetime | None] = mapped_column(_TS)


class WebAuthnCredential(Base):
    __tablename__ = "auth_webauthn_credentials"

    id: Mapped[str] = mapped_column(String(1400), primary_key=True)  # base64url credential id
    account_id: Mapped[str] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE key
    sign_count: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    transports: Mapped[str] = mapped_column(String(200))
    user_verified: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(_TS)
    last_used_at: Mapped[datetime | None] = mapped_column(_TS)
    revoked_at: Mapped[datetime | None] = mapped_column(_TS)


class Challenge(Base):
    """A short-lived challenge of a ceremony (TOTP setup, WebAuthn), ``auth.challenges``.

    ``id`` is the SHA-256 (hex) of the handle the browser holds; ``challenge`` is the value
    sealed and bound to this row. Deleted once used; expired rows are purged.
    """

    __tablename__ = "auth_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30))
    challenge: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    account_id: Mapped[str | None] = mapped_column(String(36))
    expires_at: Mapped[datetime] = mapped_column(_TS, index=True)


class UsedChallenge(Base):
    """A WebAuthn challenge used once (``auth.challenges.SignedChallenges``), kept until it
    expires so it is never used again. ``id``: SHA-256 (hex) of the handle's bytes."""

    __tablename__ = "auth_used_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(_TS, index=True)


class Enrolment(Base):
    """One enrolment flow (state machine in ``auth.enrolment``; docs/auth.md).

    ``subject_id`` is None when the stated identity matched nobody: the flow then goes on
    exactly like a real one, so the answer never tells whether an ID number exists.
    """

    __tablename__ = "auth_enrolments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the flow token
    state: Mapped[str] = mapped_column(String(20))
    id_bidx: Mapped[bytes] = mapped_column(LargeBinary(16), index=True)
    subject_id: Mapped[str | None] = mapped_column(String(36))
    code_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    code_expires_at: Mapped[datetime | None] = mapped_column(_TS)
    # Blind index of the number the code went to, when it went to that one number only.
    phone_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(_TS)
    expires_at: Mapped[datetime] = mapped_column(_TS)
    # The new password's Argon2id hash while the account's second factor is due
    # (state ``factor_due``); cleared when the flow moves on.
    password_hash: Mapped[str | None] = mapped_column(String(200))


class AccountRecovery(Base):
    """A password reset of an account with a second factor, asked without that factor
    (``auth.account_recovery``): it waits, and applies only once ``apply_after`` has passed.

    ``state``: ``waiting``, then ``applied``, ``cancelled`` (a login with the old factors) or
    ``replaced`` (a newer request). ``password_hash`` is cleared when the row leaves
    ``waiting``.
    """

    __tablename__ = "auth_account_recoveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(_TS)
    apply_after: Mapped[datetime] = mapped_column(_TS)
    ended_at: Mapped[datetime | None] = mapped_column(_TS)


class SmsMessage(Base):
    """The ``outbox`` SMS gateway: messages kept in the database, shown on /dev/outbox in dev."""

    __tablename__ = "auth_sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    to_masked: Mapped[str] = mapped_column(String(20))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # recipient and body, sealed
    created_at: Mapped[datetime] = mapped_column(_TS)


class Throttle(Base):
    """Failure counter of one key (``id:BIDX``, ``ip:ADDR``, ``enrol-send:BIDX``, ...)."""

    __tablename__ = "auth_throttles"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(_TS)
    blocked_until: Mapped[datetime | None] = mapped_column(_TS)


class LoginSession(Base):
    """A browser session. ``mfa_pending``: first factor passed, second still due."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    mfa_pending: Mapped[bool] = mapped_column(Boolean)
    amr: Mapped[str] = mapped_column(String(100))  # space-separated RFC 8176 values
    acr: Mapped[int] = mapped_column(Integer)
    auth_time: Mapped[datetime] = mapped_column(_TS)
    created_at: Mapped[datetime] = mapped_column(_TS)
    last_seen_at: Mapped[datetime] = mapped_column(_TS)
    expires_at: Mapped[datetime] = mapped_column(_TS)  # absolute timeout
    user_agent: Mapped[str] = mapped_column(String(300))
    ip: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(_TS)


class SignInEvent(Base):
    """Recent sign-ins and failures shown on "my account"."""

    __tablename__ = "auth_sign_in_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    at: Mapped[datetime] = mapped_column(_TS)
    method: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(30))
    ip: Mapped[str] = mapped_column(String(64))


class Client(Base):
    """A relying party (OIDC client)."""

    __tablename__ = "oidc_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    auth_method: Mapped[str] = mapped_column(String(40))  # client_secret_basic | private_key_jwt
    jwks: Mapped[str | None] = mapped_column(Text)  # JSON, for private_key_jwt
    redirect_uris: Mapped[str] = mapped_column(Text)  # JSON list, matched exactly
    post_logout_redirect_uris: Mapped[str] = mapped_column(Text)  # JSON list
    sector_identifier: Mapped[str] = mapped_column(String(255))
    grant_types: Mapped[str] = mapped_column(String(200))  # space-separated
    scope: Mapped[str] = mapped_column(String(500))  # scopes the client may ask for
    signing_alg: Mapped[str] = mapped_column(String(20))  # ID and access tokens
    created_at: Mapped[datetime] = mapped_column(_TS)
    revoked_at: Mapped[datetime | None] = mapped_column(_TS)


class Consent(Base):
    __tablename__ = "oidc_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("auth_accounts.id"))
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id"))
    scope: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(_TS)
    revoked_at: Mapped[datetime | None] = mapped_column(_TS)

    __table_args__ = (UniqueConstraint("account_id", "client_id"),)


class AuthorizationCode(Base):
    __tablename__ = "oidc_codes"

    code_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(36))
    session_id: Mapped[str] = mapped_column(String(36))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    auth_time: Mapped[datetime] = mapped_column(_TS)
    acr: Mapped[int] = mapped_column(Integer)
    amr: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(_TS)
    used_at: Mapped[datetime | None] = mapped_column(_TS)
    family_id: Mapped[str | None] = mapped_column(String(36))  # tokens issued from it

    # auth.oidc.holder.holder_of: the codes of one client that carried an ID token's nonce.
    __table_args__ = (Index("ix_oidc_codes_client_nonce", "client_id", "nonce"),)


class Grant(Base):
    """What one user granted one client in one authorization: the family of its tokens.

    Access tokens name it (``gid``), refresh tokens belong to it; revoking it (log out,
    consent withdrawn, a refresh token replayed) ends every token issued under it.
    """

    __tablename__ = "oidc_grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(36), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(_TS)
    revoked_at: Mapped[datetime | None] = mapped_column(_TS)


class RefreshToken(Base):
    """Refresh tokens rotate: each use issues a new one in the same family (RFC 9700 4.14)."""

    __tablename__ = "oidc_refresh_tokens"

    token_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    auth_time: Mapped[datetime] = mapped_column(_TS)
    acr: Mapped[int] = mapped_column(Integer)
    amr: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(_TS)
    expires_at: Mapped[datetime] = mapped_column(_TS)
    used_at: Mapped[datetime | None] = mapped_column(_TS)
    revoked_at: Mapped[datetime | None] = mapped_column(_TS)


class RevokedAccessToken(Base):
    """JWT access tokens are self-contained; a revoked one is listed until it expires."""

    __tablename__ = "oidc_revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(_TS, index=True)


class UsedAssertion(Base):
    """``jti`` of private_key_jwt client assertions seen, against replay (RFC 7523 3)."""

    __tablename__ = "oidc_used_assertions"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(_TS, index=True)


class UsedDpopProof(Base):
    """``jti`` of DPoP proofs seen per key, against replay (RFC 9449 section 11.1)."""

    __tablename__ = "oidc_used_dpop_proofs"

    jkt: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(_TS, index=True)


class PushedRequest(Base):
    """A pushed authorization request (RFC 9126)."""

    __tablename__ = "oidc_par_requests"

    request_uri_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text)  # JSON object
    expires_at: Mapped[datetime] = mapped_column(_TS)
    used_at: Mapped[datetime | None] = mapped_column(_TS)
    # When the browser first came with it and had to log in: prompt=login is met by a login
    # after this (kept here, never taken from the query string).
    requested_at: Mapped[datetime | None] = mapped_column(_TS)


__all__ = [
    "Account",
    "AuthorizationCode",
    "Challenge",
    "Client",
    "Consent",
    "Enrolment",
    "Grant",
    "LoginSession",
    "PushedRequest",
    "RecoveryCode",
    "RefreshToken",
    "RevokedAccessToken",
    "SignInEvent",
    "SmsMessage",
    "Throttle",
    "UsedAssertion",
    "UsedChallenge",
    "UsedDpopProof",
    "WebAuthnCredential",
]
