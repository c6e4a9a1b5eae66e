"""seal / open_sealed: AES-256-GCM tokens bound to a context and naming their key version."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dinhdanh.crypto import CryptoError, KeyRing, open_sealed, seal
from dinhdanh.crypto._primitives import HybridKek

CONTEXT = b"citizen.full_name"


def test_round_trip(ring: KeyRing) -> None:
    token = seal(ring, "Nguyễn Văn An".encode(), CONTEXT)
    assert open_sealed(ring, token, CONTEXT) == "Nguyễn Văn An".encode()


def test_token_layout(ring: KeyRing) -> None:
    token = seal(ring, b"abc", CONTEXT)
    assert token[:1] == b"\x01"
    assert int.from_bytes(token[1:5], "big") == ring.seal_version
    assert len(token) == 5 + 12 + 3 + 16


def test_same_plaintext_gives_different_tokens(ring: KeyRing) -> None:
    assert seal(ring, b"abc", CONTEXT) != seal(ring, b"abc", CONTEXT)


def test_empty_plaintext(ring: KeyRing) -> None:
    assert open_sealed(ring, seal(ring, b"", CONTEXT), CONTEXT) == b""


def test_wrong_context_fails(ring: KeyRing) -> None:
    token = seal(ring, b"0912345678", b"subscriber.msisdn")
    with pytest.raises(CryptoError, match="does not open"):
        open_sealed(ring, token, b"citizen.full_name")


def test_other_keyring_fails(ring: KeyRing, other_ring: KeyRing) -> None:
    with pytest.raises(CryptoError):
        open_sealed(other_ring, seal(ring, b"abc", CONTEXT), CONTEXT)


def test_old_version_opens_after_rotate(ring: KeyRing, rotated: KeyRing) -> None:
    old = seal(ring, b"before", CONTEXT)
    new = seal(rotated, b"after", CONTEXT)
    assert rotated.seal_version == ring.seal_version + 1
    assert int.from_bytes(new[1:5], "big") == rotated.seal_version
    assert open_sealed(rotated, old, CONTEXT) == b"before"
    assert open_sealed(rotated, new, CONTEXT) == b"after"
    with pytest.raises(CryptoError, match="unknown"):
        open_sealed(ring, new, CONTEXT)  # the old ring has never seen the new version


def test_version_swapped_in_header_fails(ring: KeyRing, rotated: KeyRing) -> None:
    # Relabelling a v1 token as v2 picks another key and changes the AAD.
    token = seal(rotated, b"abc", CONTEXT)
    relabelled = token[:1] + ring.seal_version.to_bytes(4, "big") + token[5:]
    with pytest.raises(CryptoError):
        open_sealed(rotated, relabelled, CONTEXT)


def test_unknown_format_fails(ring: KeyRing) -> None:
    token = seal(ring, b"abc", CONTEXT)
    with pytest.raises(CryptoError, match="unknown"):
        open_sealed(ring, b"\x02" + token[1:], CONTEXT)


@pytest.mark.parametrize("length", [0, 1, 5, 17, 32])
def test_truncated_token_fails(ring: KeyRing, length: int) -> None:
    token = seal(ring, b"", CONTEXT)
    with pytest.raises(CryptoError, match="truncated"):
        open_sealed(ring, token[:length], CONTEXT)


def test_truncated_ciphertext_fails(ring: KeyRing) -> None:
    token = seal(ring, b"some longer plaintext", CONTEXT)
    for cut in range(33, len(token)):
        with pytest.raises(CryptoError):
            open_sealed(ring, token[:cut], CONTEXT)
    with pytest.raises(CryptoError):
        open_sealed(ring, token + b"\x00", CONTEXT)


@settings(max_examples=25)
@given(plaintext=st.binary(max_size=8))
def test_every_single_bit_flip_fails(ring: KeyRing, plaintext: bytes) -> None:
    token = seal(ring, plaintext, CONTEXT)
    for bit in range(len(token) * 8):
        tampered = bytearray(token)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(CryptoError):
            open_sealed(ring, bytes(tampered), CONTEXT)


@given(plaintext=st.binary(max_size=2048), context=st.binary(max_size=64))
def test_round_trip_property(ring: KeyRing, plaintext: bytes, context: bytes) -> None:
    token = seal(ring, plaintext, context)
    assert len(token) == 5 + 12 + len(plaintext) + 16
    assert open_sealed(ring, token, context) == plaintext


@given(
    plaintext=st.binary(max_size=64),
    context=st.binary(max_size=32),
    other=st.binary(max_size=32),
)
def test_other_context_never_opens(
    ring: KeyRing, plaintext: bytes, context: bytes, other: bytes
) -> None:
    if other == context:
        return
    with pytest.raises(CryptoError):
        open_sealed(ring, seal(ring, plaintext, context), other)


def test_header_is_authenticated() -> None:
    # Even if two versions shared a key, relabelling a token's version must fail: the
    # header is part of the AAD.
    key = bytes(32)
    ring = KeyRing(
        kek=HybridKek.generate(),
        seal_keys={1: key, 2: key},
        seal_version=2,
        blind_key=bytes(32),
        sign_seeds={1: (bytes(32), bytes(32))},
        sign_version=1,
    )
    token = seal(ring, b"abc", CONTEXT)
    assert open_sealed(ring, token, CONTEXT) == b"abc"
    with pytest.raises(CryptoError, match="does not open"):
        open_sealed(ring, token[:4] + b"\x01" + token[5:], CONTEXT)
