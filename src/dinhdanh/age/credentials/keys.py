"""The credential issuer's keys, derived from the key ring, and their JWK Set.

``crypto.derive.credential_seeds`` gives, per signing version not retired, an Ed25519 and an
ML-DSA-65 seed of their own (not the OIDC token keys: one key, one protocol). The key ring
is made by ``dinhdanh init`` in the data directory (0600) or given by the environment, so
these keys live where every other key does and rotate with ``dinhdanh keys rotate``.
Kids: ``age-ed25519-v{N}`` (EdDSA) and ``age-mldsa65-v{N}`` (ML-DSA-65, RFC 9964).
"""

from __future__ import annotations

from typing import Any, Literal

from dinhdanh.crypto import KeyRing
from dinhdanh.crypto.compact import VerifyingKey, verifying_key
from dinhdanh.crypto.derive import credential_seeds
from dinhdanh.crypto.jose import JoseError, SigningKey, jwks

IssuerAlg = Literal["EdDSA", "ML-DSA-65"]
ISSUER_ALGS: tuple[IssuerAlg, ...] = ("EdDSA", "ML-DSA-65")


class IssuerKeys:
    def __init__(self, ring: KeyRing) -> None:
        self.all: list[SigningKey] = []
        for s in credential_seeds(ring):
            self.all.append(SigningKey.from_ed25519_seed(f"age-ed25519-v{s.version}", s.ed25519))
            self.all.append(SigningKey.from_mldsa65_seed(f"age-mldsa65-v{s.version}", s.mldsa65))
        # ``credential_seeds`` lists the current version first.
        self._current: dict[str, SigningKey] = {k.alg: k for k in self.all[:2]}
        self.jwks: dict[str, list[dict[str, Any]]] = jwks(self.all)
        self.verifying: dict[str, VerifyingKey] = verifying_keys(self.jwks)

    def signer(self, alg: IssuerAlg) -> SigningKey:
        return self._current[alg]


def verifying_keys(jwk_set: dict[str, Any]) -> dict[str, VerifyingKey]:
    """Kid -> key of a JWK Set's usable signing keys (others are skipped, RFC 7517 5)."""
    out: dict[str, VerifyingKey] = {}
    for jwk in jwk_set.get("keys", []):
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            out[jwk["kid"]] = verifying_key(jwk)
        except JoseError:  # a key of a type we don't verify
            continue
    return out
