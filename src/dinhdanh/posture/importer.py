"""`dinhdanh posture systems import FILE`: information systems in bulk, through
`dinhdanh.store.batch` (rejects with line and reason, idempotent, resumable, `--strict`
applies nothing when a row is refused).

Columns: agency (tax code), name, level (1-5), endpoints (separated by spaces), and
optionally domains and blocks (separated by spaces). A row is one system, keyed by agency
and name: importing it again with other data brings the stored system in line with it.
The row's own checks are pure (workers); whether its agency is registered and its domains
and blocks are the agency's own is a screen against the register (pass 1), so nothing of a
refused row is ever written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from dinhdanh.internet.checks import digest
from dinhdanh.internet.importer import Run
from dinhdanh.internet.ipindex import CidrError, parse_cidr
from dinhdanh.internet.names import DomainNameError, to_ascii
from dinhdanh.internet.taxcode import TaxCodeError, parse_tax_code
from dinhdanh.posture.errors import PostureError
from dinhdanh.posture.register import LEVELS, MAX_NAME, Register
from dinhdanh.posture.targets import TargetError, belongs, parse_endpoint
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.batch import BatchReport, Counts
from dinhdanh.store.feeds import Reason, Row

COLUMNS = ("agency", "name", "level", "endpoints")


@dataclass(frozen=True, slots=True)
class SystemRecord:
    agency: str
    name: str
    level: int
    endpoints: tuple[str, ...]  # canonical URLs, sorted
    domains: tuple[str, ...]
    blocks: tuple[str, ...]
    digest: bytes = b""

    def canonical(self) -> str:
        parts = (self.agency, self.name, str(self.level), *self.endpoints, "|", *self.domains)
        return "\x1f".join((*parts, "|", *self.blocks))


def _words(row: Row, column: str) -> list[str]:
    return (row.get(column) or "").split()


def check_system(row: Row) -> SystemRecord | list[Reason]:
    reasons: list[Reason] = []
    try:
        agency = parse_tax_code(row.get("agency") or "")
    except TaxCodeError as exc:
        reasons.append(Reason("agency_invalid", str(exc)))
        agency = ""
    name = " ".join((row.get("name") or "").split())
    if not 3 <= len(name) <= MAX_NAME:
        reasons.append(Reason("name_invalid", f"the name must be 3 to {MAX_NAME} characters"))
    raw_level = (row.get("level") or "").strip()
    level = int(raw_level) if raw_level.isdigit() else 0
    if level not in LEVELS:
        reasons.append(Reason("level_invalid", "the security level must be 1 to 5"))
    domains, blocks = set(), set()
    for raw in _words(row, "domains"):
        try:
            domains.add(to_ascii(raw)[0])
        except DomainNameError as exc:
            reasons.append(Reason("domain_invalid", f"{raw}: {exc}"))
    for raw in _words(row, "blocks"):
        try:
            blocks.add(str(parse_cidr(raw)))
        except CidrError as exc:
            reasons.append(Reason("block_invalid", f"{raw}: {exc}"))
    endpoints = set()
    for raw in _words(row, "endpoints"):
        try:
            target = parse_endpoint(raw)
        except TargetError as exc:
            reasons.append(Reason("endpoint_invalid", f"{raw}: {exc}"))
            continue
        if not belongs(target, sorted(domains), sorted(blocks)):
            why = f"{target.url} is under none of the row's domains or blocks"
            reasons.append(Reason("endpoint_outside", why))
        endpoints.add(target.url)
    if not endpoints and not any(r.code == "endpoint_invalid" for r in reasons):
        reasons.append(Reason("endpoints_missing", "a system exposes at least one endpoint"))
    if reasons:
        return reasons
    return SystemRecord(
        agency, name, level, tuple(sorted(endpoints)), tuple(sorted(domains)), tuple(sorted(blocks))
    )


@dataclass
class SystemFeed:
    columns: tuple[str, ...] = COLUMNS
    label: str = "name"

    def check(self, row: Row, _today: date) -> SystemRecord | list[Reason]:
        return check_system(row)

    def key(self, record: SystemRecord) -> str:
        return f"{record.agency}/{record.name}"

    def fingerprint(self, prepared: SystemRecord) -> bytes:
        return prepared.digest

    def prepare(self, records: list[SystemRecord]) -> list[SystemRecord]:
        return [
            SystemRecord(
                r.agency, r.name, r.level, r.endpoints, r.domains, r.blocks, digest(r.canonical())
            )
            for r in records
        ]


def import_systems(path: Path, *, register: Register, ctx: AccessContext, run: Run) -> BatchReport:
    def screen(items: list[tuple[int, int | str, SystemRecord]]) -> dict[int, tuple[Reason]]:
        refused: dict[int, tuple[Reason]] = {}
        with run.unit_of_work() as session:
            for line, _, r in items:
                try:
                    register.check_owned(session, r.agency, r.domains, r.blocks)
                except PostureError as exc:
                    refused[line] = (Reason(exc.code, str(exc)),)
        return refused

    def apply(session: Session, prepared: list[SystemRecord], now: datetime) -> Counts:
        counts = Counts()
        for r in prepared:
            outcome = register.put_system(
                session, r.agency, r.name, r.level, endpoints=r.endpoints, domains=r.domains,
                blocks=r.blocks, by=ctx, now=now,
            )  # fmt: skip
            setattr(counts, outcome, getattr(counts, outcome) + 1)
        return counts

    return run.batch(path, spec=SystemFeed(), apply=apply, kind="posture_systems", screen=screen)
