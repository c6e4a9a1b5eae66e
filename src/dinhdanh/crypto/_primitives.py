"""Hazardous primitives behind the crypto front.

Only ``dinhdanh.crypto`` imports this module; other domains use the recipes in
``dinhdanh.crypto`` (seal, blind_index, sign_hybrid, ...), which pick formats, nonces and
contexts for them.

- AES-256-GCM (``aes_gcm``), HKDF-SHA-256 (``hkdf_sha256``) and ``HmacSha256``.
- ``HybridKek``: the key-encryption key, an X25519 + ML-KEM-768 pair, and the hybrid KEM
  that wraps data keys under it (an X-Wing-like combiner, see ``HybridKek.wrap``).
- Raw Ed25519 / ML-DSA-65 (FIPS 204) helpers over 32-byte seeds, and ``HybridSigner``, which
  caches both key objects for one signing-key version.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey, MLDSA65PublicKey
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class CryptoError(Exception):
    """A value failed to open, verify, unwrap or parse.

    Messages name what failed, never key material or the secret value itself.
    """


AES_KEY_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
SEED_LEN = 32  # Ed25519 private key, ML-DSA-65 seed (FIPS 204 xi)
X25519_LEN = 32
MLKEM768_SEED_LEN = 64  # FIPS 203 (d, z)
MLKEM768_CT_LEN = 1088
ED25519_SIG_LEN = 64
MLDSA65_SIG_LEN = 3309

WRAP_FORMAT = b"\x01"
_WRAP_INFO = b"dinhdanh/wrap/1"
_WRAP_EPH_END = 1 + X25519_LEN
_WRAP_CT_END = _WRAP_EPH_END + MLKEM768_CT_LEN
_WRAP_NONCE_END = _WRAP_CT_END + NONCE_LEN


def random_key() -> bytes:
    """32 fresh random bytes: an AES-256 key, an HMAC key or a signing seed."""
    return os.urandom(AES_KEY_LEN)


def aes_gcm(key: bytes) -> AESGCM:
    if len(key) != AES_KEY_LEN:
        raise CryptoError("AES-256-GCM needs a 32-byte key")
    return AESGCM(key)


def hkdf_sha256(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


class HmacSha256:
    """HMAC-SHA-256 (RFC 2104) with the keyed inner and outer hash states computed once.

    Blind indexes are a hot path; on OpenSSL 3 ``hmac.digest`` re-keys (and re-fetches the
    digest) on every call, about 3x slower than copying the two precomputed states.
    """

    __slots__ = ("_inner", "_outer")
    _BLOCK = 64

    def __init__(self, key: bytes) -> None:
        if len(key) > self._BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(self._BLOCK, b"\x00")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        # copy() leaves the shared states untouched, so one instance serves all threads.
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def digests(self, prefix: bytes, messages: Iterable[bytes]) -> list[bytes]:
        """``digest(prefix + m)`` for each message: the prefix is hashed once, and the loop
        calls no Python function per message (a status batch keys 10,000 account ids)."""
        start = self._inner.copy()
        start.update(prefix)
        outer_state = self._outer
        out = []
        for message in messages:
            inner = start.copy()
            inner.update(message)
            outer = outer_state.copy()
            outer.update(inner.digest())
            out.append(outer.digest())
        return out


class HybridKek:
    """Key-encryption key: X25519 + ML-KEM-768; a wrapped key needs both to be broken."""

    __slots__ = ("_kem", "_kem_pub", "_x", "_x_pub", "_x_pub_raw")

    def __init__(self, x25519: X25519PrivateKey, mlkem768: MLKEM768PrivateKey) -> None:
        self._x = x25519
        self._x_pub = x25519.public_key()
        self._x_pub_raw = self._x_pub.public_bytes_raw()
        self._kem = mlkem768
        self._kem_pub = mlkem768.public_key()

    @classmethod
    def generate(cls) -> HybridKek:
        return cls(X25519PrivateKey.generate(), MLKEM768PrivateKey.generate())

    @classmethod
    def from_raw(cls, x25519: bytes, mlkem768_seed: bytes) -> HybridKek:
        if len(x25519) != X25519_LEN:
            raise CryptoError("X25519 private key must be 32 bytes")
        if len(mlkem768_seed) != MLKEM768_SEED_LEN:
            raise CryptoError("ML-KEM-768 seed must be 64 bytes")
        return cls(
            X25519PrivateKey.from_private_bytes(x25519),
            MLKEM768PrivateKey.from_seed_bytes(mlkem768_seed),
        )

    def raw(self) -> tuple[bytes, bytes]:
        """(X25519 private key, ML-KEM-768 64-byte seed)."""
        return self._x.private_bytes_raw(), self._kem.private_bytes_raw()

    def _wrapping_key(self, ss_mlkem: bytes, ss_x25519: bytes, eph: bytes, ct: bytes) -> bytes:
        # Like X-Wing: both shared secrets plus the transcript, so the key stays secret
        # while either X25519 or ML-KEM holds, and a ciphertext can't be re-targeted.
        return hkdf_sha256(
            ss_mlkem + ss_x25519, _WRAP_INFO + eph + ct + self._x_pub_raw, AES_KEY_LEN
        )

    def wrap(self, key: bytes) -> bytes:
        """0x01 || ephemeral X25519 public (32) || ML-KEM ct (1088) || nonce (12) || ct+tag."""
        eph = X25519PrivateKey.generate()
        eph_pub = eph.public_key().public_bytes_raw()
        ss_x25519 = eph.exchange(self._x_pub)
        ss_mlkem, ct = self._kem_pub.encapsulate()
        wrapping = self._wrapping_key(ss_mlkem, ss_x25519, eph_pub, ct)
        nonce = os.urandom(NONCE_LEN)
        return WRAP_FORMAT + eph_pub + ct + nonce + AESGCM(wrapping).encrypt(nonce, key, None)

    def unwrap(self, wrapped: bytes) -> bytes:
        if len(wrapped) < _WRAP_NONCE_END + TAG_LEN or wrapped[:1] != WRAP_FORMAT:
            raise CryptoError("wrapped key is malformed")
        eph_pub = wrapped[1:_WRAP_EPH_END]
        ct = wrapped[_WRAP_EPH_END:_WRAP_CT_END]
        nonce = wrapped[_WRAP_CT_END:_WRAP_NONCE_END]
        try:
            ss_x25519 = self._x.exchange(X25519PublicKey.from_public_bytes(eph_pub))
            # ML-KEM rejects implicitly: a tampered ct yields a wrong secret, so GCM fails.
            ss_mlkem = self._kem.decapsulate(ct)
            wrapping = self._wrapping_key(ss_mlkem, ss_x25519, eph_pub, ct)
            return AESGCM(wrapping).decrypt(nonce, wrapped[_WRAP_NONCE_END:], None)
        except (InvalidTag, ValueError):
            raise CryptoError(
                "wrapped key does not unwrap (tampered, or another key-encryption key)"
            ) from None


def _ed25519_key(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != SEED_LEN:
        raise CryptoError("Ed25519 seed must be 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _mldsa65_key(seed: bytes) -> MLDSA65PrivateKey:
    if len(seed) != SEED_LEN:
        raise CryptoError("ML-DSA-65 seed must be 32 bytes")
    return MLDSA65PrivateKey.from_seed_bytes(seed)


def ed25519_public(seed: bytes) -> bytes:
    """RFC 8032 5.1.5: the 32-byte public key of a 32-byte secret key."""
    return _ed25519_key(seed).public_key().public_bytes_raw()


def ed25519_sign(seed: bytes, data: bytes) -> bytes:
    """RFC 8032 5.1.6 (deterministic): 64-byte signature."""
    return _ed25519_key(seed).sign(data)


def ed25519_verify(public: bytes, data: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def mldsa65_public(seed: bytes) -> bytes:
    """FIPS 204 ML-DSA-65 public key (1952 bytes) of a 32-byte seed."""
    return _mldsa65_key(seed).public_key().public_bytes_raw()


def mldsa65_sign(seed: bytes, data: bytes) -> bytes:
    """FIPS 204 ML-DSA-65 signature (3309 bytes), empty context string."""
    return _mldsa65_key(seed).sign(data)


def mldsa65_verify(public: bytes, data: bytes, signature: bytes) -> bool:
    try:
        MLDSA65PublicKey.from_public_bytes(public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


class HybridSigner:
    """One signing-key version: Ed25519 and ML-DSA-65 key objects built once from seeds."""

    __slots__ = ("_ed", "_ed_pub", "_ml", "_ml_pub", "public_raw")

    def __init__(self, ed25519_seed: bytes, mldsa65_seed: bytes) -> None:
        self._ed = _ed25519_key(ed25519_seed)
        self._ml = _mldsa65_key(mldsa65_seed)
        self._ed_pub = self._ed.public_key()
        self._ml_pub = self._ml.public_key()
        self.public_raw: tuple[bytes, bytes] = (
            self._ed_pub.public_bytes_raw(),
            self._ml_pub.public_bytes_raw(),
        )

    def sign(self, data: bytes) -> bytes:
        """ed25519 signature (64) || ML-DSA-65 signature (3309), both over ``data``."""
        return self._ed.sign(data) + self._ml.sign(data)

    def verify(self, data: bytes, ed25519_sig: bytes, mldsa65_sig: bytes) -> bool:
        """True only if both halves verify."""
        try:
            self._ed_pub.verify(ed25519_sig, data)
            self._ml_pub.verify(mldsa65_sig, data)
        except (InvalidSignature, ValueError):
            return False
        return True
