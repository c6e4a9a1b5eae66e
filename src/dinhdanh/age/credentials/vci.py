"""Issuing age credentials over OpenID4VCI 1.0 with a pre-authorized code.

The flow (OpenID for Verifiable Credential Issuance 1.0):

1. a signed-in citizen with a fresh authentication asks for an offer (the account page):
   ``offer`` makes a Credential Offer (section 4.1) whose ``pre-authorized_code`` grant holds
   a random code, stored as a SHA-256, single use, ``offer_ttl`` (300 s) long;
2. the wallet reads the Credential Issuer Metadata (section 12.2,
   ``/.well-known/openid-credential-issuer``) and exchanges the code at the token endpoint
   (section 6, grant ``urn:ietf:params:oauth:grant-type:pre-authorized_code``; ``token``):
   an opaque access token, stored as a SHA-256, good for one credential request;
3. it asks the nonce endpoint (section 7) for a ``c_nonce`` (``nonce``: its time and random
   bits under a MAC, so the endpoint stores nothing; the credential endpoint records each
   nonce it spends, so none is used twice);
4. it sends one proof per credential to the credential endpoint (section 8,
   ``proofs: {"jwt": [...]}``; Appendix F.1: ``typ`` ``openid4vci-proof+jwt``, the holder key
   in the ``jwk`` header, ``aud`` the issuer, ``nonce`` the c_nonce, a recent ``iat``) and
   gets ``credentials: [{"credential": ...}, ...]`` (``credential``), one per proof, in order.

Errors keep the specification's codes in OAuth's format (``{"error",
"error_description"}``): ``invalid_grant`` at the token endpoint, ``invalid_token`` (401)
for a missing, spent or expired access token, and at the credential endpoint
``invalid_credential_request``, ``unknown_credential_configuration``, ``invalid_proof``,
``invalid_nonce`` (section 8.3.1.2). Failures roll back: an access token refused for a bad
proof can be used again with good ones; nothing is half issued.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import quote

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from dinhdanh.age.credentials.errors import IssuanceRefused
from dinhdanh.age.credentials.issuer import HOLDER_ALGS, TYP, VCT
from dinhdanh.age.credentials.keys import IssuerAlg
from dinhdanh.age.credentials.models import VciNonce, VciOffer
from dinhdanh.age.credentials.service import AgeCredentials
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.crypto import KeyRing
from dinhdanh.crypto.compact import b64url, decode, unb64url, verifying_key
from dinhdanh.crypto.derive import vci_nonce_key
from dinhdanh.crypto.jose import JoseError
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.db import record_once

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
OFFER_SCHEME = "openid-credential-offer://"
# One configuration per issuer signature algorithm; the credentials are otherwise the same.
CONFIGURATIONS: dict[str, IssuerAlg] = {
    "age_over_sd_jwt": "EdDSA",
    "age_over_sd_jwt_ml_dsa": "ML-DSA-65",
}
NONCE_PATH, CREDENTIAL_PATH = "/age/vci/nonce", "/age/vci/credential"
OFFERS: Table = cast(Table, VciOffer.__table__)
_CLAIM_NAMES = {
    "age_over_13": ("Over 13", "Trên 13 tuổi"),
    "age_over_16": ("Over 16", "Trên 16 tuổi"),
    "age_over_18": ("Over 18", "Trên 18 tuổi"),
}


class VciError(OAuthError):
    """An OpenID4VCI error: ``error`` is the specification's code."""


