"""Password hashing (Argon2id) and the NIST SP 800-63B password policy."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.auth.passwords import (
    DEFAULT_PARAMS,
    MAX_LENGTH,
    MIN_LENGTH,
    Argon2Params,
    PolicyViolation,
    check_password_policy,
    common_passwords,
    dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)

# Cheap parameters for tests that aren't about the cost; the defaults are tested once below.
FAST = Argon2Params(memory_kib=1024, time_cost=1)
GOOD = "correct horse battery staple"


def fullwidth(text: str) -> str:
    """``text`` as typed on a full-width (CJK) keyboard layout."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


USER = ["001203004567", "Nguyễn Văn Đức", "0912345678"]


@pytest.fixture(scope="module")
def default_hash() -> str:
    return hash_password(GOOD)


# -- hashing -----------------------------------------------------------------------------


def test_defaults_are_argon2id_19_mib_t2_p1() -> None:
    assert Argon2Params(memory_kib=19_456, time_cost=2, parallelism=1) == DEFAULT_PARAMS


def test_default_hash_names_its_parameters(default_hash: str) -> None:
    assert default_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_default_hash_verifies(default_hash: str) -> None:
    assert verify_password(default_hash, GOOD)
    assert not verify_password(default_hash, GOOD + " ")
    assert not needs_rehash(default_hash)


def test_hashes_are_salted() -> None:
    assert hash_password(GOOD, FAST) != hash_password(GOOD, FAST)


def test_verification_uses_the_parameters_in_the_hash() -> None:
    stored = hash_password(GOOD, FAST)
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert verify_password(stored, GOOD)


@pytest.mark.parametrize(
    ("typed", "stored_as"),
    [
        (fullwidth("pass word123"), "pass word123"),
        (unicodedata.normalize("NFD", "Mật khẩu"), unicodedata.normalize("NFC", "Mật khẩu")),
    ],
    ids=["fullwidth", "combining-diacritics"],
)
def test_nfkc_equivalent_passwords_verify(typed: str, stored_as: str) -> None:
    assert typed != stored_as
    assert verify_password(hash_password(stored_as, FAST), typed)


@pytest.mark.parametrize(
    "stored",
    ["", "garbage", "$argon2id$v=19$m=1024,t=1,p=1$", "$2b$12$" + "a" * 53],
    ids=["empty", "garbage", "truncated", "bcrypt"],
)
def test_malformed_stored_hash_is_false_not_an_error(stored: str) -> None:
    assert verify_password(stored, GOOD) is False


def test_needs_rehash_when_parameters_change() -> None:
    weak = hash_password(GOOD, FAST)
    assert needs_rehash(weak)
    assert not needs_rehash(weak, FAST)


def test_unreadable_hash_needs_rehash() -> None:
    assert needs_rehash("$2b$12$" + "a" * 53)


def test_dummy_verify_is_always_false() -> None:
    assert dummy_verify(GOOD) is False
    assert dummy_verify("dinhdanh: no such account") is False


# -- policy: length ------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, MIN_LENGTH - 1])
def test_too_short(length: int) -> None:
    assert PolicyViolation.TOO_SHORT in check_password_policy("k" * length)


def test_bounds_are_nist_sp_800_63b() -> None:
    assert MIN_LENGTH == 8
    assert MAX_LENGTH >= 64


def test_lengths_at_the_bounds_pass() -> None:
    assert check_password_policy("xq7#vt2!") == []
    assert check_password_policy("xq7#vt2!" * (MAX_LENGTH // 8)) == []


def test_too_long() -> None:
    assert check_password_policy("xq7#vt2!" * (MAX_LENGTH // 8) + "z") == [PolicyViolation.TOO_LONG]


def test_length_counts_code_points_after_nfkc() -> None:
    # Seven precomposed letters typed as 14 code points (letter + combining mark).
    decomposed = unicodedata.normalize("NFD", "ệệệệệệệ")
    assert len(decomposed) >= MIN_LENGTH
    assert PolicyViolation.TOO_SHORT in check_password_policy(decomposed)
    # One ligature code point is three letters after NFKC.
    assert check_password_policy("ﬃﬃ12") == []


# -- policy: common passwords --------------------------------------------------------------


def test_common_list_is_the_shipped_10000() -> None:
    words = common_passwords()
    assert len(words) == 10_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= words
    assert all(w == w.lower() and w.strip() == w and w for w in words)


@pytest.mark.parametrize("password", ["password", "PassWord", fullwidth("password"), "iloveyou"])
def test_common_passwords_are_refused(password: str) -> None:
    assert PolicyViolation.COMMON in check_password_policy(password)


def test_short_common_password_breaks_both_rules() -> None:
    assert check_password_policy("123456") == [PolicyViolation.TOO_SHORT, PolicyViolation.COMMON]


# -- policy: context-specific words ----------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "xx001203004567yy",  # the ID number
        "nguyenvanduc!",  # the whole name, no diacritics
        "Nguyễn-rocks-42",  # a 4+ letter part
        "ĐứcVăn88",  # only name parts, with diacritics
        "Duc1990!!",  # a short part with digits: its letters are only a name part
        "call 0912345678",  # the phone number
    ],
)
def test_passwords_with_user_data_are_refused(password: str) -> None:
    assert check_password_policy(password, user_inputs=USER) == [PolicyViolation.CONTAINS_USER_DATA]


@pytest.mark.parametrize("password", ["vanilla-sky-42", "nothing to see here", "productive duck"])
def test_short_name_parts_inside_words_pass(password: str) -> None:
    # "van", "thi", "duc" are everywhere; they count only when the letters are names alone.
    assert check_password_policy(password, user_inputs=[*USER, "Lê Thị An"]) == []


def test_no_user_inputs_no_user_data_violation() -> None:
    assert check_password_policy("nguyenvanduc!") == []


@given(st.text(max_size=40), st.lists(st.text(max_size=20), max_size=3))
def test_policy_depends_only_on_the_nfkc_form(password: str, inputs: list[str]) -> None:
    normalized = unicodedata.normalize("NFKC", password)
    assert check_password_policy(password, user_inputs=inputs) == check_password_policy(
        normalized, user_inputs=inputs
    )
