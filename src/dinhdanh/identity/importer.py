"""Import of citizens from a population-registry feed (CSV, JSONL or Parquet).

The guarantees (two passes, strict mode, resumable chunks, rejects) come from
`dinhdanh.store.batch`; this module says what a citizen row is and how it is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.crypto import keyring_from_json, keyring_to_json
from dinhdanh.identity.rules import CitizenRecord, check_citizen
from dinhdanh.identity.service import CITIZENS, CitizenSealer, Prepared, Registry
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.batch import (
    DEFAULT_CHUNK_SIZE,
    BatchReport,
    Counts,
    OnReject,
    Progress,
    Rejected,
    UnitOfWork,
    run_batch,
)
from dinhdanh.store.feeds import Reason, Row
from dinhdanh.store.private import RejectsFile

COLUMNS = ("id_number", "full_name", "date_of_birth", "sex", "guardian_id_number", "date_of_death")
OPTIONAL = ("phone",)
KIND = "citizens"


@dataclass
class CitizenFeed:
    """The pure half of the import; pickled into worker processes with the key ring as JSON."""

    ring_json: str
    columns: tuple[str, ...] = COLUMNS
    label: str = "id_number"

    @cached_property
    def _sealer(self) -> CitizenSealer:
        return CitizenSealer(keyring_from_json(self.ring_json))

    def __getstate__(self) -> dict[str, Any]:
        return {"ring_json": self.ring_json}  # not the unpicklable key objects

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["ring_json"])  # type: ignore[misc]

    def check(self, row: Row, today: date) -> CitizenRecord | list[Reason]:
        return check_citizen(row, today)

    def key(self, record: CitizenRecord) -> int:
        return int(record.id_number)  # an int keeps a million keys small in memory

    def fingerprint(self, prepared: Prepared) -> bytes:
        return prepared.digest  # keyed digest of the whole record

    def prepare(self, records: list[CitizenRecord]) -> list[Prepared]:
        return self._sealer.prepare_many(records)


def import_citizens(
    path: Path,
    *,
    registry: Registry,
    unit_of_work: UnitOfWork,
    ctx: AccessContext,
    clock: Callable[[], datetime],
    today: date,
    strict: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int | None = None,
    spill_dir: Path | None = None,
    progress: Progress | None = None,
    on_reject: OnReject | None = None,
) -> BatchReport:
    def apply(session: Session, prepared: list[Prepared], now: datetime) -> Counts:
        return registry.apply(session, prepared, ctx, now)

    return run_batch(
        path,
        spec=CitizenFeed(keyring_to_json(registry.ring)),
        apply=apply,
        unit_of_work=unit_of_work,
        clock=clock,
        today=today,
        kind=KIND,
        strict=strict,
        chunk_size=chunk_size,
        workers=workers,
        spill_dir=spill_dir,
        progress=progress,
        table=CITIZENS,
        on_reject=on_reject,
    )


def write_rejects(rejected: list[Rejected], path: Path, label: str = "id_number") -> None:
    """CSV of rejected lines: line, the row's key column, and every reason (mode 0600)."""
    with RejectsFile(path, label) as out:
        for r in rejected:
            out.write(r)
