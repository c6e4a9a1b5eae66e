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
    DEFAULT_CHUNK_SIZE,
    BatchReport,
    Counts,
    OnReject,
    Progress,
    UnitOfWork,
    run_batch,
)
from dinhdanh.telecom.blocks import number_plan
from dinhdanh.telecom.feed import PreparedSubscription, SubscriptionFeed
from dinhdanh.telecom.service import SUBSCRIPTIONS, Telecom

KIND = "subscriptions"


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
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int | None = None,
    spill_dir: Path | None = None,
    progress: Progress | None = None,
    on_reject: OnReject | None = None,
    on_finish: Callable[[Session], None] | None = None,
) -> BatchReport:
    with unit_of_work() as session:
        code = telecom.carrier(session, carrier).code  # raises UnknownCarrier
        plan = number_plan(session, code)  # the carrier's blocks and ports: what it may upload

    def apply(session: Session, prepared: list[PreparedSubscription], now: datetime) -> Counts:
        return telecom.apply_upload(session, code, prepared, ctx, now)

    return run_batch(
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
