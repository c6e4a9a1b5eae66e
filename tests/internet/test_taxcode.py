"""Tax codes through python-stdnum: check digits, branch forms, reason codes."""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.vn import mst

from dinhdanh.internet.taxcode import TaxCodeError, display, head_of, parse_tax_code
from dinhdanh.synth.internet import tax_code

stems = st.from_regex(r"\A[0-9]{2}[0-9]{6}[1-9]\Z")


def code_of(stem: str) -> str:
    check = mst.calc_check_digit(stem)
    assume(len(check) == 1)  # a stem whose check would be 10 has no valid code
    return stem + check


@given(stems)
def test_a_code_with_its_check_digit_is_valid(stem: str) -> None:
    code = code_of(stem)
    assert parse_tax_code(code) == code
    assert parse_tax_code(f" {code[:4]}.{code[4:]} ") == code  # separators people type


@given(stems, st.integers(1, 9))
def test_any_other_last_digit_fails_the_check(stem: str, shift: int) -> None:
    code = code_of(stem)
    wrong = code[:9] + str((int(code[9]) + shift) % 10)
    with pytest.raises(TaxCodeError) as caught:
        parse_tax_code(wrong)
    assert caught.value.reason.code == "tax_code_checksum"


@given(stems, st.integers(1, 999))
def test_a_branch_in_either_written_form(stem: str, branch: int) -> None:
    code = code_of(stem)
    dashed, plain = f"{code}-{branch:03d}", f"{code}{branch:03d}"
    assert parse_tax_code(dashed) == parse_tax_code(plain) == plain
    assert head_of(plain) == code
    assert display(plain) == dashed


def test_known_codes() -> None:
    assert parse_tax_code("0100233488") == "0100233488"
    assert parse_tax_code("0314409058-002") == "0314409058002"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "tax_code_missing"),
        ("0100233480", "tax_code_checksum"),
        ("12345", "tax_code_format"),
        ("01002334881", "tax_code_format"),  # 11 digits
        ("010023348A", "tax_code_format"),
        ("0100233488-000", "tax_code_component"),  # branch 000
        ("0100000000", "tax_code_component"),  # zero sequence
    ],
)
def test_reason_codes(raw: str, code: str) -> None:
    with pytest.raises(TaxCodeError) as caught:
        parse_tax_code(raw)
    assert caught.value.reason.code == code


def test_the_synthetic_generator_makes_valid_codes() -> None:
    rng = random.Random(3)
    codes = [tax_code(rng) for _ in range(500)]
    assert all(mst.is_valid(c) for c in codes)
    assert codes == [tax_code(r) for r in [random.Random(3)] for _ in range(500)]
