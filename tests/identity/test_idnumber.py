import json
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.identity.idnumber import (
    IdNumber,
    IdNumberError,
    Inconsistency,
    Sex,
    make,
    normalize,
    parse,
    validate_against,
)
from dinhdanh.identity.provinces import province, provinces

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "vectors" / "id_numbers.json").read_text(encoding="utf-8")
)


def cases(section: str) -> list[Any]:
    return [
        pytest.param(case, id=repr(case.get("input", case.get("id_number"))))
        for case in VECTORS[section]
    ]


# -- vectors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("valid"))
def test_valid_vectors(case: dict[str, Any]) -> None:
    parsed = parse(case["input"])
    assert parsed.value == case["value"]
    assert parsed.province.code == case["province"]
    assert parsed.province.name == case["province_name"]
    assert parsed.sex is Sex(case["sex"])
    assert parsed.birth_year == case["birth_year"]
    assert normalize(case["input"]) == case["value"]


@pytest.mark.parametrize("case", cases("invalid"))
def test_invalid_vectors(case: dict[str, Any]) -> None:
    with pytest.raises(IdNumberError) as excinfo:
        parse(case["input"])
    assert excinfo.value.code == case["error"]


@pytest.mark.parametrize("case", cases("consistency"))
def test_consistency_vectors(case: dict[str, Any]) -> None:
    birth_date = date.fromisoformat(case["birth_date"])
    found = validate_against(case["id_number"], birth_date, case["sex"])
    assert [i.code for i in found] == case["expect"]
    assert all(i.message for i in found)
    assert parse(case["id_number"]).validate_against(birth_date, Sex(case["sex"])) == found


# -- examples --------------------------------------------------------------------------------


def test_error_is_a_value_error_and_does_not_echo_the_input() -> None:
    with pytest.raises(ValueError, match="12 digits") as excinfo:
        parse("12345")
    assert "12345" not in str(excinfo.value)
    with pytest.raises(IdNumberError) as excinfo2:
        parse("003090123456")
    assert "003090123456" not in str(excinfo2.value)


def test_repr_masks_the_random_part() -> None:
    text = repr(parse("001090123456"))
    assert "123456" not in text
    assert "001090" in text


def test_parse_is_equal_to_constructed_value() -> None:
    hanoi = province("001")
    assert hanoi is not None
    assert parse("001090123456") == IdNumber("001090123456", hanoi, Sex.MALE, 1990)
    assert hash(parse("001090123456")) == hash(IdNumber("001090123456", hanoi, Sex.MALE, 1990))


def test_validate_against_accepts_sex_as_string_and_rejects_garbage() -> None:
    assert validate_against("001090123456", date(1990, 1, 1), "M") == []
    assert validate_against("001090123456", date(1990, 1, 1), "F") == [
        Inconsistency("sex_mismatch", "the sex encoded in the ID number differs")
    ]
    with pytest.raises(ValueError, match="Sex"):
        validate_against("001090123456", date(1990, 1, 1), "X")
    with pytest.raises(IdNumberError):
        validate_against("003090123456", date(1990, 1, 1), Sex.MALE)


