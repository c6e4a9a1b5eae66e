"""Import of a carrier's subscriber upload (CSV, JSONL or Parquet), with the batch guarantees
of `dinhdanh.store.batch`: idempotent, resumable, atomic per chunk, every rejected row reported.
A carrier uploads only numbers of its own blocks or declared ported to it (telecom.numberplan).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing, keyring_to_json
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.batch import (
    BatchReport,
    Counts,
    OnReject,
    Progress,
    UnitOfWork,
    run_batch,
)
from dinhdanh.telecom.blocks import number_plan
from dinhdanh.telecom.feed import PreparedSubscription, SubscriptionFeed
from dinhdanh.telecom.service import SUBSCRIPTIONS, Telecom, snapshot_name
from dinhdanh.telecom.store_inputs import refresh_snapshots

KIND = "subscriptions"
# Rows per commit of an upload. Each commit rewrites every index page its random keys (the
# owner's blind index, the number) touched; on a table of 10 M rows a commit of 20,000 rows
# touches nearly as many pages as one of 100,000, so 100,000 wrote a 500,000-row upload in
# 38-39 s against 46 s (docs/performance.md). Pass 1 still checks 20,000-row pieces.
UPLOAD_CHUNK_SIZE = 100_000


def import_subscriptions(
    path: Path,
    *,
    carrier: str,
    telecom: Telecom,
    ring: KeyRing,
    unit_of_work: UnitOfWork,
    ctx: AccessContext,
    clock: Callable[[], datetime],
    today: date,
    minor_age: int = 14,
    strict: bool = False,
    chunk_size: int = UPLOAD_CHUNK_SIZE,
    workers: int | None = None,
    spill_dir: Path | None = None,
    progress: Progress | None = None,
    on_reject: OnReject | None = None,
    on_finish: Callable[[Session], None] | None = None,
    snapshots: Path | None = None,
) -> BatchReport:
    """With ``snapshots`` (a directory), the carrier's Parquet snapshot is rewritten after a
    finished upload that changed anything (store.snapshots, ADR 0020)."""
    with unit_of_work() as session:
        code = telecom.carrier(session, carrier).code  # raises UnknownCarrier
        plan = number_plan(session, code)  # the carrier's blocks and ports: what it may upload

    def apply(session: Session, prepared: list[PreparedSubscription], now: datetime) -> Counts:
        return telecom.apply_upload(session, code, prepared, ctx, now)

    report = run_batch(
        path,
        spec=SubscriptionFeed(keyring_to_json(ring), minor_age, plan),
        apply=apply,
        unit_of_work=unit_of_work,
        clock=clock,
        today=today,
        kind=KIND,
        scope=code,
        strict=strict,
        chunk_size=chunk_size,
        workers=workers,
        spill_dir=spill_dir,
        progress=progress,
        table=SUBSCRIPTIONS,
        on_reject=on_reject,
        on_finish=on_finish,
    )
    if snapshots is not None and not report.aborted:
        with unit_of_work() as session:
            engine = session.get_bind().engine
        # Only when stale: an upload that changed nothing leaves the generation, and the file.
        refresh_snapshots(engine, unit_of_work, snapshots, [snapshot_name(code)], [code])
    return report
