"""Hybrid signatures: Ed25519 + ML-DSA-65, both must verify."""

import pytest

from dinhdanh.crypto import (
    CryptoError,
    KeyRing,
    generate_keyring,
    hybrid_public_keys,
    rotate,
    sign_hybrid,
    verify_hybrid,
)
from dinhdanh.crypto._primitives import ed25519_verify, mldsa65_verify

DATA = b"audit checkpoint 42"
ED = slice(5, 69)
ML = slice(69, None)


def _replace(signature: bytes, part: slice, new: bytes) -> bytes:
    out = bytearray(signature)
    out[part] = new
    return bytes(out)


def test_round_trip(ring: KeyRing) -> None:
    signature = sign_hybrid(ring, DATA)
    assert len(signature) == 5 + 64 + 3309
    assert signature[:1] == b"\x01"
    assert int.from_bytes(signature[1:5], "big") == ring.sign_version
    verify_hybrid(ring, DATA, signature)


def test_halves_are_plain_signatures_under_published_keys(ring: KeyRing) -> None:
    signature = sign_hybrid(ring, DATA)
    ed_public, ml_public = hybrid_public_keys(ring)[ring.sign_version]
    assert len(ed_public) == 32
    assert len(ml_public) == 1952
    assert ed25519_verify(ed_public, DATA, signature[ED])
    assert mldsa65_verify(ml_public, DATA, signature[ML])


def test_wrong_data_fails(ring: KeyRing) -> None:
    with pytest.raises(CryptoError, match="does not verify"):
        verify_hybrid(ring, DATA + b"!", sign_hybrid(ring, DATA))


@pytest.mark.parametrize("part", [ED, ML], ids=["ed25519", "mldsa65"])
def test_zeroed_half_fails(ring: KeyRing, part: slice) -> None:
    signature = sign_hybrid(ring, DATA)
    zeroed = _replace(signature, part, bytes(len(signature[part])))
    with pytest.raises(CryptoError, match="does not verify"):
        verify_hybrid(ring, DATA, zeroed)


@pytest.mark.parametrize("part", [ED, ML], ids=["ed25519", "mldsa65"])
def test_flipped_bit_in_half_fails(ring: KeyRing, part: slice) -> None:
    signature = bytearray(sign_hybrid(ring, DATA))
    signature[part.start + 10] ^= 0x01
    with pytest.raises(CryptoError):
        verify_hybrid(ring, DATA, bytes(signature))


@pytest.mark.parametrize("part", [ED, ML], ids=["ed25519", "mldsa65"])
def test_half_from_another_key_fails(ring: KeyRing, other_ring: KeyRing, part: slice) -> None:
    # The swapped-in half is itself a valid signature over DATA, just not by this ring.
    signature = sign_hybrid(ring, DATA)
    foreign = sign_hybrid(other_ring, DATA)
    with pytest.raises(CryptoError, match="does not verify"):
        verify_hybrid(ring, DATA, _replace(signature, part, foreign[part]))


def test_other_keyring_fails(ring: KeyRing, other_ring: KeyRing) -> None:
    with pytest.raises(CryptoError):
        verify_hybrid(ring, DATA, sign_hybrid(other_ring, DATA))


def test_old_version_verifies_after_rotate(ring: KeyRing, rotated: KeyRing) -> None:
    old = sign_hybrid(ring, DATA)
    new = sign_hybrid(rotated, DATA)
    assert rotated.sign_version == ring.sign_version + 1
    assert int.from_bytes(new[1:5], "big") == rotated.sign_version
    verify_hybrid(rotated, DATA, old)
    verify_hybrid(rotated, DATA, new)
    with pytest.raises(CryptoError, match="unknown"):
        verify_hybrid(ring, DATA, new)


def test_relabelled_version_fails(ring: KeyRing, rotated: KeyRing) -> None:
    old = sign_hybrid(ring, DATA)
    relabelled = old[:1] + rotated.sign_version.to_bytes(4, "big") + old[5:]
    with pytest.raises(CryptoError, match="does not verify"):
        verify_hybrid(rotated, DATA, relabelled)


@pytest.mark.parametrize("cut", [0, 5, 69, 5 + 64 + 3308])
def test_truncated_fails(ring: KeyRing, cut: int) -> None:
    with pytest.raises(CryptoError, match="length"):
        verify_hybrid(ring, DATA, sign_hybrid(ring, DATA)[:cut])


def test_extended_fails(ring: KeyRing) -> None:
    with pytest.raises(CryptoError, match="length"):
        verify_hybrid(ring, DATA, sign_hybrid(ring, DATA) + b"\x00")


def test_public_keys_per_version() -> None:
    ring = generate_keyring()
    twice = rotate(rotate(ring))
    keys = hybrid_public_keys(twice)
    assert sorted(keys) == [1, 2, 3]
    assert keys[1] == hybrid_public_keys(ring)[1]
    assert len({ed for ed, _ in keys.values()}) == 3
    keys.clear()  # a copy: the ring is unaffected
    assert sorted(hybrid_public_keys(twice)) == [1, 2, 3]
