"""Reading batch feeds (CSV, JSONL, Parquet) as numbered rows of strings.

A row that cannot be read as a record (bad JSON, too many CSV cells) comes out as None so the
caller can reject that line and go on; a file that cannot be read at all raises FeedError.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from dinhdanh.errors import DomainError

Row = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a feed row is rejected: a stable code and a sentence for the operator."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} ({self.message})"


SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet")


class FeedError(DomainError):
    """The file as a whole cannot be read (format, encoding, header)."""

    code, status, title = "unreadable_file", 422, "The file cannot be read"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _check_columns(path: Path, present: Sequence[str], required: Sequence[str]) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise FeedError(f"{path.name}: missing column(s): {', '.join(missing)}")


def as_row(header: Sequence[str], cells: Sequence[str] | None) -> Row | None:
    """A CSV record's cells as ``csv.DictReader`` makes them a row: a short row's missing
    cells None, a row of more cells than the header None (not a record)."""
    if cells is None or len(cells) > len(header):
        return None
    if len(cells) < len(header):
        cells = [*cells, *([None] * (len(header) - len(cells)))]  # type: ignore[list-item]
    return dict(zip(header, cells, strict=True))


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """A text feed that cannot be decoded or parsed: one FeedError, whichever reader."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise FeedError(f"{path.name}: not UTF-8 ({exc.reason})") from None
    except csv.Error as exc:
        raise FeedError(f"{path.name}: broken CSV ({exc})") from None


def _csv_cells(path: Path, fh: IO[str], reader: Any) -> Iterator[tuple[int, list[str]]]:
    with fh, _readable(path):
        line = reader.line_num + 1
        for cells in reader:
            if cells:  # blank lines are skipped, as DictReader does
                yield line, cells
            line = reader.line_num + 1


def read_cells(
    path: Path, required: Sequence[str]
) -> tuple[list[str] | None, Iterator[tuple[int, Any]]]:
    """(header, (line, cells)) of a CSV file, the header checked; of other formats (None,
    ``read_rows``). An import sends the cells to its workers, which make them rows with
    ``as_row``: a list of strings crosses processes in half the time of a dict."""
    check_feed(path)
    if path.suffix.lower() != ".csv":
        return None, read_rows(path, required)
    fh = path.open(encoding="utf-8-sig", newline="")
    try:
        with _readable(path):
            reader = csv.reader(fh)
            header = next(reader, None) or []
        _check_columns(path, header, required)
    except BaseException:
        fh.close()
        raise
    return header, _csv_cells(path, fh, reader)


def _read_jsonl(fh: IO[str]) -> Iterator[tuple[int, Row | None]]:
    for line, text in enumerate(fh, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            yield line, None
            continue
        yield line, ({k: _text(v) for k, v in obj.items()} if isinstance(obj, dict) else None)


def _read_parquet(path: Path, required: Sequence[str]) -> Iterator[tuple[int, Row | None]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise FeedError(f"{path.name}: not a Parquet file ({exc})") from None
    _check_columns(path, pf.schema_arrow.names, required)
    line = 0
    for batch in pf.iter_batches(batch_size=10_000):
        for rec in batch.to_pylist():
            line += 1  # Parquet has no lines: "line" is the 1-based row number
            yield line, {k: _text(v) for k, v in rec.items()}


def check_feed(path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise FeedError(f"{path.name}: expected one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise FeedError(f"{path}: no such file")


def read_rows(path: Path, required: Sequence[str]) -> Iterator[tuple[int, Row | None]]:
    """Yield (line number, row). CSV line numbers count the header as line 1."""
    check_feed(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _read_parquet(path, required)
        return
    if suffix == ".csv":
        header, cells = read_cells(path, required)
        assert header is not None
        yield from ((line, as_row(header, c)) for line, c in cells)
        return
    with _readable(path), path.open(encoding="utf-8-sig", newline="") as fh:
        yield from _read_jsonl(fh)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
