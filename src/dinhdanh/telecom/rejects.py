"""A carrier upload's rejected rows, sealed for download (store/upload_rejects.py)."""

from __future__ import annotations

from pathlib import Path

from dinhdanh.crypto import KeyRing
from dinhdanh.store import upload_rejects
from dinhdanh.store.upload_rejects import ROWS_PER_CHUNK, RejectRow, RejectTable
from dinhdanh.telecom.models import UploadReject

__all__ = ["REJECTS", "ROWS_PER_CHUNK", "RejectRow", "RejectSpool"]

REJECTS = RejectTable(UploadReject, "carrier", "telecom.upload_rejects")


class RejectSpool(upload_rejects.RejectSpool):
    def __init__(self, ring: KeyRing, carrier: str, upload_id: str, directory: Path | None) -> None:
        super().__init__(REJECTS, ring, carrier, upload_id, directory)
