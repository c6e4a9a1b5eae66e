"""wrap_key / unwrap_key under the hybrid X25519 + ML-KEM-768 key-encryption key."""

import pytest

from dinhdanh.crypto import CryptoError, KeyRing, unwrap_key, wrap_key

KEY = bytes(range(32))
# 0x01 || ephemeral X25519 (32) || ML-KEM-768 ct (1088) || nonce (12) || ct (32) + tag (16)
PARTS = {
    "format": 0,
    "ephemeral": 1,
    "mlkem_ct": 33,
    "nonce": 1121,
    "ciphertext": 1133,
    "tag": 1165,
}


def test_round_trip(ring: KeyRing) -> None:
    wrapped = wrap_key(ring, KEY)
    assert len(wrapped) == 1 + 32 + 1088 + 12 + 32 + 16
    assert wrapped[:1] == b"\x01"
    assert unwrap_key(ring, wrapped) == KEY


@pytest.mark.parametrize("key", [b"", b"x", bytes(64)], ids=["empty", "one", "64"])
def test_round_trip_any_length(ring: KeyRing, key: bytes) -> None:
    assert unwrap_key(ring, wrap_key(ring, key)) == key


def test_randomized(ring: KeyRing) -> None:
    assert wrap_key(ring, KEY) != wrap_key(ring, KEY)


def test_other_keyring_cannot_unwrap(ring: KeyRing, other_ring: KeyRing) -> None:
    with pytest.raises(CryptoError, match="does not unwrap"):
        unwrap_key(other_ring, wrap_key(ring, KEY))


@pytest.mark.parametrize("offset", PARTS.values(), ids=PARTS.keys())
def test_tampered_part_fails(ring: KeyRing, offset: int) -> None:
    wrapped = bytearray(wrap_key(ring, KEY))
    wrapped[offset] ^= 0x01
    with pytest.raises(CryptoError):
        unwrap_key(ring, bytes(wrapped))


def test_every_byte_tampered_fails(ring: KeyRing) -> None:
    wrapped = wrap_key(ring, KEY)
    for i in range(len(wrapped)):
        tampered = bytearray(wrapped)
        tampered[i] ^= 1 << (i % 8)
        with pytest.raises(CryptoError):
            unwrap_key(ring, bytes(tampered))


@pytest.mark.parametrize("cut", [0, 1, 33, 1121, 1133, 1148, 1180])
def test_truncated_fails(ring: KeyRing, cut: int) -> None:
    with pytest.raises(CryptoError):
        unwrap_key(ring, wrap_key(ring, KEY)[:cut])


def test_low_order_ephemeral_fails(ring: KeyRing) -> None:
    wrapped = wrap_key(ring, KEY)
    with pytest.raises(CryptoError):
        unwrap_key(ring, wrapped[:1] + bytes(32) + wrapped[33:])
