"""The 12-digit personal identification number (Circular 59/2021/TT-BCA, Decree 137/2015).

Layout: digits 1-3 province code of birth registration, digit 4 century and sex (even male,
odd female; 0/1 1900s, 2/3 2000s, ... 8/9 2300s), digits 5-6 last two digits of the birth
year, digits 7-12 random. There is no check digit, so a well-formed number can only be
checked for a known province and for consistency with a declared birth date and sex.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dinhdanh.errors import DomainError
from dinhdanh.identity.provinces import Province, province, provinces

__all__ = [
    "MIN_YEAR",
    "IdNumber",
    "IdNumberError",
    "Inconsistency",
    "Province",
    "Sex",
    "make",
    "normalize",
    "parse",
    "province",
    "provinces",
    "validate_against",
]


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class IdNumberError(DomainError, ValueError):
    """A string is not a valid ID number; ``code`` is a stable reason code.

    Messages never echo the input: it is personal data and errors end up in logs.
    """

    status, title = 422, "Invalid ID number"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """One way an ID number disagrees with declared data (``birth_year_mismatch``, ...)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A parsed, well-formed ID number and what it encodes."""

    value: str
    province: Province
    sex: Sex
    birth_year: int

    def __repr__(self) -> str:
        # Keep the random part out of logs and tracebacks.
        return (
            f"IdNumber(value='{self.value[:6]}******', province={self.province.code}, "
            f"sex={self.sex.value}, birth_year={self.birth_year})"
        )

    def validate_against(self, birth_date: date, sex: Sex | str) -> list[Inconsistency]:
        """Each way this number disagrees with a declared birth date and sex; empty if none."""
        found: list[Inconsistency] = []
        if birth_date.year != self.birth_year:
            found.append(
                Inconsistency(
                    "birth_year_mismatch",
                    "the birth year encoded in the ID number differs from the birth date",
                )
            )
        if Sex(sex) is not self.sex:
            found.append(Inconsistency("sex_mismatch", "the sex encoded in the ID number differs"))
        return found


# Digits 4-6 ("290" ...) to (sex, birth year): one dict lookup instead of arithmetic per parse.
_SEX_AND_YEAR = {
    f"{d}{yy:02d}": (Sex.MALE if d % 2 == 0 else Sex.FEMALE, 1900 + 100 * (d // 2) + yy)
    for d in range(10)
    for yy in range(100)
}

# parse() runs millions of times in bulk imports; the frozen dataclass __init__ goes through
# object.__setattr__ per field, the slot descriptors directly are about twice as fast.
_SLOTS = IdNumber.__dict__
_set_value = _SLOTS["value"].__set__
_set_province = _SLOTS["province"].__set__
_set_sex = _SLOTS["sex"].__set__
_set_birth_year = _SLOTS["birth_year"].__set__


def _new_id_number(value: str, prov: Province, sex: Sex, birth_year: int) -> IdNumber:
    obj: IdNumber = object.__new__(IdNumber)
    _set_value(obj, value)
    _set_province(obj, prov)
    _set_sex(obj, sex)
    _set_birth_year(obj, birth_year)
    return obj


_DIGITS = "0123456789"
_TWO_DIGITS = tuple(f"{yy:02d}" for yy in range(100))
MIN_YEAR = 1900  # century digit 0: the earliest birth year an ID number can name
_MAX_YEAR = 2399
_MAX_SERIAL = 999_999

# Separators people type or paste: dots, ASCII and Unicode hyphens and dashes, minus sign.
_SEPARATORS = dict.fromkeys(map(ord, ".-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"))


def _remove_separators(text: str) -> str:
    return "".join(text.split()).translate(_SEPARATORS)


def normalize(raw: str) -> str:
    """Canonical form for lookup: NFKC (full-width digits become ASCII), no whitespace,
    dots or hyphens anywhere. Does not validate."""
    if raw.isascii():
        return _remove_separators(raw)
    text = unicodedata.normalize("NFKC", raw)
    # Removing a separator can leave a combining mark next to a new base character,
    # so renormalize until stable; this keeps normalize idempotent on any input.
    while True:
        stripped = _remove_separators(text)
        if stripped == text:
            return text
        text = unicodedata.normalize("NFKC", stripped)


def parse(raw: str) -> IdNumber:
    """Normalize then validate; raises :class:`IdNumberError` (``id_format``,
    ``id_unknown_province``)."""
    # Fast path: most input (imports, databases) is already canonical.
    if len(raw) == 12 and raw.isascii() and raw.isdigit():
        value = raw
    else:
        value = normalize(raw)
        if len(value) != 12 or not (value.isascii() and value.isdigit()):
            raise IdNumberError("id_format", "an ID number is 12 digits")
    prov = province(value[:3])
    if prov is None:
        raise IdNumberError("id_unknown_province", "the province code is not assigned")
    sex, year = _SEX_AND_YEAR[value[3:6]]
    return _new_id_number(value, prov, sex, year)


def validate_against(
    id_number: IdNumber | str, birth_date: date, sex: Sex | str
) -> list[Inconsistency]:
    """Each way ``id_number`` disagrees with a declared birth date and sex; empty if none.

    A string is parsed first, so it may raise :class:`IdNumberError`.
    """
    parsed = parse(id_number) if isinstance(id_number, str) else id_number
    return parsed.validate_against(birth_date, sex)


def make(province_code: str, sex: Sex, birth_year: int, serial: int) -> str:
    """Build a valid ID number; ``serial`` (0..999999) fills digits 7-12."""
    if province(province_code) is None:
        raise IdNumberError("id_unknown_province", "the province code is not assigned")
    if not MIN_YEAR <= birth_year <= _MAX_YEAR:
        raise ValueError(f"birth year must be in {MIN_YEAR}..{_MAX_YEAR}")
    if not 0 <= serial <= _MAX_SERIAL:
        raise ValueError(f"serial must be in 0..{_MAX_SERIAL}")
    if sex is not Sex.MALE and sex is not Sex.FEMALE:
        sex = Sex(sex)  # accepts "M"/"F", rejects anything else
    digit = 2 * (birth_year // 100 - 19) + (sex is Sex.FEMALE)
    # Concatenating precomputed pieces: synthetic generators call this millions of times.
    return (
        province_code + _DIGITS[digit] + _TWO_DIGITS[birth_year % 100] + str(1_000_000 + serial)[1:]
    )
