"""One phone normalizer: the registry, enrolment and telecom read every number alike."""

from __future__ import annotations

from datetime import date
from itertools import islice

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.crypto import generate_keyring
from dinhdanh.identity import indexes
from dinhdanh.identity.phone import PhoneError, e164_or_none, mobile_prefixes, to_e164
from dinhdanh.identity.rules import CitizenRecord, check_citizen
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AuditLog
from dinhdanh.synth import generate_population
from dinhdanh.synth.telecom import generate_subscriptions
from dinhdanh.telecom.msisdn import MsisdnError, normalize_msisdn
from tests.identity.factories import row

RING = generate_keyring()  # module-wide: Hypothesis reruns the test body many times
REGISTRY = Registry(RING, AuditLog(RING))
TODAY = date(2026, 1, 1)
SYNTHETIC = [c.phone for c in islice(generate_population(200, seed=7), 200)]
INVALID = [
    "024 3825 3825",  # Hanoi landline
    "1800 1091",  # toll-free
    "+1 202 555 0100",  # not Vietnamese
    "0912 FLOWER",  # letters are refused, not read as a vanity number
    "09123456",  # too short
    "091234567890",  # too long
    "",
    "+",
    "\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18x",  # full-width, then a letter
]


def _forms(e164: str) -> list[str]:
    nsn = e164[3:]
    return [
        e164,
        "0" + nsn,
        "84" + nsn,
        "0084" + nsn,
        f"+84 {nsn[:2]} {nsn[2:5]} {nsn[5:]}",
        f"0{nsn[:2]}.{nsn[2:5]}.{nsn[5:]}",
        f"(0{nsn[:2]}) {nsn[2:5]}-{nsn[5:]}",
        "".join(chr(ord(d) + 0xFEE0) for d in "0" + nsn),  # full-width digits
    ]


def _registry_reading(raw: str) -> str | None:
    """What the population-registry feed stores for this phone (None: row rejected for it)."""
    checked = check_citizen(row() | {"phone": raw}, TODAY)
    if isinstance(checked, CitizenRecord):
        return checked.phone
    assert {r.code for r in checked} == {"invalid_phone"}, checked
    return None


def _telecom_reading(raw: str) -> str | None:
    try:
        return normalize_msisdn(raw)
    except MsisdnError:
        return None


def _agree(raw: str) -> str | None:
    telecom = _telecom_reading(raw)
    assert _registry_reading(raw) == telecom
    assert e164_or_none(raw) == telecom
    # Enrolment and OIDC compare numbers by the registry's blind index of the number.
    expected = None if telecom is None else indexes.phone_index(RING, telecom)
    assert REGISTRY.phone_index(raw) == expected
    return telecom


def test_synthetic_numbers_in_every_written_form() -> None:
    assert len(set(SYNTHETIC)) > 150
    for e164 in SYNTHETIC:
        for raw in _forms(e164):
            assert _agree(raw) == e164, raw


@pytest.mark.parametrize("raw", INVALID)
def test_invalid_numbers_are_refused_by_all(raw: str) -> None:
    assert _agree(raw) is None
    with pytest.raises(PhoneError) as info:
        to_e164(raw)
    assert info.value.code in ("msisdn_invalid", "msisdn_not_mobile")


@given(st.text(alphabet="0123456789+ .-()", max_size=18))
def test_any_input_is_read_alike(raw: str) -> None:
    _agree(raw)


# The shortcut for well-formed numbers (identity.phone.mobile_prefixes) against libphonenumber.


def _by_libphonenumber(national: str) -> str | None:
    number = phonenumbers.parse("0" + national, "VN")
    mobile = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in mobile:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def test_shortcut_agrees_on_every_synthetic_subscription() -> None:
    people = generate_population(2_000, seed=11)
    numbers = {s.msisdn for s in generate_subscriptions(people, carriers=("VTL", "VNP", "MBF"))}
    assert len(numbers) > 1_000
    for e164 in numbers | set(SYNTHETIC):
        assert e164_or_none("0" + e164[3:]) == _by_libphonenumber(e164[3:]) == e164


def test_shortcut_covers_the_mobile_ranges_and_nothing_else() -> None:
    prefixes = mobile_prefixes()
    assert {"912", "386", "701", "888", "559"} <= prefixes  # Vinaphone, Viettel, MobiFone, ...
    assert not {p for p in prefixes if p.startswith("2")}  # landlines
    assert "121" not in prefixes  # 1210-1213 only: left to the parser


@given(st.integers(100_000_000, 999_999_999))
def test_any_nine_digits_read_as_libphonenumber_does(n: int) -> None:
    national = str(n)
    assert e164_or_none("0" + national) == _by_libphonenumber(national)
    assert e164_or_none("+84" + national) == _by_libphonenumber(national)


@given(st.data())
def test_any_number_in_a_shortcut_prefix_is_mobile_to_libphonenumber(data: st.DataObject) -> None:
    prefix = data.draw(st.sampled_from(sorted(mobile_prefixes())))
    tail = data.draw(st.integers(0, 999_999))
    national = f"{prefix}{tail:06d}"
    assert _by_libphonenumber(national) == to_e164("0" + national) == "+84" + national
