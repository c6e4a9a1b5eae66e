"""Prepared rows park in the spill between the passes: named tuples travel as plain tuples
(pickling a named tuple calls its class row by row) and come back as the same class."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from dinhdanh.store.batch import _as_plain, _Spill, _spilled


class Row(NamedTuple):
    key: str
    digest: bytes
    at: datetime
    note: str | None


@dataclass(frozen=True)
class Other:
    key: str


def test_named_tuples_come_back_as_themselves(tmp_path: Path) -> None:
    rows = [Row(f"k{i}", bytes([i]) * 16, datetime(2026, 1, 1, 0, 0, i), None) for i in range(3)]
    make, plain = _as_plain(rows)
    assert make is not None
    assert [type(p) for p in plain] == [tuple] * 3  # what is pickled
    spill: _Spill[Row] = _Spill(tmp_path)
    try:
        spill.write(_spilled(make, list(enumerate(plain[:2]))))
        spill.write(_spilled(make, [(2, plain[2])]))
        back = [item for piece in spill.read() for item in piece]
    finally:
        spill.close()
    assert back == list(enumerate(rows))
    assert all(type(p) is Row for _, p in back)


def test_other_rows_are_left_as_they_are(tmp_path: Path) -> None:
    for rows in ([Other("a"), Other("b")], [("a", 1), ("b", 2)], []):
        make, plain = _as_plain(list(rows))
        assert make is None
        assert plain == list(rows)
        spill: _Spill[object] = _Spill(tmp_path)
        try:
            spill.write(_spilled(make, list(enumerate(plain))))
            assert [p for piece in spill.read() for _, p in piece] == list(rows)
        finally:
            spill.close()
