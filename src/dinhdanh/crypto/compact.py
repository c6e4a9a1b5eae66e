"""Compact JWS verification for hot paths: keys parsed once, no registry lookups per token.

``jose.verify_jws`` (joserfc) is the general door. SD-JWT presentations (RFC 9901) carry two
signatures each, one under a key given inside the token itself (``cnf``), and a verifier
checks thousands per second: here a JWK becomes a ``VerifyingKey`` once (RFC 7517; RFC 8037
OKP Ed25519 for "EdDSA", RFC 7518 section 3.4 EC P-256 for "ES256" with R || S signatures,
RFC 9964 AKP for "ML-DSA-65") and ``decode`` splits a token (RFC 7515 section 7.1) without
trusting anything in it. A key verifies only the one algorithm it was made for, so a token's
``alg`` header can't choose another (no algorithm confusion); "none", HMAC and RSA don't
exist here.

Every failure raises ``JoseError``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from dinhdanh.crypto.jose import JoseError

__all__ = ["Compact", "VerifyingKey", "b64url", "decode", "unb64url", "verifying_key"]

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ECDSA = ec.ECDSA(hashes.SHA256())
_P256 = ec.SECP256R1()
_MLDSA65_PUBLIC_LEN = 1952


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Strict base64url: the URL-safe alphabet only, no padding, no whitespace."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise JoseError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise JoseError("not base64url") from None


class VerifyingKey:
    """A public key fixed to one JWS algorithm; ``verify`` returns whether a signature holds."""

    __slots__ = ("_ec", "_ed", "_ml", "alg", "kid")

    def __init__(
        self,
        alg: str,
        key: Ed25519PublicKey | ec.EllipticCurvePublicKey | MLDSA65PublicKey,
        kid: str | None = None,
    ) -> None:
        self.alg, self.kid = alg, kid
        self._ed = key if isinstance(key, Ed25519PublicKey) else None
        self._ec = key if isinstance(key, ec.EllipticCurvePublicKey) else None
        self._ml = key if isinstance(key, MLDSA65PublicKey) else None

    def __repr__(self) -> str:
        return f"VerifyingKey(alg={self.alg!r}, kid={self.kid!r})"

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        try:
            if self._ed is not None:
                self._ed.verify(signature, signing_input)
            elif self._ec is not None:
                if len(signature) != 64:
                    return False
                r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                self._ec.verify(encode_dss_signature(r, s), signing_input, _ECDSA)
            elif self._ml is not None:
                self._ml.verify(signature, signing_input)
            else:  # pragma: no cover - the constructor takes only the three key types
                return False
        except (InvalidSignature, ValueError):
            return False
        return True


def _member(jwk: Mapping[str, Any], name: str, length: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise JoseError(f"JWK member {name!r} is missing")
    raw = unb64url(value)
    if len(raw) != length:
        raise JoseError(f"JWK member {name!r} must be {length} bytes")
    return raw


def verifying_key(jwk: Mapping[str, Any]) -> VerifyingKey:
    """The public key of a JWK: OKP Ed25519 (EdDSA), EC P-256 (ES256) or AKP ML-DSA-65.

    A JWK holding a private part (``d``, ``priv``) is refused: it was meant to stay secret.
    An ``alg`` member, when present, must name the algorithm the key type implies.
    """
    if not isinstance(jwk, Mapping):
        raise JoseError("a JWK must be a JSON object")
    if "d" in jwk or "priv" in jwk:
        raise JoseError("the JWK holds a private key")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    kid = jwk.get("kid") if isinstance(jwk.get("kid"), str) else None
    key: Ed25519PublicKey | ec.EllipticCurvePublicKey | MLDSA65PublicKey
    if kty == "OKP" and crv == "Ed25519":
        alg = "EdDSA"
        key = Ed25519PublicKey.from_public_bytes(_member(jwk, "x", 32))
    elif kty == "EC" and crv == "P-256":
        alg = "ES256"
        point = b"\x04" + _member(jwk, "x", 32) + _member(jwk, "y", 32)
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(_P256, point)
        except ValueError:
            raise JoseError("the JWK is not a point on P-256") from None
    elif kty == "AKP" and jwk.get("alg") == "ML-DSA-65":
        alg = "ML-DSA-65"
        key = MLDSA65PublicKey.from_public_bytes(_member(jwk, "pub", _MLDSA65_PUBLIC_LEN))
    else:
        raise JoseError("unsupported JWK: OKP Ed25519, EC P-256 or AKP ML-DSA-65 only")
    if jwk.get("alg", alg) != alg:
        raise JoseError(f"the JWK's alg {jwk.get('alg')!r} does not fit its key type")
    return VerifyingKey(alg, key, kid)


@dataclass(frozen=True, slots=True)
class Compact:
    """A compact JWS split and decoded, signature not yet checked."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    def claims(self) -> dict[str, Any]:
        """The payload as a JSON object (a JWT's claims)."""
        try:
            claims = json.loads(self.payload)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise JoseError("payload is not JSON") from None
        if not isinstance(claims, dict):
            raise JoseError("payload is not a JSON object")
        return claims

    def verified_by(self, key: VerifyingKey) -> bool:
        """Whether ``key`` made the signature, under the algorithm the header names."""
        return self.header.get("alg") == key.alg and key.verify(self.signing_input, self.signature)


def decode(token: str) -> Compact:
    """Split a compact JWS into a JSON header, payload bytes and signature (unverified)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("a compact JWS has three parts")
    try:
        header = json.loads(unb64url(parts[0]))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise JoseError("header is not JSON") from None
    if not isinstance(header, dict):
        raise JoseError("header is not a JSON object")
    if header.get("b64", True) is not True or "crit" in header:
        raise JoseError("unsupported header parameters (b64, crit)")
    payload, signature = unb64url(parts[1]), unb64url(parts[2])
    # All three parts passed the base64url alphabet check: ASCII.
    return Compact(header, payload, (parts[0] + "." + parts[1]).encode("ascii"), signature)
