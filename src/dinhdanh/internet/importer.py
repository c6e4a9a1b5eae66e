"""The internet feeds through `dinhdanh.store.batch`: rejects with line and reason,
idempotent, resumable, never half a chunk applied.

Two checks need more than the row: a name another registrar holds, and a block that overlaps
another holder's. Both are batch screens (pass 1, main process): against what is stored, and
against the rows before them in the file, so ``strict`` still applies nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from ipaddress import ip_network
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing, keyring_to_json
from dinhdanh.internet.domains import DomainFeed, PreparedDomain
from dinhdanh.internet.organisations import OrganisationFeed, PreparedOrganisation
from dinhdanh.internet.resources import AsnFeed, IpBlockFeed, PreparedAsn, PreparedIpBlock
from dinhdanh.internet.service import DOMAINS, ORGANISATIONS, Internet
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
from dinhdanh.store.feeds import Reason

HELD_ELSEWHERE = Reason("domain_held_elsewhere", "another registrar holds this name")


@dataclass(frozen=True, slots=True)
class Run:
    """What every import takes besides its file: the database, the clock, the options."""

    unit_of_work: UnitOfWork
    clock: Callable[[], datetime]
    today: date
    strict: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    workers: int | None = None
    spill_dir: Path | None = None
    progress: Progress | None = None
    on_reject: OnReject | None = None
    on_finish: Callable[[Session], None] | None = None

    def batch(self, path: Path, **kw: Any) -> BatchReport:
        return run_batch(
            path,
            unit_of_work=self.unit_of_work,
            clock=self.clock,
            today=self.today,
            strict=self.strict,
            chunk_size=self.chunk_size,
            workers=self.workers,
            spill_dir=self.spill_dir,
            progress=self.progress,
            on_reject=self.on_reject,
            on_finish=self.on_finish,
            **kw,
        )


def import_organisations(
    path: Path, *, internet: Internet, ring: KeyRing, ctx: AccessContext, run: Run
) -> BatchReport:
    def apply(session: Session, prepared: list[PreparedOrganisation], now: datetime) -> Counts:
        return internet.apply_organisations(session, prepared, ctx, now)

    return run.batch(
        path,
        spec=OrganisationFeed(keyring_to_json(ring)),
        apply=apply,
        kind="organisations",
        table=ORGANISATIONS,
    )


def import_domains(
    path: Path,
    *,
    registrar: str,
    internet: Internet,
    ring: KeyRing,
    ctx: AccessContext,
    run: Run,
    minor_age: int = 18,
) -> BatchReport:
    """A registrar's upload. Raises UnknownRegistrar."""
    with run.unit_of_work() as session:
        code = internet.registrar(session, registrar).code

    def screen(items: list[tuple[int, int | str, PreparedDomain]]) -> dict[int, tuple[Reason]]:
        with run.unit_of_work() as session:
            taken = internet.held_elsewhere(session, code, [str(key) for _, key, _ in items])
        return {line: (HELD_ELSEWHERE,) for line, key, _ in items if key in taken}

    def apply(session: Session, prepared: list[PreparedDomain], now: datetime) -> Counts:
        return internet.apply_domains(session, code, prepared, ctx, now)

    return run.batch(
        path,
        spec=DomainFeed(keyring_to_json(ring), minor_age),
        apply=apply,
        kind="domains",
        scope=code,
        table=DOMAINS,
        screen=screen,
    )


def import_ip_blocks(path: Path, *, internet: Internet, run: Run) -> BatchReport:
    """IP blocks; one overlapping another holder's block (stored, or earlier in the file)
    is rejected with ``ip_overlap``. A holder's sub-allocation in its own block is fine. A
    block another import stored meanwhile stops the chunk (``Internet.apply_ip_blocks``)."""
    with run.unit_of_work() as session:
        seen = internet.blocks_generation(session)  # read first: a later write moves it
        index = internet.prefix_index(session)

    def screen(items: list[tuple[int, int | str, PreparedIpBlock]]) -> dict[int, tuple[Reason]]:
        refused: dict[int, tuple[Reason]] = {}
        for line, _, p in items:
            net = ip_network(p.cidr)
            clash = index.conflict(net, p.holder_tax_code)
            if clash is None:
                index.add(net, p.holder_tax_code)
                continue
            other, holder = clash
            refused[line] = (Reason("ip_overlap", f"overlaps {other} of holder {holder}"),)
        return refused

    def apply(session: Session, prepared: list[PreparedIpBlock], now: datetime) -> Counts:
        nonlocal seen
        counts, seen = internet.apply_ip_blocks(session, prepared, now, seen)
        return counts

    return run.batch(path, spec=IpBlockFeed(), apply=apply, kind="ip_blocks", screen=screen)


def import_asns(path: Path, *, internet: Internet, run: Run) -> BatchReport:
    def apply(session: Session, prepared: list[PreparedAsn], now: datetime) -> Counts:
        return internet.apply_asns(session, prepared, now)

    return run.batch(path, spec=AsnFeed(), apply=apply, kind="asns")
