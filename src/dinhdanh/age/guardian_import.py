"""`dinhdanh import guardians FILE`: guardian links from a feed of their own.

Columns ``child_id_number, guardian_id_number, relation, valid_from, valid_to`` (CSV, JSONL or
Parquet). The guarantees are the citizen import's (`store.batch`): rejects with line and
reason, strict mode, resumable chunks, idempotent. Rows that need the registry (a child or
guardian nobody has, a guardian under 18, a third guardian) are refused in pass 1 by the
batch's screen, so `--strict` still applies nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from dinhdanh.age.guardian_rules import LinkRecord, check_link_row
from dinhdanh.age.guardians import Guardians
from dinhdanh.crypto import KeyRing, keyring_from_json, keyring_to_json
from dinhdanh.identity import indexes
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.batch import (
    DEFAULT_CHUNK_SIZE,
    BatchReport,
    Counts,
    OnReject,
    Progress,
    UnitOfWork,
    run_batch,
)
from dinhdanh.store.feeds import Reason, Row

COLUMNS = ("child_id_number", "guardian_id_number", "relation", "valid_from", "valid_to")
KIND = "guardians"


class PreparedLink(NamedTuple):
    """A feed row ready for pass 2: blind indexes, not ID numbers."""

    child_bidx: bytes
    guardian_bidx: bytes
    relation: str
    valid_from: date
    valid_to: date | None


@dataclass
class GuardianFeed:
    ring_json: str
    columns: tuple[str, ...] = COLUMNS
    label: str = "child_id_number"

    @cached_property
    def _ring(self) -> KeyRing:
        return keyring_from_json(self.ring_json)

    def __getstate__(self) -> dict[str, Any]:
        return {"ring_json": self.ring_json}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["ring_json"])  # type: ignore[misc]

    def check(self, row: Row, today: date) -> LinkRecord | list[Reason]:
        return check_link_row(row, today)

    def key(self, record: LinkRecord) -> str:
        return f"{record.child_id_number}:{record.guardian_id_number}"

    def fingerprint(self, prepared: PreparedLink) -> bytes:
        return hashlib.sha256(repr(tuple(prepared)).encode()).digest()

    def prepare(self, records: list[LinkRecord]) -> list[PreparedLink]:
        ring = self._ring
        return [
            PreparedLink(
                indexes.id_index(ring, r.child_id_number),
                indexes.id_index(ring, r.guardian_id_number),
                r.relation,
                r.valid_from,
                r.valid_to,
            )
            for r in records
        ]


def import_guardians(
    path: Path,
    *,
    guardians: Guardians,
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
    registry = guardians.registry
    # Guardians accepted from earlier rows of this file, per child, with their periods.
    earlier: dict[str, list[tuple[str, date, date | None]]] = {}

    def subjects(session: Session, p: PreparedLink) -> tuple[str | None, str | None]:
        child = registry.subject_by_index(session, p.child_bidx)
        guardian = registry.subject_by_index(session, p.guardian_bidx)
        return (
            None if child is None else child.subject_id,
            None if guardian is None else guardian.subject_id,
        )

    def screen(rows: list[tuple[int, int | str, PreparedLink]]) -> dict[int, tuple[Reason, ...]]:
        refused: dict[int, tuple[Reason, ...]] = {}
        with unit_of_work() as session:
            now = clock()
            birth = guardians.births(session, ctx, now)
            for line, _key, p in rows:
                child, guardian = subjects(session, p)
                if child is None or guardian is None:
                    who = "child" if child is None else "guardian"
                    refused[line] = (Reason(f"{who}_unknown", f"no citizen is the {who}"),)
                    continue
                on = max(p.valid_from, today)
                also = frozenset(
                    g
                    for g, start, end in earlier.get(child, [])
                    if start <= on and (end is None or on <= end)
                )
                problems = guardians.problems(session, child, guardian, on, birth, also)
                if problems:
                    refused[line] = tuple(problems)
                    continue
                earlier.setdefault(child, []).append((guardian, p.valid_from, p.valid_to))
        return refused

    def apply(session: Session, prepared: list[PreparedLink], now: datetime) -> Counts:
        rows = []
        for p in prepared:
            child, guardian = subjects(session, p)
            if child is not None and guardian is not None:  # screened in pass 1
                rows.append((child, guardian, p.relation, p.valid_from, p.valid_to))
        return guardians.apply_feed(session, rows, ctx, now)

    return run_batch(
        path,
        spec=GuardianFeed(keyring_to_json(registry.ring)),
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
        on_reject=on_reject,
        screen=screen,
    )
