"""One phone normalizer: the registry, enrolment and telecom read every number alike."""

from __future__ import annotations

from datetime import date
from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.crypto import generate_keyring
from dinhdanh.identity import indexes
from dinhdanh.identity.phone import PhoneError, e164_or_none, to_e164
from dinhdanh.identity.rules import CitizenRecord, check_citizen
from dinhdanh.identity.service import Registry
from dinhdanh.privacy.audit import AuditLog
from dinhdanh.synth import generate_population
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
