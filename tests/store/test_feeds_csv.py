"""CSV feeds are read as ``csv.DictReader`` reads them, without its Python loop: the same
rows (short rows padded with None, long rows not records, blank lines skipped) and each
row's first line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dinhdanh.store.feeds import FeedError, read_rows

HEADER = ["msisdn", "id_number", "full_name"]
cell = st.text(alphabet=st.sampled_from('ab, "\n\r\u1ea1'), max_size=6)
rows = st.lists(st.lists(cell, min_size=0, max_size=5), max_size=12)


def _as_dictreader(text: str) -> list[tuple[int, dict[str, str | None] | None]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames is not None
    out: list[tuple[int, dict[str, str | None] | None]] = []
    line = reader.line_num + 1
    for row in reader:
        out.append((line, None if None in row else row))
        line = reader.line_num + 1
    return out


@settings(max_examples=300, deadline=None)
@given(rows)
def test_same_rows_as_dictreader(
    tmp_path_factory: pytest.TempPathFactory, body: list[list[str]]
) -> None:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    for cells in body:
        writer.writerow(cells)
    text = buf.getvalue()
    path = tmp_path_factory.mktemp("feed") / "feed.csv"
    path.write_text(text, encoding="utf-8", newline="")
    got = list(read_rows(path, HEADER))
    want = _as_dictreader(text)
    assert [r for _, r in got] == [r for _, r in want]
    if all(cells for cells in body):  # DictReader's own count goes stale after a blank line
        assert [n for n, _ in got] == [n for n, _ in want]


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text('msisdn,id_number,full_name\n\n0962000001,1,"A\nB"\n\n0962000002,2\n')
    got = list(read_rows(path, HEADER))
    assert got == [
        (3, {"msisdn": "0962000001", "id_number": "1", "full_name": "A\nB"}),
        (6, {"msisdn": "0962000002", "id_number": "2", "full_name": None}),
    ]


def test_missing_header_columns(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text("msisdn,full_name\n0962000001,A\n")
    with pytest.raises(FeedError, match="id_number"):
        list(read_rows(path, HEADER))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(FeedError, match="missing column"):
        list(read_rows(empty, HEADER))
