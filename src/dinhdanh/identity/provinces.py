"""Province codes used in digits 1-3 of the personal identification number.

The table (Circular 59/2021/TT-BCA, 63 codes with gaps) ships as package data in
``data/province_codes.csv`` and is read once per process.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

__all__ = ["Province", "province", "provinces"]


@dataclass(frozen=True, slots=True)
class Province:
    """A province of birth registration: three-digit code and Vietnamese name (NFC)."""

    code: str
    name: str


@functools.cache
def _table() -> dict[str, Province]:
    text = (
        resources.files("dinhdanh.identity")
        .joinpath("data/province_codes.csv")
        .read_text(encoding="utf-8")
    )
    rows = csv.DictReader(io.StringIO(text))
    return {row["code"]: Province(code=row["code"], name=row["name"]) for row in rows}


def province(code: str) -> Province | None:
    """The province with this three-digit code, or ``None`` if the code is not assigned."""
    return _table().get(code)


@functools.cache
def provinces() -> tuple[Province, ...]:
    """All provinces, ordered by code."""
    return tuple(sorted(_table().values(), key=lambda p: p.code))
