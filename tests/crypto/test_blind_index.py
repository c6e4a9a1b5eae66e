"""blind_index: keyed, deterministic, separated by purpose."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.crypto import (
    KeyRing,
    blind_index,
    blind_indexes,
    keyring_from_json,
    keyring_to_json,
)


def test_length_and_determinism(ring: KeyRing) -> None:
    first = blind_index(ring, "001090123456", "citizen.id_number")
    assert len(first) == 32
    assert blind_index(ring, "001090123456", "citizen.id_number") == first


def test_differs_per_value(ring: KeyRing) -> None:
    assert blind_index(ring, "001090123456", "p") != blind_index(ring, "001090123457", "p")


def test_differs_per_purpose(ring: KeyRing) -> None:
    value = "84912345678"
    assert blind_index(ring, value, "subscriber.msisdn") != blind_index(
        ring, value, "citizen.phone"
    )


def test_purpose_and_value_do_not_run_together(ring: KeyRing) -> None:
    # "ab" + "c" and "a" + "bc" must not collide: the NUL separator keeps them apart.
    assert blind_index(ring, "c", "ab") != blind_index(ring, "bc", "a")


def test_differs_per_keyring(ring: KeyRing, other_ring: KeyRing) -> None:
    assert blind_index(ring, "x", "p") != blind_index(other_ring, "x", "p")


def test_survives_rotation_and_reload(ring: KeyRing, rotated: KeyRing) -> None:
    expected = blind_index(ring, "001090123456", "citizen.id_number")
    assert blind_index(rotated, "001090123456", "citizen.id_number") == expected
    reloaded = keyring_from_json(keyring_to_json(ring))
    assert blind_index(reloaded, "001090123456", "citizen.id_number") == expected


def test_does_not_normalize(ring: KeyRing) -> None:
    # Normalizing is the caller's job; the index matches exact bytes.
    assert blind_index(ring, "0912 345 678", "p") != blind_index(ring, "0912345678", "p")


@pytest.mark.parametrize("purpose", ["", "a\x00b"])
def test_bad_purpose_is_refused(ring: KeyRing, purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        blind_index(ring, "x", purpose)


@given(a=st.text(max_size=40), b=st.text(max_size=40))
def test_distinct_values_give_distinct_indexes(ring: KeyRing, a: str, b: str) -> None:
    assert (blind_index(ring, a, "p") == blind_index(ring, b, "p")) == (a == b)


@given(values=st.lists(st.text(max_size=40), max_size=20), prefix=st.text(max_size=10))
def test_many_at_once_are_each_one(ring: KeyRing, values: list[str], prefix: str) -> None:
    expected = [blind_index(ring, prefix + v, "p") for v in values]
    assert blind_indexes(ring, values, "p", prefix) == expected
    assert blind_indexes(ring, iter(values), "p", prefix) == expected  # any iterable


def test_many_at_once_refuse_a_bad_purpose(ring: KeyRing) -> None:
    with pytest.raises(ValueError, match="purpose"):
        blind_indexes(ring, ["x"], "a\x00b")
