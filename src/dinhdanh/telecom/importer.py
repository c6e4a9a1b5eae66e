"""Import of a carrier's subscriber upload (CSV, JSONL or Parquet), with the batch guarantees
of `dinhdanh.store.batch`: idempotent, resumable, atomic per chunk, every rejected row reported.
A carrier uploads only numbers of its own blocks or declared ported to it (telecom.numberplan).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from dinhdanh.analytics.duck import connect
from dinhdanh.crypto import KeyRing, keyring_to_json
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.batch import (
    BatchReport,
    Counts,
    OnReject,
    Progress,
    UnitOfWork,
    gc_paused,
    run_batch,
)
from dinhdanh.store.snapshots import Snapshots, generations
from dinhdanh.telecom.blocks import number_plan
from dinhdanh.telecom.feed import PreparedSubscription, SubscriptionFeed
from dinhdanh.telecom.service import SUBSCRIPTIONS, Telecom, snapshot_name
from dinhdanh.telecom.store_inputs import SNAPSHOT_KEY, SnapshotDelta, refresh_snapshots

log = logging.getLogger(__name__)
KIND = "subscriptions"
# Rows per commit of an upload. Each commit rewrites every index page its random keys (the
# owner's blind index, the number) touched; on a table of 10 M rows a commit of 20,000 rows
# touches nearly as many pages as one of 100,000, so 100,000 wrote a 500,000-row upload in
# 38-39 s against 46 s (docs/performance.md). One commit of 500,000 was no faster through
# the importer (the background checkpointer already overlaps the commits) and held 1.15 GB
# against 0.8. Pass 1 still checks 20,000-row pieces.
UPLOAD_CHUNK_SIZE = 100_000


# Collected once the snapshot's delta is written: run_batch's own collection ran while the
# delta's thread still held the last commit's rows (2 s at 500,000 of them).
@gc_paused()
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
    """With ``snapshots`` (a directory), the carrier's Parquet snapshot is brought up to date
    after a finished upload that changed anything (store.snapshots, ADRs 0020 and 0029): the
    rows it wrote are added over the previous snapshot when nothing else wrote in between,
    else the carrier's rows are copied again."""
    with unit_of_work() as session:
        code = telecom.carrier(session, carrier).code  # raises UnknownCarrier
        plan = number_plan(session, code)  # the carrier's blocks and ports: what it may upload
        base = generations(session, [snapshot_name(code)])[snapshot_name(code)]
    delta = _delta(snapshots, code, base)
    bumps = 0  # the chunks that bumped the snapshot's generation

    def apply(session: Session, prepared: list[PreparedSubscription], now: datetime) -> Counts:
        nonlocal bumps
        written = delta.add if delta is not None else None
        counts = telecom.apply_upload(session, code, prepared, ctx, now, written)
        bumps += 1 if counts.created or counts.updated else 0
        return counts

    try:
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
    except BaseException:
        if delta is not None:
            delta.discard()
        raise
    if snapshots is not None and not report.aborted:
        _snapshot(unit_of_work, snapshots, code, delta, base, bumps)
    elif delta is not None:
        delta.discard()
    return report


def _delta(snapshots: Path | None, code: str, base: int) -> SnapshotDelta | None:
    """Where the upload's rows go for its snapshot: only when there is one to add them to."""
    if snapshots is None:
        return None
    kept, name = Snapshots(snapshots), snapshot_name(code)
    return None if kept.chain(name, base) is None else SnapshotDelta(kept.partial(name))


def _snapshot(
    unit_of_work: UnitOfWork,
    snapshots: Path,
    code: str,
    delta: SnapshotDelta | None,
    base: int,
    bumps: int,
) -> None:
    """The carrier's snapshot after the upload: the delta added when the generation moved by
    this upload's chunks alone (any other writer moved it further), else a copy if stale."""
    name = snapshot_name(code)
    with unit_of_work() as session:
        engine = session.get_bind().engine
        now = generations(session, [name])[name]
    if delta is not None:
        try:
            delta.close()
        except Exception:  # a cache: the rows are stored, the copy below is exact
            log.warning(
                "the snapshot's delta of %s failed; copying the carrier", code, exc_info=True
            )
            bumps = 0
        if bumps and now == base + bumps:
            con = connect()
            try:
                if Snapshots(snapshots).extend(con, name, base, now, delta.path, SNAPSHOT_KEY):
                    return
            finally:
                con.close()
        delta.discard()
    # Only when stale: an upload that changed nothing leaves the generation, and the file.
    refresh_snapshots(engine, unit_of_work, snapshots, [name], [code])
