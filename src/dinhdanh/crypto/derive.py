"""Keys derived from the key ring for one protocol each (HKDF-SHA-256, RFC 5869).

The ring's signing seeds sign audit checkpoints; tokens must not share them (one key, one
protocol). Each derived key has its own ``info`` label, so knowing one derived key says
nothing about the seed or about another label's key:

- ``token_seeds(ring)``: per signing version, the seeds of the OIDC token keys (Ed25519,
  ML-DSA-65, and the P-256 scalar seed), labels ``dinhdanh/oidc/{ed25519,mldsa65,p256}/1``.
  They follow ``dinhdanh keys rotate``: a new version adds new token keys, old ones stay
  published until removed from the ring.
- ``credential_seeds(ring)``: per signing version, the seeds of the age-credential issuer
  keys (Ed25519, ML-DSA-65), labels ``dinhdanh/age/issuer/{ed25519,mldsa65}/1``. They follow
  rotation and retirement like the token keys: a credential lives up to 90 days, so a
  version retires no sooner than 90 days after the rotation that replaced it.
- ``pairwise_key(ring)``: the HMAC key of pairwise subject identifiers (OIDC Core 8.1),
  derived from the blind-index key, which never rotates: a ``sub`` must stay stable.
- ``csrf_key(ring)``: the HMAC key binding CSRF tokens to their cookie.
- ``challenge_key(ring)``: the HMAC key deriving WebAuthn challenges from their handles.
"""

from __future__ import annotations

from dataclasses import dataclass

from dinhdanh.crypto._primitives import hkdf_sha256
from dinhdanh.crypto.keyring import KeyRing

__all__ = [
    "CredentialSeeds",
    "TokenSeeds",
    "challenge_key",
    "credential_seeds",
    "csrf_key",
    "pairwise_key",
    "token_seeds",
]


@dataclass(frozen=True, slots=True)
class TokenSeeds:
    version: int
    ed25519: bytes
    mldsa65: bytes
    p256: bytes


@dataclass(frozen=True, slots=True)
class CredentialSeeds:
    version: int
    ed25519: bytes
    mldsa65: bytes


def _live_versions(ring: KeyRing) -> list[int]:
    """Signing versions not retired from tokens, current version first, then newest first."""
    live = set(ring._sign_seeds) - ring._token_retired
    return sorted(live, key=lambda v: (v != ring._sign_version, -v))


def token_seeds(ring: KeyRing) -> list[TokenSeeds]:
    """Token-signing seeds of every signing version not retired, current version first."""
    out = []
    for v in _live_versions(ring):
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


def credential_seeds(ring: KeyRing) -> list[CredentialSeeds]:
    """Age-credential issuer seeds of every signing version not retired, current first."""
    seeds = ring._sign_seeds
    return [
        CredentialSeeds(
            v,
            hkdf_sha256(seeds[v][0], b"dinhdanh/age/issuer/ed25519/1"),
            hkdf_sha256(seeds[v][1], b"dinhdanh/age/issuer/mldsa65/1"),
        )
        for v in _live_versions(ring)
    ]


def pairwise_key(ring: KeyRing) -> bytes:
    return hkdf_sha256(ring._blind_key, b"dinhdanh/oidc/pairwise-subject/1")


def csrf_key(ring: KeyRing) -> bytes:
    return hkdf_sha256(ring._blind_key, b"dinhdanh/web/csrf/1")


def vci_nonce_key(ring: KeyRing) -> bytes:
    """MACs the OpenID4VCI c_nonces (``age.credentials.vci``): the nonce endpoint stores none."""
    return hkdf_sha256(ring._blind_key, b"dinhdanh/age/vci-nonce/1")


def challenge_key(ring: KeyRing) -> bytes:
    return hkdf_sha256(ring._blind_key, b"dinhdanh/auth/webauthn-challenge/1")
