"""Feed uploads over HTTP (carriers' subscribers, registrars' domain names): the body parked
in the private spill, and the download of every rejected row."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from dinhdanh.store.batch import BatchReport, OnReject
from dinhdanh.store.upload_rejects import (
    RejectRow,
    RejectSpool,
    RejectTable,
    chunk_count,
    read_rejects,
)
from dinhdanh.web.problems import Problem
from dinhdanh.wiring import Container

# Content type of an upload -> the file suffix the feed reader goes by.
SUFFIX = {
    "text/csv": ".csv",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/vnd.apache.parquet": ".parquet",
}
# Rejected rows listed in an upload's answer (the first ones by line; `rejected` counts them
# all): a file of junk rows must not make an answer, or memory, as big as the file.
REJECTS_SHOWN = 100


def body_schema(suffixes: Mapping[str, str]) -> dict[str, Any]:
    """The OpenAPI request body of a route that takes a file in one of these media types."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"requestBody": {"required": True, "content": dict.fromkeys(suffixes, binary)}}


BODY = body_schema(SUFFIX)
REJECTS_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "every rejected row of the upload, in the order found",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


def suffix_of(request: Request, suffixes: Mapping[str, str], expected: str) -> str:
    """The file suffix the feed reader goes by, from the body's media type (else 415)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = suffixes.get(media)
    if suffix is None:
        raise Problem(415, "unsupported_media_type", f"Send {expected}")
    return suffix


@asynccontextmanager
async def received(
    request: Request,
    spill: Path,
    suffixes: Mapping[str, str] = SUFFIX,
    expected: str = "text/csv, application/x-ndjson or Parquet",
) -> AsyncIterator[Path]:
    """The request body as a file of the suffix its content type names, deleted after."""
    suffix = suffix_of(request, suffixes, expected)
    # The body is plaintext personal data: parked 0600 in this process's private spill,
    # which start-up clears if the process is killed before the `finally` below.
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=suffix, dir=spill)
    path = Path(name)
    try:
        # web.limits caps the body at DINHDANH_MAX_UPLOAD_BYTES while it streams in.
        with os.fdopen(fd, "wb") as fh:
            async for block in request.stream():
                fh.write(block)
        yield path
    finally:
        path.unlink(missing_ok=True)


ImportFn = Callable[[OnReject, Callable[[Session], None]], BatchReport]


def import_with_rejects(c: Container, spool: RejectSpool, run: ImportFn) -> BatchReport:
    """Run an upload's import with every reject sealed into ``spool``, stored with the run's
    end (also when `strict` aborts, so the uploader can fetch what to fix)."""
    keep = timedelta(days=c.settings.upload_rejects_days)

    def finish(session: Session) -> None:
        now = c.clock()
        spool.store(session, now, now + keep)

    try:
        return run(spool.add, finish)
    finally:
        spool.close()


def report_fields(report: BatchReport, rejects_url: str) -> dict[str, Any]:
    """An upload answer's fields but its rejected rows (whose key column differs)."""
    return {
        "run_id": report.run_id,
        "total_rows": report.total_rows,
        "created": report.counts.created,
        "updated": report.counts.updated,
        "unchanged": report.counts.unchanged,
        "rejected": report.rejected_count,
        "resumed_from_line": report.resumed_from_line,
        "aborted": report.aborted,
        "rejected_rows_truncated": report.rejected_count > REJECTS_SHOWN,
        "rejected_rows_url": rejects_url if report.rejected_count else None,
    }


def download_rejects(
    c: Container,
    table: RejectTable,
    owner: str | None,
    upload_id: str,
    format: Literal["csv", "jsonl"],
) -> StreamingResponse:
    """Every rejected row of ``owner``'s upload (None: the caller may not see it). The same
    404 for not yours, expired and never existed."""
    chunks = 0
    if owner:
        with c.unit_of_work() as session:
            chunks = chunk_count(table, session, owner, upload_id, c.clock())
    if not chunks:
        raise Problem(404, "not_found", "No such upload rejects")
    rows = read_rejects(table, c.unit_of_work, c.ring, owner or "", upload_id, chunks)
    return rejects_response(rows, format)


def rejects_response(
    rows: Iterator[RejectRow], format: Literal["csv", "jsonl"]
) -> StreamingResponse:
    if format == "jsonl":
        return StreamingResponse(_jsonl(rows), media_type="application/x-ndjson")
    return StreamingResponse(_csv(rows), media_type="text/csv")


def _csv(rows: Iterator[RejectRow]) -> Iterator[str]:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(("line", "reason", "key"))
    for row in rows:
        out.writerow(row)
        if buf.tell() > 1 << 16:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _jsonl(rows: Iterator[RejectRow]) -> Iterator[str]:
    for line, reason, key in rows:
        yield json.dumps({"line": line, "reason": reason, "key": key}, ensure_ascii=False) + "\n"
