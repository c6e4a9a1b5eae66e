"""MSISDN normalization: examples, and properties over generated numbers (STYLE.md 12)."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dinhdanh.telecom.msisdn import CARRIERS, MsisdnError, home_carrier, normalize_msisdn

# Third digits that libphonenumber accepts as mobile after every two-digit prefix we generate.
_VALID_PREFIXES = [
    prefix + third
    for carrier in CARRIERS.values()
    for prefix in carrier.prefixes
    for third in "0123456789"
    if phonenumbers.number_type(phonenumbers.parse(f"0{prefix}{third}000000", "VN"))
    == phonenumbers.PhoneNumberType.MOBILE
]

# libphonenumber loads each region's metadata on first use: no per-example deadline.
relaxed = settings(deadline=None)

national_numbers = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(_VALID_PREFIXES),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)


def _group(digits: str, sizes: list[int], separators: list[str]) -> str:
    """Split ``digits`` into chunks of ``sizes`` joined by ``separators`` (cycled)."""
    out, pos = [], 0
    for i, size in enumerate(sizes):
        if pos >= len(digits):
            break
        out.append(digits[pos : pos + size])
        out.append(separators[i % len(separators)])
        pos += size
    out.append(digits[pos:])
    return "".join(out)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(a way people write a mobile number, its E.164 form)."""
    nsn = draw(national_numbers)
    lead = draw(st.sampled_from(["0", "84", "+84", "0084", "+84 ", "84 "]))
    sizes = draw(st.lists(st.integers(1, 4), max_size=4))
    seps = draw(st.lists(st.sampled_from([" ", ".", "-", "  "]), min_size=1, max_size=3))
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return pad + lead + _group(nsn, sizes, seps) + pad, "+84" + nsn


def _reference(raw: str) -> str | None:
    """libphonenumber alone, without our fast path: E.164 if a VN mobile, else None."""
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        return None
    if (
        phonenumbers.is_valid_number(number)
        and phonenumbers.region_code_for_number(number) == "VN"
        and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    ):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "091-234-5678",
        "+84912345678",
        "+84 912 345 678",
        "84912345678",
        "0084912345678",
        "(+84) 912 345 678",
        "+84 0912 345 678",  # a trunk zero after the country code is dropped
        "\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",  # full-width digits
    ],
)
def test_spellings_of_one_number(raw: str) -> None:
    assert normalize_msisdn(raw) == "+84912345678"


@relaxed
@given(spellings())
@example(("0862 000 000", "+84862000000"))
def test_accepts_every_spelling(case: tuple[str, str]) -> None:
    raw, e164 = case
    assert normalize_msisdn(raw) == e164


@relaxed
@given(spellings())
def test_idempotent(case: tuple[str, str]) -> None:
    once = normalize_msisdn(case[0])
    assert normalize_msisdn(once) == once


@relaxed
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_fast_path_agrees_with_libphonenumber(nsn: str) -> None:
    for raw in ("0" + nsn, "+84" + nsn):
        expected = _reference(raw)
        if expected is None:
            with pytest.raises(MsisdnError):
                normalize_msisdn(raw)
        else:
            assert normalize_msisdn(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "024 3825 3825",  # Hanoi landline
        "028 3829 5555",  # Ho Chi Minh City landline
        "+84 24 3825 3825",
        "1800 1090",  # toll-free
        "1900 1234",  # premium rate
        "+1 650 253 0000",  # United States
        "+33 6 12 34 56 78",  # a French mobile
        "+86 138 0013 8000",  # a Chinese mobile
        "+66 81 234 5678",  # a Thai mobile
    ],
)
def test_rejects_landlines_service_and_foreign_numbers(raw: str) -> None:
    with pytest.raises(MsisdnError) as info:
        normalize_msisdn(raw)
    assert info.value.code == "msisdn_not_mobile"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "   ",
        "091234567",  # one digit short
        "09123456789",  # one digit long
        "0912 FLOWER",  # vanity letters
        "0912345678 ext 12",
        "0890123456",  # 089[0-5] is not allocated
        "1" * 50,
    ],
)
def test_rejects_what_is_not_a_phone_number(raw: str) -> None:
    with pytest.raises(MsisdnError) as info:
        normalize_msisdn(raw)
    assert info.value.code == "msisdn_invalid"


@relaxed
@given(st.text(alphabet="0123456789", min_size=7, max_size=7).map(lambda d: "+8424" + d))
def test_rejects_every_hanoi_landline(raw: str) -> None:
    with pytest.raises(MsisdnError):
        normalize_msisdn(raw)


@relaxed
@given(st.text(max_size=30))
def test_any_text_is_normalized_or_refused_with_a_code(raw: str) -> None:
    code: str | None = None
    try:
        e164 = normalize_msisdn(raw)
    except MsisdnError as exc:
        code = exc.code
    if code is not None:
        assert code in {"msisdn_invalid", "msisdn_not_mobile"}
        return
    assert e164.startswith("+84")
    assert len(e164) == 12
    assert normalize_msisdn(e164) == e164


def test_error_message_does_not_echo_the_number() -> None:
    with pytest.raises(MsisdnError) as info:
        normalize_msisdn("024 3825 3825")
    assert "3825" not in str(info.value)


@pytest.mark.parametrize(
    ("e164", "carrier"),
    [
        ("+84961234567", "VTL"),
        ("+84321234567", "VTL"),
        ("+84912345678", "VNP"),
        ("+84812345678", "VNP"),
        ("+84901234567", "MBF"),
        ("+84701234567", "MBF"),
        ("+84921234567", "VNMB"),
        ("+84991234567", "GMB"),
        ("+84871234567", "ITEL"),
        ("+84559123456", "REDDI"),
        ("+84241234567", None),
        ("0912345678", None),
    ],
)
def test_home_carrier(e164: str, carrier: str | None) -> None:
    assert home_carrier(e164) == carrier


def test_prefix_table_has_no_overlaps() -> None:
    prefixes = [p for c in CARRIERS.values() for p in c.prefixes]
    assert len(prefixes) == len(set(prefixes))
    assert all(len(p) == 2 and p.isdigit() for p in prefixes)


@relaxed
@given(national_numbers)
def test_every_generated_range_is_mobile_and_maps_home(nsn: str) -> None:
    e164 = normalize_msisdn("0" + nsn)
    assert home_carrier(e164) is not None
