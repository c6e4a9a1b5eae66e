"""Reading batch feeds (CSV, JSONL, Parquet) as numbered rows of strings.

A row that cannot be read as a record (bad JSON, too many CSV cells) comes out as None so the
caller can reject that line and go on; a file that cannot be read at all raises FeedError.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Sequence
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


def _read_csv(path: Path, fh: IO[str], required: Sequence[str]) -> Iterator[tuple[int, Row | None]]:
    reader = csv.DictReader(fh)
    _check_columns(path, reader.fieldnames or (), required)
    line = reader.line_num + 1
    for row in reader:
        yield line, (None if None in row else row)  # None key: more cells than header columns
        line = reader.line_num + 1


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
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            yield from (_read_csv(path, fh, required) if suffix == ".csv" else _read_jsonl(fh))
    except UnicodeDecodeError as exc:
        raise FeedError(f"{path.name}: not UTF-8 ({exc.reason})") from None
    except csv.Error as exc:
        raise FeedError(f"{path.name}: broken CSV ({exc})") from None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