def _sha(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


class Issuance:
    def __init__(
        self,
        credentials: AgeCredentials,
        ring: KeyRing,
        *,
        offer_ttl: int = 300,
        token_ttl: int = 300,
        nonce_ttl: int = 300,
        proof_max_age: int = 300,
        skew: int = 60,
    ) -> None:
        self.credentials = credentials
        self.issuer = credentials.issuer
        self._nonce_key = vci_nonce_key(ring)
        self.offer_ttl = timedelta(seconds=offer_ttl)
        self.token_ttl = timedelta(seconds=token_ttl)
        self.nonce_ttl = timedelta(seconds=nonce_ttl)
        self.proof_max_age, self.skew = proof_max_age, skew

    # -- metadata (section 12.2.4) ---------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        claims = [
            {
                "path": [name],
                "display": [{"name": en, "locale": "en"}, {"name": vi, "locale": "vi"}],
            }
            for name, (en, vi) in _CLAIM_NAMES.items()
        ]
        display = [
            {"name": "Age credential", "locale": "en"},
            {"name": "Chứng nhận độ tuổi", "locale": "vi"},
        ]
        proof_types = {"jwt": {"proof_signing_alg_values_supported": list(HOLDER_ALGS)}}
        return {
            "credential_issuer": self.issuer,
            "credential_endpoint": self.issuer + CREDENTIAL_PATH,
            "nonce_endpoint": self.issuer + NONCE_PATH,
            "batch_credential_issuance": {"batch_size": self.credentials.max_batch},
            "display": [{"name": "dinhdanh", "locale": "en"}, {"name": "dinhdanh", "locale": "vi"}],
            "credential_configurations_supported": {
                config_id: {
                    "format": TYP,
                    "vct": VCT,
                    "cryptographic_binding_methods_supported": ["jwk"],
                    "credential_signing_alg_values_supported": [alg],
                    "proof_types_supported": proof_types,
                    "credential_metadata": {"display": display, "claims": claims},
                }
                for config_id, alg in CONFIGURATIONS.items()
            },
        }

    # -- the offer (section 4.1) -------------------------------------------------------------
    def offer(self, session: Session, subject_id: str, now: datetime) -> dict[str, Any]:
        """A Credential Offer for ``subject_id`` (the citizen asking, authenticated afresh)."""
        session.execute(delete(OFFERS).where(OFFERS.c.code_expires_at <= now - self.token_ttl))
        code = secrets.token_urlsafe(32)
        session.execute(
            insert(OFFERS).values(
                id=str(uuid.uuid4()),
                subject_id=subject_id,
                code_sha256=_sha(code),
                code_expires_at=now + self.offer_ttl,
            )
        )
        return {
            "credential_issuer": self.issuer,
            "credential_configuration_ids": list(CONFIGURATIONS),
            "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": code}},
        }

    @staticmethod
    def offer_uri(offer: Mapping[str, Any]) -> str:
        """``openid-credential-offer://?credential_offer=...`` (section 4.1.2, by value)."""
        body = json.dumps(offer, separators=(",", ":"))
        return OFFER_SCHEME + "?credential_offer=" + quote(body, safe="")

    # -- token endpoint (section 6) ---------------------------------------------------------
    def token(self, session: Session, form: Mapping[str, str], now: datetime) -> dict[str, Any]:
        """The pre-authorized code grant: the code is spent, an access token made."""
        code = form.get("pre-authorized_code")
        if not code:
            raise OAuthError("invalid_request", "pre-authorized_code is required")
        if "tx_code" in form:
            raise OAuthError("invalid_request", "this offer asks for no tx_code")
        token = secrets.token_urlsafe(32)
        done = session.execute(
            update(OFFERS)
            .where(
                OFFERS.c.code_sha256 == _sha(code),
                OFFERS.c.code_used_at.is_(None),
                OFFERS.c.code_expires_at > now,
            )
            .values(
                code_used_at=now,
                token_sha256=_sha(token),
                token_expires_at=now + self.token_ttl,
            )
        )
        if int(done.rowcount) != 1:  # type: ignore[attr-defined]
            raise OAuthError("invalid_grant", "the pre-authorized code is unknown, used or expired")
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self.token_ttl.total_seconds()),
        }

    # -- nonce endpoint (section 7) ---------------------------------------------------------
    def nonce(self, now: datetime) -> str:
        """A c_nonce: its time and 128 random bits under a MAC. The endpoint writes nothing
        (anyone may call it); the credential endpoint records a nonce when it spends it."""
        body = int(now.timestamp()).to_bytes(8, "big") + secrets.token_bytes(16)
        return b64url(body + self._mac(body))

    def _mac(self, body: bytes) -> bytes:
        return hmac.digest(self._nonce_key, body, "sha256")[:16]

    def _nonce_fresh(self, nonce: str, now: datetime) -> datetime | None:
        """When a c_nonce of ours stops being valid, or None (forged, malformed, expired)."""
        try:
            raw = unb64url(nonce)
        except (JoseError, ValueError):
            return None
        if len(raw) != 40 or not hmac.compare_digest(raw[24:], self._mac(raw[:24])):
            return None
        issued = datetime.fromtimestamp(int.from_bytes(raw[:8], "big"), UTC)
        expires = issued + self.nonce_ttl
        if not issued - timedelta(seconds=self.skew) <= now < expires:
            return None
        return expires

    # -- credential endpoint (section 8) ----------------------------------------------------
    def credential(
        self, session: Session, access_token: str | None, body: Any, now: datetime
    ) -> dict[str, Any]:
        """One credential per proof of the request, to the holder of the access token."""
        offer_id, subject = self._spend_token(session, access_token, now)
        config, proofs = _request(body)
        if len(proofs) > self.credentials.max_batch:
            raise VciError(
                "invalid_credential_request",
                f"at most {self.credentials.max_batch} proofs (batch_size)",
            )
        checked = [self._proof(p, now) for p in proofs]
        nonces = {nonce for _, nonce in checked}
        if len(nonces) != 1 or not self._consume_nonce(session, nonces.pop(), now):
            raise VciError("invalid_nonce", "the proofs' nonce is not a fresh c_nonce")
        ctx = AccessContext(f"citizen:{subject}", "citizen", "age credentials")
        try:
            issued = self.credentials.issue_batch(
                session, subject, [jwk for jwk, _ in checked], ctx, now, alg=CONFIGURATIONS[config]
            )
        except IssuanceRefused as exc:
            # A key used twice or unusable is the proofs' fault; anything else (a death in
            # the registry) is a refusal the wallet cannot fix.
            error = (
                "invalid_proof"
                if exc.code.startswith("holder_key")
                else "credential_request_denied"
            )
            raise VciError(error, exc.detail or exc.code) from None
        session.execute(delete(OFFERS).where(OFFERS.c.id == offer_id))
        return {"credentials": [{"credential": c} for c in issued]}

    def _spend_token(
        self, session: Session, access_token: str | None, now: datetime
    ) -> tuple[str, str]:
        row = None
        if access_token:
            row = session.execute(
                select(OFFERS.c.id, OFFERS.c.subject_id, OFFERS.c.token_expires_at)
                .where(OFFERS.c.token_sha256 == _sha(access_token))
                .with_for_update()
            ).first()
        if row is None or _aware(row.token_expires_at) <= now:
            error = OAuthError("invalid_token", "the access token is unknown, used or expired", 401)
            error.scheme = "Bearer"
            raise error
        return row.id, row.subject_id

    def _consume_nonce(self, session: Session, nonce: str, now: datetime) -> bool:
        """A fresh nonce of ours, spent now: recorded once (``store.db.record_once``)."""
        expires = self._nonce_fresh(nonce, now)
        if expires is None:
            return False
        return record_once(
            session, VciNonce, {"nonce_sha256": _sha(nonce), "expires_at": expires}, now
        )

    def _proof(self, proof: Any, now: datetime) -> tuple[dict[str, str], str]:
        """The holder key and nonce of one proof JWT (Appendix F.1), its signature checked."""
        if not isinstance(proof, str):
            raise VciError("invalid_proof", "a proof is a compact JWT")
        try:
            jws = decode(proof)
            claims = jws.claims()
        except JoseError as exc:
            raise VciError("invalid_proof", f"the proof is malformed: {exc}") from None
        header = jws.header
        if header.get("typ") != PROOF_TYP:
            raise VciError("invalid_proof", f"the proof's typ must be {PROOF_TYP}")
        if "kid" in header or "x5c" in header or not isinstance(header.get("jwk"), dict):
            raise VciError("invalid_proof", "the holder key goes in the jwk header, alone")
        if header.get("alg") not in HOLDER_ALGS:
            raise VciError("invalid_proof", f"proofs are signed with {' or '.join(HOLDER_ALGS)}")
        try:
            key = verifying_key(header["jwk"])
        except JoseError as exc:
            raise VciError("invalid_proof", f"the jwk is not a public key: {exc}") from None
        if not jws.verified_by(key):
            raise VciError("invalid_proof", "the proof is not signed by its jwk")
        if claims.get("aud") != self.issuer:
            raise VciError("invalid_proof", "the proof's aud is not this credential issuer")
        iat, t = claims.get("iat"), int(now.timestamp())
        if (
            not isinstance(iat, int)
            or isinstance(iat, bool)
            or not t - self.proof_max_age <= iat <= t + self.skew
        ):
            raise VciError("invalid_proof", "the proof's iat is missing or not recent")
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise VciError("invalid_nonce", "the proof carries no c_nonce")
        return dict(header["jwk"]), nonce


def _request(body: Any) -> tuple[str, list[Any]]:
    """The configuration asked for and the proofs of a Credential Request (section 8.2)."""
    if not isinstance(body, dict):
        raise VciError("invalid_credential_request", "the request is a JSON object")
    config = body.get("credential_configuration_id")
    if "credential_identifier" in body:
        raise VciError("invalid_credential_request", "use credential_configuration_id")
    if config not in CONFIGURATIONS:
        raise VciError("unknown_credential_configuration", f"offered: {list(CONFIGURATIONS)}")
    if "proof" in body:
        raise VciError("invalid_credential_request", "send proofs, not proof")
    proofs = body.get("proofs")
    if (
        not isinstance(proofs, dict)
        or list(proofs) != ["jwt"]
        or not isinstance(proofs["jwt"], list)
        or not proofs["jwt"]
    ):
        raise VciError("invalid_credential_request", 'proofs must be {"jwt": [one per credential]}')
    return str(config), proofs["jwt"]


def _aware(at: datetime | None) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC); no expiry is long past.
    if at is None:
        return datetime.min.replace(tzinfo=UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
