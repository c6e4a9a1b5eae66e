"""A carrier upload's rejected rows, sealed for download (store/upload_rejects.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing
from dinhdanh.store import upload_rejects
from dinhdanh.store.upload_rejects import ROWS_PER_CHUNK, RejectRow, RejectTable
from dinhdanh.telecom.models import UploadReject

__all__ = ["REJECTS", "ROWS_PER_CHUNK", "RejectRow", "RejectSpool", "chunk_count", "read_rejects"]

REJECTS = RejectTable(UploadReject, "carrier", "telecom.upload_rejects")


class RejectSpool(upload_rejects.RejectSpool):
    def __init__(self, ring: KeyRing, carrier: str, upload_id: str, directory: Path | None) -> None:
        super().__init__(REJECTS, ring, carrier, upload_id, directory)


def chunk_count(session: Session, carrier: str, upload_id: str, now: datetime) -> int:
    return upload_rejects.chunk_count(REJECTS, session, carrier, upload_id, now)


def read_rejects(
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    ring: KeyRing,
    carrier: str,
    upload_id: str,
    chunks: int,
) -> Iterator[RejectRow]:
    return upload_rejects.read_rejects(REJECTS, unit_of_work, ring, carrier, upload_id, chunks)
