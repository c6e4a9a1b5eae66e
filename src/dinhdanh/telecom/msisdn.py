"""Subscriber numbers (MSISDN): normalization to E.164 and the carriers' number ranges.

Normalization is the platform's one phone normalizer, ``identity.phone.to_e164``
(libphonenumber), re-exported here under the names telecom code has always used.

The prefix table says which carrier a range was allocated to. Numbers have been portable
between carriers since 2018, so it names the home network, never the current one: the
carrier that uploads a subscription is the authority for that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dinhdanh.identity.phone import COUNTRY_CODE
from dinhdanh.identity.phone import PhoneError as MsisdnError
from dinhdanh.identity.phone import to_e164 as normalize_msisdn

__all__ = [
    "CARRIERS",
    "COUNTRY_CODE",
    "Carrier",
    "MsisdnError",
    "home_carrier",
    "normalize_msisdn",
]


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


def home_carrier(e164: str) -> str | None:
    """Code of the carrier the number's range was allocated to, if it is in the table."""
    if not e164.startswith("+84") or len(e164) != 12:
        return None
    return _HOME.get(e164[3:5])
