"""Every reason a registry row is rejected, one hand-made case each."""

from __future__ import annotations

from datetime import date

import pytest

from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.phone import e164_or_none
from dinhdanh.identity.rules import CitizenRecord, check_citizen, fold_name
from tests.identity.factories import row

TODAY = date(2026, 6, 1)


def codes(r: dict[str, str]) -> set[str]:
    result = check_citizen(r, TODAY)
    assert isinstance(result, list)
    return {reason.code for reason in result}


def test_good_row_becomes_a_record() -> None:
    rec = check_citizen(row(full_name="  Nguyễn   Văn  An "), TODAY)
    assert rec == CitizenRecord(
        id_number="001090012345",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1990, 5, 12),
        sex=Sex.MALE,
        province_code="001",
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"id_number": "00109001234"}, {"id_format"}),
        ({"id_number": "00109001234X"}, {"id_format"}),
        ({"id_number": "003090012345"}, {"id_unknown_province"}),
        ({"date_of_birth": "1991-05-12"}, {"birth_year_mismatch"}),
        ({"sex": "F"}, {"sex_mismatch"}),
        ({"date_of_birth": "1990-02-30"}, {"invalid_date"}),
        ({"date_of_birth": "12/05/1990"}, {"invalid_date"}),
        ({"date_of_birth": ""}, {"invalid_date"}),
        ({"full_name": "   "}, {"name_missing"}),
        ({"full_name": "A" * 201}, {"name_too_long"}),
        ({"sex": "X"}, {"invalid_sex"}),
        ({"date_of_death": "1989-01-01"}, {"death_before_birth"}),
        ({"date_of_death": "2027-01-01"}, {"death_in_future"}),
        ({"date_of_death": "2020-13-01"}, {"invalid_date"}),
        ({"guardian_id_number": "12345"}, {"guardian_id_invalid"}),
        ({"guardian_id_number": "001090012345"}, {"guardian_is_self"}),
        ({"sex": "F", "date_of_birth": "1991-05-12"}, {"sex_mismatch", "birth_year_mismatch"}),
    ],
)
def test_each_reason(changes: dict[str, str], expected: set[str]) -> None:
    assert codes(row() | changes) == expected


def test_birth_in_future() -> None:
    assert codes(row("001226000001", "Bé Na", "2026-12-01", "M")) == {"birth_in_future"}


def test_name_folding_ignores_case_space_and_composition() -> None:
    decomposed = "NGUYE\u0302\u0303N  va\u0306n an"  # NFD Ễ/ă typed another way
    assert fold_name(decomposed) == fold_name("Nguyễn Văn An".replace("ă", "\u0103"))
    assert fold_name("Nguyễn Văn An") != fold_name("Nguyễn Văn Ân")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0912345678", "+84912345678"),
        ("+84 91 234 5678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("091.234.5678", "+84912345678"),
        ("0212345678", None),  # landline prefix
        ("09123456", None),
    ],
)
def test_normalize_phone(raw: str, e164: str | None) -> None:
    assert e164_or_none(raw) == e164
