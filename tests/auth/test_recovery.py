"""Recovery codes: generation, normalization of what people type, hashed matching."""

import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.auth.recovery import (
    ALPHABET,
    CODE_COUNT,
    CODE_LEN,
    format_code,
    generate_recovery_codes,
    hash_code,
    match_code,
    normalize_code,
)

CODE_RE = re.compile(f"^[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}$")


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_ten_distinct_codes_in_two_groups_of_five() -> None:
    codes = generate_recovery_codes()
    assert len(codes) == CODE_COUNT == 10
    assert len(set(codes)) == 10
    assert all(CODE_RE.match(code) for code in codes)


@pytest.mark.parametrize(
    ("randomness", "code"),
    [(bytes(7), "00000-00000"), (b"\xff" * 7, "ZZZZZ-ZZZZZ"), (b"\x08" + bytes(6), "10000-00000")],
)
def test_encoding_uses_the_top_50_bits(randomness: bytes, code: str) -> None:
    assert generate_recovery_codes(1, token_bytes=lambda _n: randomness) == [code]


def test_a_repeated_code_is_drawn_again() -> None:
    draws: Iterator[bytes] = iter([bytes(7), bytes(7), b"\xff" * 7])
    assert generate_recovery_codes(2, token_bytes=lambda _n: next(draws)) == [
        "00000-00000",
        "ZZZZZ-ZZZZZ",
    ]


@pytest.mark.parametrize(
    "typed",
    ["ABCDE-FGHJK", "abcde-fghjk", "ABCDEFGHJK", " abcde fghjk ", "ab-cd-ef-gh-jk", "AbCdE\tFgHjK"],
)
def test_case_spaces_and_dashes_are_ignored(typed: str) -> None:
    assert normalize_code(typed) == "ABCDEFGHJK"


def test_crockford_aliases() -> None:
    assert normalize_code("O0I1L-oil01") == "0011101101"


@pytest.mark.parametrize(
    "typed", ["", "ABCD", "ABCDE-FGHJKM", "ABCDE-FGHJU", "ABCDE_FGHJK", "ÀBCDE-FGHJK"]
)
def test_malformed_codes(typed: str) -> None:
    assert normalize_code(typed) is None
    assert match_code([hash_code("ABCDE-FGHJK")], typed) is None
    with pytest.raises(ValueError, match="recovery code"):
        hash_code(typed)


def test_hash_is_sha256_sized_and_normalized() -> None:
    assert len(hash_code("ABCDE-FGHJK")) == 32
    assert hash_code("abcde fghjk") == hash_code("ABCDE-FGHJK")
    assert hash_code("ABCDE-FGHJK") != hash_code("ABCDE-FGHJM")


def test_match_returns_the_index() -> None:
    codes = generate_recovery_codes()
    stored = [hash_code(code) for code in codes]
    assert match_code(stored, codes[3].lower().replace("-", " ")) == 3
    assert match_code(stored[:3], codes[3]) is None
    assert match_code([], codes[0]) is None


symbols = st.text(alphabet=ALPHABET, min_size=CODE_LEN, max_size=CODE_LEN)


@st.composite
def typed_variants(draw: st.DrawFn, code: str) -> str:
    """How a person might type ``code``: any case, Crockford look-alikes, stray separators."""
    out = []
    for symbol in code:
        if symbol == "0":
            typed = draw(st.sampled_from("0Oo"))
        elif symbol == "1":
            typed = draw(st.sampled_from("1IiLl"))
        else:
            typed = symbol.lower() if draw(st.booleans()) else symbol
        out.append(typed + draw(st.sampled_from(["", "", "-", " "])))
    return draw(st.sampled_from(["", " "])) + "".join(out)


@given(st.data(), symbols)
def test_normalization_property(data: st.DataObject, code: str) -> None:
    typed = data.draw(typed_variants(code))
    assert normalize_code(typed) == code
    assert hash_code(typed) == hash_code(format_code(code))


@given(st.text(max_size=30))
def test_normalize_never_raises_and_returns_canonical_symbols(text: str) -> None:
    result = normalize_code(text)
    assert result is None or (len(result) == CODE_LEN and set(result) <= set(ALPHABET))


@given(st.binary(min_size=7, max_size=7))
def test_generated_codes_round_trip(randomness: bytes) -> None:
    (code,) = generate_recovery_codes(1, token_bytes=lambda _n: randomness)
    assert CODE_RE.match(code)
    assert normalize_code(code) == code.replace("-", "")
