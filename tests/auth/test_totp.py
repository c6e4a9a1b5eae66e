"""TOTP (RFC 6238) against the RFC's own vectors, the verify window and replay refusal."""

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.auth.totp import (
    hotp,
    new_secret,
    provisioning_uri,
    time_step,
    totp_at,
    verify_totp,
)
from tests.crypto.conftest import load_vectors

RFC6238 = load_vectors("totp_rfc6238")
SECRET = b"12345678901234567890"  # RFC 6238 Appendix B, SHA1 rows


def test_vectors_cover_every_row_of_appendix_b() -> None:
    assert len(RFC6238) == 18
    assert {c["mode"] for c in RFC6238} == {"SHA1", "SHA256", "SHA512"}


@pytest.mark.parametrize("case", RFC6238, ids=lambda c: f"{c['mode']}-{c['time']}")
def test_rfc6238_appendix_b(case: dict[str, Any]) -> None:
    secret = case["secret_ascii"].encode("ascii")
    assert time_step(case["time"]) == int(case["t_hex"], 16)
    assert totp_at(secret, case["time"], digits=8, algorithm=case["mode"]) == case["totp"]


@pytest.mark.parametrize("case", [c for c in RFC6238 if c["mode"] == "SHA1"], ids=str)
def test_six_digit_codes_are_the_last_six_of_eight(case: dict[str, Any]) -> None:
    assert totp_at(SECRET, case["time"]) == case["totp"][-6:]


def test_hotp_rejects_out_of_range_parameters() -> None:
    with pytest.raises(ValueError, match="digits"):
        hotp(SECRET, 0, digits=5)
    with pytest.raises(ValueError, match="counter"):
        hotp(SECRET, -1)


# -- verification -------------------------------------------------------------------------

NOW = 1_111_111_111  # step 37037037


def _code_at_step(step: int) -> str:
    return hotp(SECRET, step)


def test_current_code_returns_its_step() -> None:
    assert verify_totp(SECRET, totp_at(SECRET, NOW), NOW, None) == time_step(NOW)


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_drift_either_way(offset: int) -> None:
    step = time_step(NOW) + offset
    assert verify_totp(SECRET, _code_at_step(step), NOW, None) == step


@pytest.mark.parametrize("offset", [-2, 2])
def test_two_steps_away_is_refused(offset: int) -> None:
    assert verify_totp(SECRET, _code_at_step(time_step(NOW) + offset), NOW, None) is None


def test_window_zero_accepts_only_the_current_step() -> None:
    step = time_step(NOW)
    assert verify_totp(SECRET, _code_at_step(step), NOW, None, window=0) == step
    assert verify_totp(SECRET, _code_at_step(step - 1), NOW, None, window=0) is None


def test_a_used_code_is_refused_the_second_time() -> None:
    code = totp_at(SECRET, NOW)
    used = verify_totp(SECRET, code, NOW, None)
    assert used is not None
    assert verify_totp(SECRET, code, NOW, used) is None
    assert verify_totp(SECRET, code, NOW + 5, used) is None


def test_an_older_code_is_refused_after_a_newer_one() -> None:
    step = time_step(NOW)
    assert verify_totp(SECRET, _code_at_step(step - 1), NOW, last_used_step=step) is None


def test_spaces_in_the_code_are_ignored() -> None:
    code = totp_at(SECRET, NOW)
    assert verify_totp(SECRET, f" {code[:3]} {code[3:]} ", NOW, None) == time_step(NOW)


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12345\x00"],
    ids=["empty", "short", "long", "letters", "arabic-indic-digits", "nul"],
)
def test_malformed_codes_never_match(code: str) -> None:
    assert verify_totp(SECRET, code, NOW, None) is None


def test_negative_window_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="window"):
        verify_totp(SECRET, "000000", NOW, None, window=-1)


@given(
    secret=st.binary(min_size=1, max_size=64),
    now=st.integers(min_value=8 * 30, max_value=2**40),  # every step >= 0
    offset=st.integers(min_value=-3, max_value=3),
    window=st.integers(min_value=0, max_value=2),
    last_offset=st.none() | st.integers(min_value=-4, max_value=3),
)
def test_window_property(
    secret: bytes, now: int, offset: int, window: int, last_offset: int | None
) -> None:
    current = time_step(now)
    target = current + offset
    last_used = None if last_offset is None else current + last_offset
    code = hotp(secret, target)
    matched = verify_totp(secret, code, now, last_used, window)

    lowest = current - window if last_used is None else max(current - window, last_used + 1)
    if matched is not None:
        # Whatever matched is inside the window, after the last use, and has this code
        # (6-digit codes of two steps may collide, so it needn't be ``target`` itself).
        assert lowest <= matched <= current + window
        assert hotp(secret, matched) == code
        # Feeding the step back refuses the same code at that step or any earlier one.
        again = verify_totp(secret, code, now, matched, window)
        assert again is None or again > matched
    if lowest <= target <= current + window:
        assert matched is not None
    elif matched is not None:
        assert matched != target


# -- secrets and provisioning ---------------------------------------------------------------


def test_new_secret_is_20_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert len(first) == 20
    assert first != second


def test_provisioning_uri() -> None:
    uri = provisioning_uri(SECRET, "citizen@example.vn", "Định Danh")
    assert uri == (
        "otpauth://totp/%C4%90%E1%BB%8Bnh%20Danh:citizen%40example.vn"
        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=%C4%90%E1%BB%8Bnh%20Danh"
        "&algorithm=SHA1&digits=6&period=30"
    )
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert query["issuer"] == ["Định Danh"]
    secret = query["secret"][0]
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == SECRET


def test_provisioning_uri_encodes_a_colon_inside_the_account() -> None:
    uri = provisioning_uri(SECRET, "a:b", "X")
    assert uri.startswith("otpauth://totp/X:a%3Ab?")


def test_window_never_reaches_below_step_zero() -> None:
    assert verify_totp(SECRET, _code_at_step(0), 10, None) == 0
