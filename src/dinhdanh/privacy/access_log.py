"""What a citizen is shown of the accesses to their data, and from when.

Every audit entry whose subject is the citizen is theirs to read, newest first, except an
entry whose disclosure delay has not ended: an investigation under a configured legal basis
may keep its reads secret for a bounded time (DESIGN.md, "Re-identification"). The delay is
part of the entry's hash (privacy.audit), so it cannot be extended afterwards unnoticed.

The citizen sees who (organisation and role), on what legal basis, which fields and what
action; not the purpose text nor the case reference, which are the authority's internal file
(docs/architecture.md, "The citizen's access log").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.privacy.models import AuditEntry

MAX_PAGE = 100


class DisclosureDelayRefused(DomainError):
    code, status, title = "disclosure_delay_refused", 400, "Disclosure delay refused"


def disclose_after(
    legal_basis: str | None,
    days: int | None,
    now: datetime,
    *,
    bases: Collection[str],
    max_days: int,
) -> datetime | None:
    """When the citizen may see a read that asks for a delay of `days` (None: at once).

    Only reads under one of `bases` may ask, for 1 to `max_days` days.
    """
    if days is None:
        return None
    if legal_basis not in bases:
        allowed = ", ".join(bases) or "none"
        raise DisclosureDelayRefused(f"only a read under these legal bases may delay: {allowed}")
    if not 1 <= days <= max_days:
        raise DisclosureDelayRefused(f"a disclosure delay is 1 to {max_days} days")
    return now + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class AccessItem:
    seq: int
    at: datetime
    organisation: str | None
    role: str
    legal_basis: str | None
    action: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccessPage:
    items: list[AccessItem]
    next_cursor: int | None  # pass as `before` for the next (older) page


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _organisation(entry: AuditEntry) -> str | None:
    if entry.organisation:
        return entry.organisation
    # Entries without one: an API key's actor is "apikey:<id>:<name>", the name its holder's.
    kind, _, rest = entry.actor.partition(":")
    if kind != "apikey":
        return None
    return rest.partition(":")[2] or None


def _legal_basis(entry: AuditEntry, known: Collection[str]) -> str | None:
    if entry.legal_basis:
        return entry.legal_basis
    # Format-1 officer reads carry it as the purpose's prefix ("court_order: case 12").
    prefix, sep, _ = entry.purpose.partition(":")
    return prefix if sep and prefix in known else None


def access_log(
    session: Session,
    subject: str,
    now: datetime,
    *,
    before: int | None = None,
    limit: int = 20,
    legal_bases: Collection[str] = (),
) -> AccessPage:
    """One page of the entries about `subject` that are disclosed at `now`, newest first.

    The cursor is the sequence number, so pages stay stable while new entries arrive.
    """
    limit = max(1, min(limit, MAX_PAGE))
    now = now.astimezone(UTC)  # SQLite compares the stored UTC wall time as text
    stmt = (
        select(AuditEntry)
        .where(
            AuditEntry.subject == subject,
            or_(AuditEntry.disclose_after.is_(None), AuditEntry.disclose_after <= now),
        )
        .order_by(AuditEntry.seq.desc())
        .limit(limit + 1)
    )
    if before is not None:
        stmt = stmt.where(AuditEntry.seq < before)
    rows = list(session.scalars(stmt))
    items = [
        AccessItem(
            seq=e.seq,
            at=_utc(e.at),
            organisation=_organisation(e),
            role=e.role,
            legal_basis=_legal_basis(e, legal_bases),
            action=e.action,
            fields=tuple(f for f in e.fields.split(",") if f),
        )
        for e in rows[:limit]
    ]
    return AccessPage(items, items[-1].seq if len(rows) > limit else None)
