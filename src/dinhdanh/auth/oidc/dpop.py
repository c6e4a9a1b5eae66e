"""DPoP proofs: RFC 9449, sender-constrained access tokens.

A client that sends a ``DPoP`` header (a JWT signed by a key of its own, the public half in
the header) with a token request gets an access token bound to that key: ``cnf.jkt`` is the
key's RFC 7638 thumbprint (RFC 9449 section 6.1) and ``token_type`` is ``DPoP``. A bound
token is then accepted only with a fresh proof by the same key over that very request,
carrying the token's hash (``ath``, section 4.3): a stolen token is useless without the key.

Checked here (section 4.3): ``typ`` ``dpop+jwt``; an asymmetric algorithm we support; a
public ``jwk`` in the header (no private members); the signature; ``htm`` and ``htu`` equal
to the request's method and URI (without query and fragment); ``iat`` within the accepted
window; ``ath`` when a token comes with the proof; ``jti`` never seen before for that key
(kept in the database until the window has passed, so every worker sees it; recorded by an
insert that skips a duplicate, so the same proof sent twice at once is accepted once).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.auth.models import UsedDpopProof
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.token import s256
from dinhdanh.crypto.jose import SUPPORTED_ALGORITHMS, JoseError, parse_jwks, verify_jwt
from dinhdanh.store.once import DatabaseOnce, Once

TYP = "dpop+jwt"
ALGORITHMS = SUPPORTED_ALGORITHMS  # EdDSA, ES256, ML-DSA-65: all asymmetric
MAX_AGE = 300  # seconds a proof is accepted after its iat
MAX_SKEW = 60  # seconds a proof's iat may be ahead of our clock
MAX_PROOF = 16_384  # bytes: an ML-DSA-65 proof is about 7 kB
MAX_JTI = 200
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k", "priv")


def invalid_proof(description: str) -> OAuthError:
    return OAuthError("invalid_dpop_proof", description)


def ath(access_token: str) -> str:
    """RFC 9449 section 4.2: base64url SHA-256 of the token's ASCII bytes, PKCE's S256."""
    return s256(access_token)


def _header(proof: str) -> dict[str, Any]:
    head = proof.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError):
        raise invalid_proof("the DPoP proof is not a JWT") from None
    if not isinstance(header, dict):
        raise invalid_proof("the DPoP proof header is not a JSON object")
    return header


def htu_of(url: str) -> str:
    """The URI a proof names for ``url``: no query, no fragment (RFC 9449 section 4.3)."""
    return url.split("#", 1)[0].split("?", 1)[0]


def check_proof(
    session: Session,
    proof: str | None,
    *,
    method: str,
    url: str,
    now: datetime,
    access_token: str | None = None,
    seen: Once | None = None,
) -> str:
    """Verify one DPoP proof for a request and record its ``jti`` (in ``seen``: Redis when
    several nodes share it, else the database); returns the RFC 7638 thumbprint of its key
    (``jkt``). ``invalid_dpop_proof`` (RFC 9449 sections 5 and 7.1) if anything is wrong."""
    if not proof or len(proof) > MAX_PROOF or proof.count(".") != 2:
        raise invalid_proof("send one DPoP proof (a compact JWT) in the DPoP header")
    header = _header(proof)
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise invalid_proof("the DPoP proof header carries no jwk")
    if any(member in jwk for member in _PRIVATE_MEMBERS):
        raise invalid_proof("the DPoP proof's jwk holds a private key")
    keys = parse_jwks({"keys": [jwk]})
    if len(keys) != 1:
        raise invalid_proof("the DPoP proof's jwk is not a key of a supported type")
    try:
        key = keys.find(None, str(header.get("alg")))
        claims = verify_jwt(proof, keys, algorithms=ALGORITHMS, typ=TYP)
        jkt = key.thumbprint()
    except JoseError as exc:
        raise invalid_proof(f"the DPoP proof does not verify: {exc}") from None
    if header.get("typ") != TYP:  # verify_jwt allows "application/" and any case
        raise invalid_proof(f"the DPoP proof's typ must be {TYP}")
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI:
        raise invalid_proof("the DPoP proof needs a jti")
    if claims.get("htm") != method:
        raise invalid_proof(f"the DPoP proof is for {claims.get('htm')!r}, not {method}")
    if claims.get("htu") != htu_of(url):
        raise invalid_proof(f"the DPoP proof is for {claims.get('htu')!r}, not {htu_of(url)}")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise invalid_proof("the DPoP proof needs an iat")
    age = now.timestamp() - iat
    if age > MAX_AGE or age < -MAX_SKEW:
        raise invalid_proof("the DPoP proof's iat is outside the accepted window")
    if access_token is not None and claims.get("ath") != ath(access_token):
        raise invalid_proof("the DPoP proof's ath does not match the access token")
    used = {"jkt": jkt, "jti": jti, "expires_at": now + timedelta(seconds=MAX_AGE + MAX_SKEW)}
    once = seen or DatabaseOnce()
    if not once.first(session, UsedDpopProof, used, now):  # atomic: two at once, one wins
        raise invalid_proof("the DPoP proof was already used")
    return jkt
