"""Hazardous primitives, held to published vectors and to the standard library."""

import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.crypto import CryptoError
from dinhdanh.crypto._primitives import (
    HmacSha256,
    HybridKek,
    ed25519_public,
    ed25519_sign,
    ed25519_verify,
    mldsa65_public,
    mldsa65_sign,
    mldsa65_verify,
)

from .conftest import load_vectors

ED25519 = load_vectors("ed25519_rfc8032")


def _hex(case: dict[str, Any]) -> tuple[bytes, bytes, bytes, bytes]:
    return tuple(  # type: ignore[return-value]
        bytes.fromhex(case[k]) for k in ("secret_key", "public_key", "message", "signature")
    )


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_rfc8032_vectors_are_complete() -> None:
    names = {case["name"] for case in ED25519}
    assert {"TEST 1", "TEST 2", "TEST 3", "TEST 1024"} <= names
    test_1024 = next(c for c in ED25519 if c["name"] == "TEST 1024")
    message = bytes.fromhex(test_1024["message"])
    assert len(message) == 1023
    assert (
        hashlib.sha256(message).hexdigest()
        == "358c67baee6b3e0265787951d1840a8468b9e9044852f1c67229a892b2cc0d22"
    )


@pytest.mark.parametrize("case", ED25519, ids=lambda c: c["name"])
def test_ed25519_rfc8032(case: dict[str, Any]) -> None:
    secret, public, message, signature = _hex(case)
    assert ed25519_public(secret) == public
    assert ed25519_sign(secret, message) == signature
    assert ed25519_verify(public, message, signature)


@pytest.mark.parametrize("case", ED25519, ids=lambda c: c["name"])
def test_ed25519_rfc8032_flipped_bit_fails(case: dict[str, Any]) -> None:
    _, public, message, signature = _hex(case)
    for bit in (0, 255, 256, 511):  # first and last bit of R and of S
        assert not ed25519_verify(public, message, _flip(signature, bit))
    if message:
        assert not ed25519_verify(public, _flip(message, 0), signature)
    assert not ed25519_verify(public, message + b"\x00", signature)
    assert not ed25519_verify(_flip(public, 0), message, signature)


def test_ed25519_rejects_bad_lengths() -> None:
    with pytest.raises(CryptoError):
        ed25519_public(b"\x00" * 31)
    assert not ed25519_verify(b"\x00" * 31, b"", b"\x00" * 64)


def test_mldsa65_round_trip_and_tamper() -> None:
    seed = bytes(range(32))
    public = mldsa65_public(seed)
    assert len(public) == 1952
    assert mldsa65_public(seed) == public  # the seed determines the key
    signature = mldsa65_sign(seed, b"data")
    assert len(signature) == 3309
    assert mldsa65_verify(public, b"data", signature)
    assert not mldsa65_verify(public, b"datA", signature)
    assert not mldsa65_verify(public, b"data", _flip(signature, 100))
    assert not mldsa65_verify(public, b"data", signature[:-1])
    with pytest.raises(CryptoError):
        mldsa65_public(b"\x00" * 33)


@given(key=st.binary(max_size=200), message=st.binary(max_size=300))
def test_hmac_sha256_matches_stdlib(key: bytes, message: bytes) -> None:
    assert HmacSha256(key).digest(message) == hmac.digest(key, message, "sha256")


def test_hmac_sha256_instance_is_reusable() -> None:
    mac = HmacSha256(b"k" * 32)
    first = mac.digest(b"a")
    mac.digest(b"b" * 1000)
    assert mac.digest(b"a") == first


def test_kek_raw_round_trip() -> None:
    kek = HybridKek.generate()
    x25519, mlkem = kek.raw()
    assert (len(x25519), len(mlkem)) == (32, 64)
    again = HybridKek.from_raw(x25519, mlkem)
    assert again.unwrap(kek.wrap(b"secret")) == b"secret"
    with pytest.raises(CryptoError, match="64 bytes"):
        HybridKek.from_raw(x25519, mlkem[:32])
