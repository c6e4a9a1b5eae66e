"""The known-exploited catalogue in the database: imported whole from a file in CISA KEV's
JSON format (idempotent: entries are upserted by CVE id), read by the scanner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.posture import models as m
from dinhdanh.posture.checks.kev import KevEntry, parse_catalogue


def import_catalogue(session: Session, data: object) -> tuple[int, int]:
    """(created, updated). Raises ValueError on a document not in KEV's format; nothing is
    stored then."""
    entries = parse_catalogue(data)
    created = updated = 0
    for e in entries:
        row = session.get(m.KnownExploited, e.cve_id)
        values = {
            "vendor": e.vendor[:200],
            "product": e.product[:200],
            "name": e.name,
            "description": e.description,
            "date_added": e.date_added,
        }
        if row is None:
            session.add(m.KnownExploited(cve_id=e.cve_id, **values))
            created += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updated += 1
    session.flush()
    return created, updated


def catalogue(session: Session) -> list[KevEntry]:
    rows = session.scalars(select(m.KnownExploited).order_by(m.KnownExploited.cve_id))
    return [
        KevEntry(r.cve_id, r.vendor, r.product, r.name, r.description, r.date_added) for r in rows
    ]
