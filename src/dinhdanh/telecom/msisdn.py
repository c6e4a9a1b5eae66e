"""Subscriber numbers (MSISDN): normalization to E.164 and the carriers' number ranges.

Issue 4 (subscriber upload): numbers are normalized to E.164 with the ``phonenumbers`` library
(Google's libphonenumber metadata) and must be Vietnamese mobile numbers; Decree 163/2024/ND-CP
ties each such number to one verified subscriber.

The prefix table says which carrier a range was allocated to. Numbers have been portable
between carriers since 2018, so it names the home network, never the current one: the
carrier that uploads a subscription is the authority for that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import phonenumbers
from phonenumbers import PhoneNumberType

from dinhdanh.errors import DomainError

__all__ = [
    "CARRIERS",
    "COUNTRY_CODE",
    "Carrier",
    "MsisdnError",
    "home_carrier",
    "normalize_msisdn",
]

COUNTRY_CODE = 84
REGION = "VN"
_MAX_INPUT = 40  # longer than any formatted number; caps the work done on junk input


class MsisdnError(DomainError, ValueError):
    """Not a Vietnamese mobile number; ``code`` is ``msisdn_invalid`` or ``msisdn_not_mobile``.

    Messages never echo the input: numbers are personal data and errors end up in logs.
    """

    status, title = 422, "Invalid mobile number"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Carrier:
    code: str
    name: str
    # Two digits after the trunk 0 (the first two of the nine-digit national number).
    prefixes: tuple[str, ...]


# Mobile ranges by home network (Ministry of Information and Communications allocations,
# including the 2018 move of 11-digit numbers to 03x/05x/07x/08x). Codes are what the demo
# and the synthetic generator register carriers under.
CARRIERS: Mapping[str, Carrier] = MappingProxyType(
    {
        c.code: c
        for c in (
            Carrier(
                "VTL",
                "Viettel",
                ("86", "96", "97", "98", "32", "33", "34", "35", "36", "37", "38", "39"),
            ),
            Carrier("VNP", "Vinaphone", ("88", "91", "94", "81", "82", "83", "84", "85")),
            Carrier("MBF", "MobiFone", ("89", "90", "93", "70", "76", "77", "78", "79")),
            Carrier("VNMB", "Vietnamobile", ("92", "56", "58")),
            Carrier("GMB", "Gmobile", ("99", "59")),
            Carrier("ITEL", "iTel", ("87",)),
            Carrier("REDDI", "Reddi", ("55",)),
        )
    }
)
_HOME = {prefix: c.code for c in CARRIERS.values() for prefix in c.prefixes}

# What people type: digits, an optional leading +, and grouping by spaces, dots, hyphens or
# parentheses. Letters are refused: libphonenumber would read "0912 FLOWER" as a vanity
# number, which is never what a subscriber register means.
_ALLOWED = re.compile(r"\(?\+?[0-9 .\-()]+")
_SEPARATORS = dict.fromkeys(map(ord, " .-()"))
# Already national (0 + nine digits) or E.164 (+84 + nine digits): parsed without the
# general parser, which is most of the cost of a bulk upload.
_FAST = re.compile(r"(?:\+84|0)([1-9][0-9]{8})")
_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normalize_msisdn(raw: str) -> str:
    """E.164 form (``+84`` and nine digits) of a Vietnamese mobile number.

    Accepts national (``0912 345 678``), international (``+84 912.345.678``, ``0084...``)
    and bare country-code (``84912345678``) forms, full-width digits included. Raises
    :class:`MsisdnError`: ``msisdn_invalid`` when the text is not a valid phone number,
    ``msisdn_not_mobile`` when it is a valid number but not a Vietnamese mobile one
    (landlines, toll-free, foreign numbers).
    """
    if len(raw) > _MAX_INPUT:
        raise MsisdnError("msisdn_invalid", "a phone number is at most 15 digits")
    text = raw.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()
    if not _ALLOWED.fullmatch(text):
        raise MsisdnError("msisdn_invalid", "a phone number has only digits and separators")
    compact = text.translate(_SEPARATORS)
    fast = _FAST.fullmatch(compact)
    if fast is not None:
        number = phonenumbers.PhoneNumber(
            country_code=COUNTRY_CODE, national_number=int(fast.group(1))
        )
    else:
        try:
            number = phonenumbers.parse(compact, REGION)
        except phonenumbers.NumberParseException:
            raise MsisdnError("msisdn_invalid", "not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise MsisdnError("msisdn_invalid", "not a valid phone number")
    if (
        phonenumbers.region_code_for_number(number) != REGION
        or phonenumbers.number_type(number) not in _MOBILE
    ):
        raise MsisdnError("msisdn_not_mobile", "not a Vietnamese mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def home_carrier(e164: str) -> str | None:
    """Code of the carrier the number's range was allocated to, if it is in the table."""
    if not e164.startswith("+84") or len(e164) != 12:
        return None
    return _HOME.get(e164[3:5])
