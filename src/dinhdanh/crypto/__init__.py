"""The crypto front: recipes other domains use; primitives stay in ``_primitives``.

- ``seal`` / ``open_sealed``: AES-256-GCM field encryption. Token = 0x01 || key version
  (4 bytes, big-endian) || nonce (12) || ciphertext+tag. The AAD is the 5-byte header plus a
  caller context such as ``b"citizen.full_name"``, so a ciphertext can't move to another field
  and its version can't be swapped. Old versions still open after ``rotate``.
- ``blind_index``: HMAC-SHA-256 under its own key over ``purpose || 0x00 || value``, for
  exact-match lookups and batch joins. The caller normalizes ``value`` first (ID number
  digits, E.164 phone): the index matches bytes, not meaning.
- ``sign_hybrid`` / ``verify_hybrid``: 0x01 || version (4, BE) || Ed25519 sig (64) ||
  ML-DSA-65 sig (3309), both halves over the same data; verification needs both.
- ``wrap_key`` / ``unwrap_key``: a key wrapped under the ring's hybrid X25519 + ML-KEM-768
  key-encryption key (format in ``_primitives.HybridKek.wrap``).
- Key ring lifecycle, JSON format and rotation: ``dinhdanh.crypto.keyring``.

Every failure to open, verify, unwrap or parse raises ``CryptoError``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from os import urandom as _urandom

from cryptography.exceptions import InvalidTag

from dinhdanh.crypto._primitives import (
    ED25519_SIG_LEN,
    MLDSA65_SIG_LEN,
    NONCE_LEN,
    TAG_LEN,
    CryptoError,
)
from dinhdanh.crypto.keyring import (
    KeyRing,
    generate_keyring,
    keyring_from_json,
    keyring_to_json,
    load_keyring,
    rotate,
    save_keyring,
)

__all__ = [
    "CryptoError",
    "KeyRing",
    "blind_index",
    "blind_indexes",
    "generate_keyring",
    "hybrid_public_keys",
    "keyring_from_json",
    "keyring_to_json",
    "load_keyring",
    "open_sealed",
    "rotate",
    "save_keyring",
    "seal",
    "sign_hybrid",
    "unwrap_key",
    "verify_hybrid",
    "wrap_key",
]

_HEADER_LEN = 5
_BODY_START = _HEADER_LEN + NONCE_LEN
_MIN_TOKEN_LEN = _BODY_START + TAG_LEN
_ED_END = _HEADER_LEN + ED25519_SIG_LEN
_SIGNATURE_LEN = _ED_END + MLDSA65_SIG_LEN

# Recipes read KeyRing's cached, package-private state directly: these are the hot paths.


def seal(ring: KeyRing, plaintext: bytes, context: bytes) -> bytes:
    """Encrypt under the current seal key, bound to ``context`` (e.g. b"citizen.full_name")."""
    header = ring._seal_header
    nonce = _urandom(NONCE_LEN)
    return header + nonce + ring._seal_aead.encrypt(nonce, plaintext, header + context)


def open_sealed(ring: KeyRing, token: bytes, context: bytes) -> bytes:
    """Decrypt a ``seal`` token with the key version it names; same ``context`` required."""
    if len(token) < _MIN_TOKEN_LEN:
        raise CryptoError("sealed token is truncated")
    header = token[:_HEADER_LEN]
    aead = ring._seal_by_header.get(header)
    if aead is None:
        raise CryptoError("sealed token has an unknown format or key version")
    try:
        return aead.decrypt(token[_HEADER_LEN:_BODY_START], token[_BODY_START:], header + context)
    except InvalidTag:
        raise CryptoError("sealed token does not open (tampered, or wrong context)") from None


@functools.lru_cache(maxsize=1024)
def _purpose_prefix(purpose: str) -> bytes:
    # A NUL inside the purpose would make (purpose, value) pairs ambiguous.
    if not purpose or "\x00" in purpose:
        raise ValueError("blind-index purpose must be non-empty and contain no NUL")
    return purpose.encode("utf-8") + b"\x00"


def blind_index(ring: KeyRing, value: str, purpose: str) -> bytes:
    """32-byte HMAC-SHA-256 of an already normalized ``value`` for one ``purpose``.

    Different purposes (e.g. "citizen.id_number", "subscriber.msisdn") give unrelated indexes
    for the same value. Normalize first: "0912 345 678" and "0912345678" index differently.
    """
    return ring._blind.digest(_purpose_prefix(purpose) + value.encode("utf-8"))


def blind_indexes(
    ring: KeyRing, values: Iterable[str], purpose: str, prefix: str = ""
) -> list[bytes]:
    """``blind_index(ring, prefix + v, purpose)`` for each value, in order: the purpose and
    the common prefix are hashed once (a batch of keys is a hot path)."""
    head = _purpose_prefix(purpose) + prefix.encode("utf-8")
    return ring._blind.digests(head, [v.encode("utf-8") for v in values])


def sign_hybrid(ring: KeyRing, data: bytes) -> bytes:
    """Ed25519 + ML-DSA-65 signature over ``data`` under the current signing version."""
    return ring._sign_header + ring._signer.sign(data)


def verify_hybrid(ring: KeyRing, data: bytes, signature: bytes) -> None:
    """Return only if both halves verify under the version the signature names."""
    if len(signature) != _SIGNATURE_LEN:
        raise CryptoError("hybrid signature has the wrong length")
    signer = ring._signers.get(signature[:_HEADER_LEN])
    if signer is None:
        raise CryptoError("hybrid signature has an unknown format or key version")
    if not signer.verify(data, signature[_HEADER_LEN:_ED_END], signature[_ED_END:]):
        raise CryptoError("hybrid signature does not verify")


def hybrid_public_keys(ring: KeyRing) -> dict[int, tuple[bytes, bytes]]:
    """Version -> (Ed25519 raw public key, 32 bytes; ML-DSA-65 raw public key, 1952 bytes)."""
    return dict(ring._public_keys)


def wrap_key(ring: KeyRing, key: bytes) -> bytes:
    """Wrap ``key`` under the ring's hybrid key-encryption key (X25519 + ML-KEM-768)."""
    return ring._kek.wrap(key)


def unwrap_key(ring: KeyRing, wrapped: bytes) -> bytes:
    """Reverse ``wrap_key``; tampering or another ring's KEK raises ``CryptoError``."""
    return ring._kek.unwrap(wrapped)