@pytest.mark.parametrize(
    ("year", "sex", "digit"),
    [
        (1900, Sex.MALE, "0"),
        (1999, Sex.FEMALE, "1"),
        (2000, Sex.MALE, "2"),
        (2099, Sex.FEMALE, "3"),
        (2100, Sex.MALE, "4"),
        (2150, Sex.FEMALE, "5"),
        (2200, Sex.MALE, "6"),
        (2250, Sex.FEMALE, "7"),
        (2300, Sex.MALE, "8"),
        (2399, Sex.FEMALE, "9"),
    ],
)
def test_make_century_and_sex_digit(year: int, sex: Sex, digit: str) -> None:
    value = make("001", sex, year, 42)
    assert value == f"001{digit}{year % 100:02d}000042"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("003", Sex.MALE, 1990, 0), IdNumberError),
        (("1", Sex.MALE, 1990, 0), IdNumberError),
        (("001", Sex.MALE, 1899, 0), ValueError),
        (("001", Sex.MALE, 2400, 0), ValueError),
        (("001", Sex.MALE, 1990, -1), ValueError),
        (("001", Sex.MALE, 1990, 1_000_000), ValueError),
        (("001", "X", 1990, 0), ValueError),
    ],
)
def test_make_rejects_out_of_range(args: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        make(*args)


def test_make_accepts_sex_as_string() -> None:
    assert make("001", "F", 1990, 1) == make("001", Sex.FEMALE, 1990, 1)  # type: ignore[arg-type]


# -- properties ------------------------------------------------------------------------------

provinces_st = st.sampled_from(provinces())
sexes = st.sampled_from(Sex)
years = st.integers(1900, 2399)
serials = st.integers(0, 999_999)
# Text that often looks like an ID number, so the interesting branches are reached:
# ASCII and full-width digits (U+FF10..), separators, letters, an Arabic-Indic digit and
# a combining accent.
FULL_WIDTH = [chr(0xFF10 + d) for d in range(10)] + ["\uff0d", "\uff0e", "\u3000"]
id_like = st.text(
    alphabet=st.sampled_from([*"0123456789 .-\taZ", *FULL_WIDTH, "\u2013", "\u0663", "\u0301"]),
    max_size=20,
)


@given(provinces_st, sexes, years, serials)
def test_make_parse_round_trip(p: Any, sex: Sex, year: int, serial: int) -> None:
    value = make(p.code, sex, year, serial)
    parsed = parse(value)
    assert parsed == IdNumber(value, p, sex, year)
    assert value[6:] == f"{serial:06d}"


@given(st.one_of(st.text(), id_like))
def test_parse_raises_only_id_number_error(raw: str) -> None:
    try:
        parsed = parse(raw)
    except IdNumberError as exc:
        code = exc.code
    else:
        assert len(parsed.value) == 12
        assert parsed.value.isascii()
        assert parsed.value.isdigit()
        assert parse(parsed.value) == parsed
        return
    assert code in {"id_format", "id_unknown_province"}


@given(st.one_of(st.text(), id_like))
def test_normalize_is_idempotent(raw: str) -> None:
    once = normalize(raw)
    assert normalize(once) == once
    assert unicodedata.is_normalized("NFKC", once)
    assert not any(c.isspace() or c in ".-" for c in once)


@given(provinces_st, sexes, years, serials, st.sampled_from(["", " ", ".", "-"]))
def test_separators_do_not_matter(p: Any, sex: Sex, year: int, serial: int, sep: str) -> None:
    value = make(p.code, sex, year, serial)
    spaced = sep.join([value[:3], value[3:6], value[6:9], value[9:]])
    assert parse(f"  {spaced} ") == parse(value)


@given(
    provinces_st,
    sexes,
    years,
    serials,
    st.booleans(),
    st.booleans(),
    st.integers(1, 500),
    st.dates(),
)
def test_validate_against_finds_exactly_the_planted_mismatches(
    p: Any,
    sex: Sex,
    year: int,
    serial: int,
    wrong_year: bool,
    wrong_sex: bool,
    year_shift: int,
    some_date: date,
) -> None:
    parsed = parse(make(p.code, sex, year, serial))
    birth_year = year + year_shift if wrong_year else year
    birth_date = date(birth_year, some_date.month, min(some_date.day, 28))
    declared = (Sex.FEMALE if sex is Sex.MALE else Sex.MALE) if wrong_sex else sex
    expected = []
    if wrong_year:
        expected.append("birth_year_mismatch")
    if wrong_sex:
        expected.append("sex_mismatch")
    assert [i.code for i in validate_against(parsed, birth_date, declared)] == expected
    assert [i.code for i in parsed.validate_against(birth_date, declared.value)] == expected
