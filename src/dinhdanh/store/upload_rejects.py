"""An upload's rejected rows, kept for download behind its answer's `rejected_rows_url`.

An answer lists the first 100 rejects (hardening finding 4); the rest are written here as the
batch finds them: per row only what the answer echoes (line, reason, the key cut to 64
characters), never the row. Rows go in chunks sealed with the key ring, the context naming the
kind of upload, its owner (a carrier, a registrar), the upload and the chunk number, so the
table holds no plaintext and a chunk moved to another upload does not open. While the import
runs, sealed chunks wait in the private spill (memory stays bounded); they reach the table in
the transaction that ends the import (`RejectSpool.store`).

Each domain keeps its own table (`RejectTable` names it): columns ``<owner>, upload_id, chunk,
sealed, created_at, expires_at``.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dinhdanh.crypto import KeyRing, open_sealed, seal
from dinhdanh.store.batch import Rejected

ROWS_PER_CHUNK = 1000
RejectRow = tuple[int, str, str]  # (line, reason, key)
_LEN = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class RejectTable:
    model: Any  # the mapped class
    owner: str  # the column naming whose upload it was
    purpose: str  # seal context prefix, e.g. telecom.upload_rejects

    def column(self, name: str) -> InstrumentedAttribute[Any]:
        col: InstrumentedAttribute[Any] = getattr(self.model, name)
        return col

    def context(self, owner: str, upload_id: str, chunk: int) -> bytes:
        return "\x00".join((self.purpose, owner, upload_id, str(chunk))).encode()

    def where(self, owner: str, upload_id: str) -> tuple[Any, ...]:
        return (self.column(self.owner) == owner, self.column("upload_id") == upload_id)


class RejectSpool:
    """Collects one upload's rejects (its `add` is the batch's `on_reject`)."""

    def __init__(
        self, table: RejectTable, ring: KeyRing, owner: str, upload_id: str, directory: Path | None
    ) -> None:
        self._table, self._ring, self.owner, self.upload_id = table, ring, owner, upload_id
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
        token = seal(
            self._ring, plain, self._table.context(self.owner, self.upload_id, self.chunks)
        )
        self._fh.write(_LEN.pack(len(token)) + token)
        self._rows.clear()
        self.chunks += 1

    def store(self, session: Session, now: datetime, expires_at: datetime) -> None:
        """Write the sealed chunks (inside the caller's transaction); purge expired ones."""
        t = self._table
        session.execute(delete(t.model).where(t.column("expires_at") <= now))
        self._seal()
        self._fh.seek(0)
        for chunk in range(self.chunks):
            (size,) = _LEN.unpack(self._fh.read(_LEN.size))
            row = {
                t.owner: self.owner,
                "upload_id": self.upload_id,
                "chunk": chunk,
                "sealed": self._fh.read(size),
                "created_at": now,
                "expires_at": expires_at,
            }
            session.execute(insert(t.model), [row])  # one chunk in memory at a time

    def close(self) -> None:
        self._fh.close()
        self._path.unlink(missing_ok=True)


def chunk_count(
    table: RejectTable, session: Session, owner: str, upload_id: str, now: datetime
) -> int:
    """Chunks of this owner's upload not yet expired (0: none, or not this owner's)."""
    stmt = select(func.count()).where(
        *table.where(owner, upload_id), table.column("expires_at") > now
    )
    return session.scalar(stmt) or 0


def read_rejects(
    table: RejectTable,
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    ring: KeyRing,
    owner: str,
    upload_id: str,
    chunks: int,
) -> Iterator[RejectRow]:
    """Every reject in the order found, opening one chunk at a time."""
    for chunk in range(chunks):
        with unit_of_work() as session:
            token = session.scalar(
                select(table.column("sealed")).where(
                    *table.where(owner, upload_id), table.column("chunk") == chunk
                )
            )
        if token is None:  # purged while being read
            return
        rows = json.loads(open_sealed(ring, token, table.context(owner, upload_id, chunk)))
        for line, reason, key in rows:
            yield int(line), str(reason), str(key)
