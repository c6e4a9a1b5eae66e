"""Keys derived from the key ring for one protocol each (HKDF-SHA-256, RFC 5869).

The ring's signing seeds sign audit checkpoints; tokens must not share them (one key, one
protocol). Each derived key has its own ``info`` label, so knowing one derived key says
nothing about the seed or about another label's key:

- ``token_seeds(ring)``: per signing version, the seeds of the OIDC token keys (Ed25519,
  ML-DSA-65, and the P-256 scalar seed), labels ``dinhdanh/oidc/{ed25519,mldsa65,p256}/1``.
  They follow ``dinhdanh keys rotate``: a new version adds new token keys, old ones stay
  published until removed from the ring.
- ``pairwise_key(ring)``: the HMAC key of pairwise subject identifiers (OIDC Core 8.1),
  derived from the blind-index key, which never rotates: a ``sub`` must stay stable.
- ``csrf_key(ring)``: the HMAC key binding CSRF tokens to their cookie.
- ``challenge_key(ring)``: the HMAC key deriving WebAuthn challenges from their handles.
"""

from __future__ import annotations

from dataclasses import dataclass

from dinhdanh.crypto._primitives import hkdf_sha256
from dinhdanh.crypto.keyring import KeyRing

__all__ = ["TokenSeeds", "challenge_key", "csrf_key", "pairwise_key", "token_seeds"]


@dataclass(frozen=True, slots=True)
class TokenSeeds:
    version: int
    ed25519: bytes
    mldsa65: bytes
    p256: bytes


def token_seeds(ring: KeyRing) -> list[TokenSeeds]:
    """Token-signing seeds of every signing version not retired, current version first."""
    live = set(ring._sign_seeds) - ring._token_retired
    versions = sorted(live, key=lambda v: (v != ring._sign_version, -v))
    out = []
    for v in versions:
        ed, ml = ring._sign_seeds[v]
        out.append(
            TokenSeeds(
                v,
                hkdf_sha256(ed, b"dinhdanh/oidc/ed25519/1"),
                hkdf_sha256(ml, b"dinhdanh/oidc/mldsa65/1"),
                hkdf_sha256(ed, b"dinhdanh/oidc/p256/1"),
            )
        )
    return out


def pairwise_key(ring: KeyRing) -> bytes:
    return hkdf_sha256(ring._blind_key, b"dinhdanh/oidc/pairwise-subject/1")


def csrf_key(ring: KeyRing) -> bytes:
    return hkdf_sha256(ring._blind_key, b"dinhdanh/web/csrf/1")


def challenge_key(ring: KeyRing) -> bytes:
    return hkdf_sha256(ring._blind_key, b"dinhdanh/auth/webauthn-challenge/1")
