"""An upload's rejected rows, kept for download behind its answer's `rejected_rows_url`.

An answer lists the first 100 rejects (hardening finding 4); the rest are written here as the
batch finds them: per row only what the answer echoes (line, reason, the key cut to 64
characters), never the row. Rows go in chunks sealed with the key ring, the context naming the
carrier, upload and chunk number, so the table holds no plaintext and a chunk moved to another
upload does not open. While the import runs, sealed chunks wait in the private spill (memory
stays bounded); they reach the table in the transaction that ends the import (`store`).
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing, open_sealed, seal
from dinhdanh.store.batch import Rejected
from dinhdanh.telecom.models import UploadReject

ROWS_PER_CHUNK = 1000
RejectRow = tuple[int, str, str]  # (line, reason, key)
_LEN = struct.Struct(">I")


def _context(carrier: str, upload_id: str, chunk: int) -> bytes:
    return "\x00".join(("telecom.upload_rejects", carrier, upload_id, str(chunk))).encode()


class RejectSpool:
    """Collects one upload's rejects (its `add` is the batch's `on_reject`)."""

    def __init__(self, ring: KeyRing, carrier: str, upload_id: str, directory: Path | None) -> None:
        self._ring, self.carrier, self.upload_id = ring, carrier, upload_id
        fd, name = tempfile.mkstemp(prefix="rejects-", dir=directory)
        self._path = Path(name)
        self._fh = os.fdopen(fd, "w+b")
        self._rows: list[RejectRow] = []
        self.chunks = 0

    def add(self, item: Rejected) -> None:
        self._rows.append((item.line, item.reason, item.label))
        if len(self._rows) >= ROWS_PER_CHUNK:
            self._seal()

    def _seal(self) -> None:
        if not self._rows:
            return
        plain = json.dumps(self._rows, ensure_ascii=False).encode()
        token = seal(self._ring, plain, _context(self.carrier, self.upload_id, self.chunks))
        self._fh.write(_LEN.pack(len(token)) + token)
        self._rows.clear()
        self.chunks += 1

    def store(self, session: Session, now: datetime, expires_at: datetime) -> None:
        """Write the sealed chunks (inside the caller's transaction); purge expired ones."""
        session.execute(delete(UploadReject).where(UploadReject.expires_at <= now))
        self._seal()
        self._fh.seek(0)
        for chunk in range(self.chunks):
            (size,) = _LEN.unpack(self._fh.read(_LEN.size))
            row = {
                "carrier": self.carrier,
                "upload_id": self.upload_id,
                "chunk": chunk,
                "sealed": self._fh.read(size),
                "created_at": now,
                "expires_at": expires_at,
            }
            session.execute(insert(UploadReject), [row])  # one chunk in memory at a time

    def close(self) -> None:
        self._fh.close()
        self._path.unlink(missing_ok=True)


def chunk_count(session: Session, carrier: str, upload_id: str, now: datetime) -> int:
    """Chunks of this carrier's upload not yet expired (0: none, or not this carrier's)."""
    stmt = select(func.count()).where(
        UploadReject.carrier == carrier,
        UploadReject.upload_id == upload_id,
        UploadReject.expires_at > now,
    )
    return session.scalar(stmt) or 0


def read_rejects(
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    ring: KeyRing,
    carrier: str,
    upload_id: str,
    chunks: int,
) -> Iterator[RejectRow]:
    """Every reject in the order found, opening one chunk at a time."""
    for chunk in range(chunks):
        with unit_of_work() as session:
            token = session.scalar(
                select(UploadReject.sealed).where(
                    UploadReject.carrier == carrier,
                    UploadReject.upload_id == upload_id,
                    UploadReject.chunk == chunk,
                )
            )
        if token is None:  # purged while being read
            return
        rows = json.loads(open_sealed(ring, token, _context(carrier, upload_id, chunk)))
        for line, reason, key in rows:
            yield int(line), str(reason), str(key)
