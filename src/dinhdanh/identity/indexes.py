"""Blind indexes of identity values: the only form in which personal values meet a WHERE or JOIN.

Every domain that matches against the registry (telecom reconciliation, login, search) computes
its side with these functions, so both sides agree byte for byte. HMAC-SHA-256 truncated to
128 bits (RFC 2104 allows truncation): collisions stay negligible at national scale
(n^2 / 2^129 for n = 10^8 is about 10^-23) and indexes stay half as big.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from dinhdanh.crypto import KeyRing, blind_index, blind_indexes
from dinhdanh.identity.rules import fold_name

SIZE = 16
ID, NAME, DOB, PHONE, RECORD = (
    "citizen.id_number",
    "citizen.full_name",
    "citizen.date_of_birth",
    "citizen.phone",
    "citizen.record",
)


def id_index(ring: KeyRing, id_number: str) -> bytes:
    """`id_number` must be normalized (idnumber.parse(...).value)."""
    return blind_index(ring, id_number, ID)[:SIZE]


def name_index(ring: KeyRing, full_name: str) -> bytes:
    """Case, spacing and Unicode composition do not matter (rules.fold_name)."""
    return blind_index(ring, fold_name(full_name), NAME)[:SIZE]


def dob_index(ring: KeyRing, dob: date) -> bytes:
    return blind_index(ring, dob.isoformat(), DOB)[:SIZE]


def phone_index(ring: KeyRing, e164: str) -> bytes:
    """`e164` must be normalized (+84 and nine digits)."""
    return blind_index(ring, e164, PHONE)[:SIZE]


def record_digest(ring: KeyRing, canonical: str) -> bytes:
    """Keyed digest of a whole record (CitizenRecord.canonical()), to spot unchanged rows."""
    return blind_index(ring, canonical, RECORD)[:SIZE]


# The same, for a column of values at once (an import's piece of rows): the purpose is hashed
# once and no Python function is called per value (crypto.blind_indexes); equal, value by
# value, to the functions above (tests/identity/test_indexes.py).


def id_indexes(ring: KeyRing, id_numbers: Sequence[str]) -> list[bytes]:
    return [d[:SIZE] for d in blind_indexes(ring, id_numbers, ID)]


def name_indexes(ring: KeyRing, full_names: Sequence[str]) -> list[bytes]:
    return [d[:SIZE] for d in blind_indexes(ring, [fold_name(n) for n in full_names], NAME)]


def dob_indexes(ring: KeyRing, dobs: Sequence[date]) -> list[bytes]:
    return [d[:SIZE] for d in blind_indexes(ring, [day.isoformat() for day in dobs], DOB)]


def phone_indexes(ring: KeyRing, e164s: Sequence[str]) -> list[bytes]:
    return [d[:SIZE] for d in blind_indexes(ring, e164s, PHONE)]


def record_digests(ring: KeyRing, canonicals: Sequence[str]) -> list[bytes]:
    return [d[:SIZE] for d in blind_indexes(ring, canonicals, RECORD)]
