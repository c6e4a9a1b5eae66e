"""Token signing keys and the JWK Set the provider publishes at ``/jwks`` (RFC 7517 5).

Keys derive from the key ring (``crypto.derive.token_seeds``), three per signing version:
Ed25519 (``OKP``, alg ``EdDSA``), P-256 (``EC``, ``ES256``) and ML-DSA-65 (``AKP``,
``ML-DSA-65``, RFC 9964). The current version signs; every version in the ring that is not
retired is published and verifies, so after ``dinhdanh keys rotate`` tokens signed before
keep verifying (the overlap period lasts until ``dinhdanh keys retire`` takes the old
version out of tokens).
"""

from __future__ import annotations

from typing import Any

from dinhdanh.crypto import KeyRing
from dinhdanh.crypto.derive import token_seeds
from dinhdanh.crypto.jose import (
    SUPPORTED_ALGORITHMS,
    Algorithm,
    PublicKeySet,
    SigningKey,
    jwks,
    parse_jwks,
    signing_keys_from_seeds,
)


class TokenKeys:
    def __init__(self, ring: KeyRing) -> None:
        seeds = token_seeds(ring)
        self.all: list[SigningKey] = []
        for s in seeds:
            self.all.extend(signing_keys_from_seeds(s.version, s.ed25519, s.mldsa65, s.p256))
        # ``token_seeds`` lists the current version first.
        self._current: dict[str, SigningKey] = {k.alg: k for k in self.all[:3]}
        self.jwks: dict[str, list[dict[str, Any]]] = jwks(self.all)
        self.public: PublicKeySet = parse_jwks(self.jwks)

    def signer(self, alg: Algorithm) -> SigningKey:
        return self._current[alg]

    @property
    def algorithms(self) -> tuple[Algorithm, ...]:
        return SUPPORTED_ALGORITHMS
