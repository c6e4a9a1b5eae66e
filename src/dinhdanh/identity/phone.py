"""The one phone-number normalizer: Vietnamese mobile numbers to E.164, with libphonenumber.

The registry (a citizen's phone in the population feed), enrolment (the numbers a code is sent
to, and their blind index) and telecom (subscriber uploads, "my numbers") all call
:func:`to_e164`, so a number has one stored form and one blind index everywhere. Numbers are
normalized with the ``phonenumbers`` library (Google's libphonenumber metadata); Decree
163/2024/ND-CP ties each Vietnamese mobile number to one verified subscriber.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import phonenumbers
from phonenumbers import PhoneNumberType

from dinhdanh.errors import DomainError

__all__ = ["COUNTRY_CODE", "PhoneError", "e164_or_none", "to_e164"]

COUNTRY_CODE = 84
REGION = "VN"
_MAX_INPUT = 40  # longer than any formatted number; caps the work done on junk input


class PhoneError(DomainError, ValueError):
    """Not a Vietnamese mobile number; ``code`` is ``msisdn_invalid`` or ``msisdn_not_mobile``.

    Messages never echo the input: numbers are personal data and errors end up in logs.
    """

    status, title = 422, "Invalid mobile number"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# What people type: digits, an optional leading +, and grouping by spaces, dots, hyphens or
# parentheses. Letters are refused: libphonenumber would read "0912 FLOWER" as a vanity
# number, which is never what a subscriber register means.
_ALLOWED = re.compile(r"\(?\+?[0-9 .\-()]+")
_SEPARATORS = dict.fromkeys(map(ord, " .-()"))
# Already national (0 + nine digits) or E.164 (+84 + nine digits): parsed without the
# general parser, which is most of the cost of a bulk upload.
_FAST = re.compile(r"(?:\+84|0)([1-9][0-9]{8})")
_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def to_e164(raw: str) -> str:
    """E.164 form (``+84`` and nine digits) of a Vietnamese mobile number.

    Accepts national (``0912 345 678``), international (``+84 912.345.678``, ``0084...``)
    and bare country-code (``84912345678``) forms, full-width digits included. Raises
    :class:`PhoneError`: ``msisdn_invalid`` when the text is not a valid phone number,
    ``msisdn_not_mobile`` when it is a valid number but not a Vietnamese mobile one
    (landlines, toll-free, foreign numbers).
    """
    if len(raw) > _MAX_INPUT:
        raise PhoneError("msisdn_invalid", "a phone number is at most 15 digits")
    text = raw.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()
    if not _ALLOWED.fullmatch(text):
        raise PhoneError("msisdn_invalid", "a phone number has only digits and separators")
    compact = text.translate(_SEPARATORS)
    fast = _FAST.fullmatch(compact)
    if fast is not None and fast.group(1)[:3] in mobile_prefixes():
        return "+84" + fast.group(1)
    return _parsed_e164(compact, fast)


def _parsed_e164(compact: str, fast: re.Match[str] | None) -> str:
    """The general path: libphonenumber parses, validates and types the number."""
    if fast is not None:
        number = phonenumbers.PhoneNumber(
            country_code=COUNTRY_CODE, national_number=int(fast.group(1))
        )
    else:
        try:
            number = phonenumbers.parse(compact, REGION)
        except phonenumbers.NumberParseException:
            raise PhoneError("msisdn_invalid", "not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("msisdn_invalid", "not a valid phone number")
    if (
        phonenumbers.region_code_for_number(number) != REGION
        or phonenumbers.number_type(number) not in _MOBILE
    ):
        raise PhoneError("msisdn_not_mobile", "not a Vietnamese mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def mobile_prefixes() -> frozenset[str]:
    """First three national digits after which libphonenumber takes any six as mobile.

    Vietnam's mobile ranges are whole three-digit prefixes followed by six free digits
    (except 1210-1213, which need a fourth and stay on the general path), so a well-formed
    nine-digit number in one of these prefixes is a valid mobile number without the parser,
    which is most of a bulk upload's time per row. Derived from libphonenumber's metadata at
    first use, never written by hand; tests hold the shortcut equal to the parser on every
    synthetic number and on random ones.
    """
    tails = ("000000", "999999", "505050", "123456", "987654")
    found = set()
    for prefix in map(str, range(100, 1000)):
        try:
            if all(_parsed_e164("0" + prefix + tail, None) for tail in tails):
                found.add(prefix)
        except PhoneError:
            continue
    return frozenset(found)


def e164_or_none(raw: str) -> str | None:
    """:func:`to_e164`, or None when ``raw`` is not a Vietnamese mobile number."""
    try:
        return to_e164(raw)
    except PhoneError:
        return None
