"""Use cases of carriers' number blocks and declared ports (``telecom.numberplan``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.telecom import models as m
from dinhdanh.telecom.msisdn import CARRIERS, MsisdnError, normalize_msisdn
from dinhdanh.telecom.numberplan import NumberPlan, valid_prefix


class BlockError(DomainError):
    code, status, title = "invalid_block", 400, "Invalid number block"


class BlockTaken(BlockError):
    code, status, title = "block_taken", 409, "The block belongs to another carrier"


def add_blocks(session: Session, carrier: str, prefixes: Iterable[str], now: datetime) -> list[str]:
    """Give the carrier these blocks; returns the ones that are new. A block another carrier
    holds is refused: move it by removing it there first (nothing is taken silently)."""
    added = []
    for raw in prefixes:
        prefix = raw.strip().removeprefix("+84").removeprefix("0")
        if not valid_prefix(prefix):
            raise BlockError(f"a block is 1-9 digits of the national number, not {raw!r}")
        row = session.get(m.CarrierRange, prefix)
        if row is not None and row.carrier != carrier:
            raise BlockTaken(f"block {prefix} belongs to {row.carrier}")
        if row is None:
            session.add(m.CarrierRange(prefix=prefix, carrier=carrier, created_at=now))
            session.flush()
            added.append(prefix)
    return added


def seed_plan_blocks(session: Session, carrier: str, now: datetime) -> list[str]:
    """The public numbering plan's blocks of a carrier with a plan code, where still free."""
    plan = CARRIERS.get(carrier)
    if plan is None:
        return []
    free = [p for p in plan.prefixes if session.get(m.CarrierRange, p) is None]
    return add_blocks(session, carrier, free, now)


def remove_blocks(session: Session, carrier: str, prefixes: Iterable[str]) -> int:
    removed = 0
    for prefix in prefixes:
        row = session.get(m.CarrierRange, prefix.strip())
        if row is not None and row.carrier == carrier:
            session.delete(row)
            removed += 1
    return removed


def blocks(session: Session, carrier: str | None = None) -> list[tuple[str, str]]:
    """(prefix, carrier), by carrier then prefix."""
    stmt = select(m.CarrierRange.prefix, m.CarrierRange.carrier).order_by(
        m.CarrierRange.carrier, m.CarrierRange.prefix
    )
    if carrier is not None:
        stmt = stmt.where(m.CarrierRange.carrier == carrier)
    return [(p, c) for p, c in session.execute(stmt)]


def declare_ports(session: Session, carrier: str, numbers: Iterable[str], now: datetime) -> int:
    """Numbers ported in to the carrier (a number is ported to one carrier at a time: a later
    declaration by another carrier moves it). Returns how many changed."""
    changed = 0
    for raw in numbers:
        try:
            msisdn = normalize_msisdn(raw)
        except MsisdnError as exc:
            raise BlockError(f"a ported number: {exc}") from None
        row = session.get(m.PortedNumber, msisdn)
        if row is None:
            session.add(m.PortedNumber(msisdn=msisdn, carrier=carrier, declared_at=now))
            session.flush()
        elif row.carrier != carrier:
            row.carrier, row.declared_at = carrier, now
        else:
            continue
        changed += 1
    return changed


def ports(session: Session, carrier: str) -> list[str]:
    stmt = select(m.PortedNumber.msisdn).where(m.PortedNumber.carrier == carrier)
    return list(session.scalars(stmt.order_by(m.PortedNumber.msisdn)))


def number_plan(session: Session, carrier: str) -> NumberPlan:
    return NumberPlan.of(carrier, blocks(session), ports(session, carrier))
