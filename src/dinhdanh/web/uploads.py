"""File uploads sent as the request body: the format by Content-Type, the body streamed to a
private file (``web.limits`` caps it while it streams in), never held in memory whole."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Request

from dinhdanh.store.private import spill_dir
from dinhdanh.web.problems import Problem


def suffix_of(request: Request, suffixes: Mapping[str, str], expected: str) -> str:
    """The file suffix the feed reader goes by, from the body's media type (else 415)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = suffixes.get(media)
    if suffix is None:
        raise Problem(415, "unsupported_media_type", f"Send {expected}")
    return suffix


def body_schema(suffixes: Mapping[str, str]) -> dict[str, Any]:
    """The OpenAPI request body of a route that takes a file in one of these media types."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"requestBody": {"required": True, "content": dict.fromkeys(suffixes, binary)}}


@asynccontextmanager
async def spooled(request: Request, data_dir: Path, suffix: str) -> AsyncIterator[Path]:
    """The body in a 0600 file of this process's private spill, deleted on leaving; start-up
    clears the spill if the process is killed first. Bodies may be plaintext personal data."""
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=suffix, dir=spill_dir(data_dir))
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            async for block in request.stream():
                fh.write(block)
        yield path
    finally:
        path.unlink(missing_ok=True)
