"""What an RDAP domain or IP lookup sends to the database: statements built once per dialect,
run as plain rows below the ORM (as `social/status_queries.py` does for status reads).

Building a joined select at every lookup cost more CPU than running it (docs/performance.md,
RDAP). On PostgreSQL the candidate block starts are one binary array parameter (``= ANY``),
so the statement text does not vary with their number; SQLite gets ``IN (...)``.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, Executable, Row, Table, any_, bindparam, select
from sqlalchemy.orm import Session

from dinhdanh.internet import models as m
from dinhdanh.store.db import BinaryList

DOMAINS = cast(Table, m.Domain.__table__)
IP_BLOCKS = cast(Table, m.IpBlock.__table__)
ORGANISATIONS = cast(Table, m.Organisation.__table__)
REGISTRARS = cast(Table, m.Registrar.__table__)
ORG_FIELDS = (
    "tax_code",
    "head_tax_code",
    "name",
    "address",
    "status",
    "established",
    "dissolved",
    "rep_id_bidx",
    "updated_at",
)
# An organisation's columns in a joined row, as ``org_<name>`` (service._joined_organisation).
ORG_COLUMNS = tuple(ORGANISATIONS.c[name].label(f"org_{name}") for name in ORG_FIELDS)


def _statements(pg: bool) -> dict[str, Executable]:
    d, b, org = DOMAINS.c, IP_BLOCKS.c, ORGANISATIONS.c
    # Persons' sealed data stays in the table: an anonymous lookup has no use for it.
    domain_columns = [c for c in d if c.name not in ("registrant_sealed", "registrant_id_bidx")]
    starts: ColumnElement[bool]
    if pg:
        starts = b.range_start == any_(bindparam("starts"))
    else:
        starts = b.range_start.in_(bindparam("starts", expanding=True))
    return {
        "domain": select(*domain_columns, REGISTRARS.c.name.label("registrar_name"), *ORG_COLUMNS)
        .join(REGISTRARS, REGISTRARS.c.code == d.registrar)
        .outerjoin(ORGANISATIONS, org.tax_code == d.registrant_tax_code)
        .where(d.ascii_name == bindparam("name")),
        "ip_block": select(IP_BLOCKS, *ORG_COLUMNS)
        .outerjoin(ORGANISATIONS, org.tax_code == b.holder_tax_code)
        .where(
            b.family == bindparam("family"),
            starts,
            b.range_end >= bindparam("end", type_=b.range_end.type),
            b.prefixlen <= bindparam("prefixlen"),
        )
        .order_by(b.prefixlen.desc())
        .limit(1),
    }


_BUILT = {pg: _statements(pg) for pg in (True, False)}


def domain(session: Session, ascii_name: str) -> Row[Any] | None:
    """A domain's row with ``registrar_name`` and its organisation registrant's columns."""
    conn = session.connection()
    stmt = _BUILT[conn.dialect.name == "postgresql"]["domain"]
    return conn.execute(stmt, {"name": ascii_name}).one_or_none()


def ip_block(
    session: Session, family: int, starts: list[bytes], end: bytes, prefixlen: int
) -> Row[Any] | None:
    """The longest block of ``family`` starting at one of ``starts`` that reaches ``end``,
    with its holder's columns."""
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    params = {
        "family": family,
        "starts": BinaryList(starts) if pg else starts,
        "end": end,
        "prefixlen": prefixlen,
    }
    return conn.execute(_BUILT[pg]["ip_block"], params).one_or_none()
