"""Internet-resource use cases: registrars, storing the feeds, and the reads RDAP builds on.

Lookups answer views (dataclasses), never rows. Reading a person's stated registration data
(a domain's registrant, an organisation's legal representative) opens a sealed value and is
audited, under the citizen's subject when the registry knows them, so it shows in their
"Who used my data"; everything else is public and read without an entry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from ipaddress import ip_address
from typing import Any, NamedTuple

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from dinhdanh.crypto import KeyRing, open_sealed
from dinhdanh.identity.service import Registry, Subject
from dinhdanh.internet import actions, rdap_queries
from dinhdanh.internet import models as m
from dinhdanh.internet.answer_cache import GENERATION
from dinhdanh.internet.domains import PreparedDomain, open_person
from dinhdanh.internet.errors import (
    BlockTakenMeanwhile,
    DomainHeldElsewhere,
    InternetError,
    NotYourDomain,
    NotYourRegistrar,
    RegistrarExists,
    UnknownRegistrar,
)
from dinhdanh.internet.ipindex import (
    Address,
    Network,
    PrefixIndex,
    ancestor_starts,
    as_network,
    bounds,
    parse_cidr,
)
from dinhdanh.internet.names import DomainNameError, to_ascii
from dinhdanh.internet.organisations import PreparedOrganisation, rep_context
from dinhdanh.internet.resources import PreparedAsn, PreparedIpBlock
from dinhdanh.internet.rules import Reason
from dinhdanh.internet.taxcode import TaxCodeError, parse_tax_code
from dinhdanh.privacy.access import Principal, create_api_key
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.privacy.roles import Role
from dinhdanh.store.batch import Counts
from dinhdanh.store.bulk import insert_rows, lookup
from dinhdanh.store.ids import uuid7s
from dinhdanh.store.snapshots import bump, generations

ORGANISATIONS: Table = m.Organisation.__table__  # type: ignore[assignment]
DOMAINS: Table = m.Domain.__table__  # type: ignore[assignment]
IP_BLOCKS: Table = m.IpBlock.__table__  # type: ignore[assignment]
ASNS: Table = m.AutNum.__table__  # type: ignore[assignment]
# The IP blocks' write counter (store.snapshots' table): an import checks its blocks against
# those stored at one generation, and rechecks a chunk only when another writer moved it.
BLOCKS = "ipblocks"
LOADED_TABLES = (ORGANISATIONS, DOMAINS)  # bulk-loaded: indexes may be built afterwards
REGISTRAR_CODE = re.compile(r"[A-Z0-9_-]{2,16}")
REGISTRANT_FIELDS = ("id_number", "full_name", "date_of_birth")
LEGAL_REP_FIELDS = ("legal_rep_id_number",)


@dataclass(frozen=True, slots=True)
class OrganisationView:
    tax_code: str
    head_tax_code: str
    name: str
    address: str | None
    status: str
    established: date | None
    dissolved: date | None
    has_legal_rep: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DomainView:
    id: str
    ascii_name: str
    unicode_name: str
    suffix: str
    registrar: str
    registrant_type: str  # person | organisation
    registrant_tax_code: str | None  # organisations
    registrant_name: str | None  # organisations (a person's is sealed: open_registrant)
    registrant_minor: bool | None  # persons: under the minor age when registered
    created: date
    expires: date
    nameservers: tuple[str, ...]
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MyDomain:
    """A name registered to a citizen, as their "My internet resources" page shows it."""

    domain: DomainView
    disowned: bool


@dataclass(frozen=True, slots=True)
class PersonRegistrant:
    """A person registrant as the registrar stated them, and who the registry says it is."""

    id_number: str
    full_name: str
    date_of_birth: date
    subject: Subject | None  # None: the registry has no such ID number


@dataclass(frozen=True, slots=True)
class IpBlockView:
    cidr: str
    family: int
    prefixlen: int
    first_address: str
    last_address: str
    holder_tax_code: str
    asn: int | None
    allocated: date | None
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AsnView:
    asn: int
    holder_tax_code: str
    name: str
    allocated: date | None
    status: str
    updated_at: datetime


def _organisation(row: m.Organisation) -> OrganisationView:
    return OrganisationView(
        row.tax_code,
        row.head_tax_code,
        row.name,
        row.address,
        row.status,
        row.established,
        row.dissolved,
        row.rep_id_bidx is not None,
        row.updated_at,
    )


def _joined_organisation(row: Any) -> OrganisationView | None:
    """The organisation columns of a joined row (``rdap_queries.ORG_COLUMNS``); None when
    unmatched."""
    if row.org_tax_code is None:
        return None
    return OrganisationView(
        row.org_tax_code,
        row.org_head_tax_code,
        row.org_name,
        row.org_address,
        row.org_status,
        row.org_established,
        row.org_dissolved,
        row.org_rep_id_bidx is not None,
        row.org_updated_at,
    )


def _domain(row: Any) -> DomainView:  # an entity or a Core row: the same attributes
    return DomainView(
        row.id,
        row.ascii_name,
        row.unicode_name,
        row.suffix,
        row.registrar,
        row.registrant_type,
        row.registrant_tax_code,
        row.registrant_name,
        None if row.registrant_minor is None else bool(row.registrant_minor),
        row.created,
        row.expires,
        tuple(row.nameservers.split()),
        row.status,
        row.updated_at,
    )


def _ip_block(row: Any) -> IpBlockView:
    net = parse_cidr(row.cidr)
    return IpBlockView(
        row.cidr,
        row.family,
        row.prefixlen,
        str(net.network_address),
        str(net.broadcast_address),
        row.holder_tax_code,
        row.asn,
        row.allocated,
        row.status,
        row.updated_at,
    )


def _asn(row: m.AutNum) -> AsnView:
    return AsnView(
        row.asn, row.holder_tax_code, row.name, row.allocated, row.status, row.updated_at
    )


def own(who: Principal, registrar: str) -> str:
    """The registrar code a key may act for: its own (a registrar key) or any (admin)."""
    code = registrar.strip().upper()
    if who.role is Role.ADMIN or (who.role is Role.REGISTRAR and who.scope == code):
        return code
    raise NotYourRegistrar("this key cannot act for that registrar")


def _changed(session: Session, counts: Counts) -> Counts:
    """Bump the ``rdap`` generation (the servers' kept answers) when a chunk changed rows."""
    if counts.created or counts.updated:
        bump(session, GENERATION)
    return counts


def _upsert(
    session: Session,
    model: Any,
    key: str,
    rows: Sequence[NamedTuple],
    now: datetime,
    *,
    where: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[Counts, list[Any]]:
    """Insert new keys, update changed ones (same digest: untouched). Tables with an ``id``
    column get a UUIDv7 for each new row. Returns the counts and the rows inserted."""
    counts = Counts()
    if not rows:
        return counts, []
    table: Table = model.__table__
    keys = [getattr(p, key) for p in rows]
    existing = lookup(session, table, key, "digest", keys, where=where)
    fresh = [p for p in rows if getattr(p, key) not in existing]
    changed = [p for p in rows if existing.get(getattr(p, key), p.digest) != p.digest]  # type: ignore[attr-defined]
    counts.created, counts.updated = len(fresh), len(changed)
    counts.unchanged = len(rows) - len(fresh) - len(changed)
    fixed = dict(extra or {})
    columns = (*fixed, *rows[0]._fields)
    values = [(*fixed.values(), *p) for p in fresh]
    if "id" in table.c:
        columns = ("id", *columns)
        values = [(i, *v) for i, v in zip(uuid7s(len(values), now), values, strict=True)]
    insert_rows(session, table, columns, values, constants={"created_at": now, "updated_at": now})
    if changed:
        ids: dict[Any, Any] = {}
        if "id" in table.c:
            ids = lookup(session, table, key, "id", [getattr(p, key) for p in changed], where=where)
        session.execute(
            update(model),
            [
                ({"id": ids[getattr(p, key)]} if ids else {}) | {"updated_at": now} | p._asdict()
                for p in changed
            ],
        )
    return counts, fresh


class Internet:
    def __init__(self, ring: KeyRing, registry: Registry, audit: AuditLog) -> None:
        self._ring = ring
        self._registry = registry
        self._audit = audit

    # -- registrars --
    def add_registrar(self, session: Session, code: str, name: str, now: datetime) -> m.Registrar:
        code = code.strip().upper()
        if not REGISTRAR_CODE.fullmatch(code):
            raise InternetError("a registrar code is 2-16 letters, digits, '_' or '-'")
        if not name.strip():
            raise InternetError("a registrar needs a name")
        if session.get(m.Registrar, code) is not None:
            raise RegistrarExists(f"registrar {code} exists")
        registrar = m.Registrar(code=code, name=name.strip()[:200], created_at=now)
        session.add(registrar)
        session.flush()
        return registrar

    def issue_key(self, session: Session, code: str, now: datetime) -> tuple[str, str]:
        """(key id, token) of a new API key of the registrar: role ``registrar``, scope its
        code, so it reaches that registrar's routes only (`own`)."""
        registrar = self.registrar(session, code)
        return create_api_key(
            session,
            f"registrar {registrar.code}",
            Role.REGISTRAR,
            now,
            scope=registrar.code,
            owner=registrar.code,
        )

    def registrar(self, session: Session, code: str) -> m.Registrar:
        registrar = session.get(m.Registrar, code.strip().upper())
        if registrar is None:
            raise UnknownRegistrar(f"no registrar {code}")
        return registrar

    def find_registrar(self, session: Session, code: str) -> m.Registrar | None:
        return session.get(m.Registrar, code.strip().upper()[:16])

    def registrars(self, session: Session) -> list[m.Registrar]:
        return list(session.scalars(select(m.Registrar).order_by(m.Registrar.code)))

    # -- storing the feeds (one chunk each call; the batch runner commits) --
    def apply_organisations(
        self,
        session: Session,
        prepared: Sequence[PreparedOrganisation],
        ctx: AccessContext,
        now: datetime,
    ) -> Counts:
        counts, _ = _upsert(session, m.Organisation, "tax_code", prepared, now)
        if counts.created or counts.updated:
            bump(session, GENERATION)  # RDAP answers kept by the servers are out of date
            # One entry per chunk: the feed stores a blind index and a sealed number.
            self._audit.append(session, [ctx.event("import", None, LEGAL_REP_FIELDS)], now)
        return counts

    def held_elsewhere(self, session: Session, registrar: str, names: list[str]) -> set[str]:
        """Which of these A-label names another registrar holds."""
        owners = lookup(session, DOMAINS, "ascii_name", "registrar", names)
        return {name for name, owner in owners.items() if owner != registrar}

    def apply_domains(
        self,
        session: Session,
        registrar: str,
        prepared: Sequence[PreparedDomain],
        ctx: AccessContext,
        now: datetime,
    ) -> Counts:
        """Store one chunk of a registrar's upload. A name another registrar took since the
        upload was validated stops the chunk (DomainHeldElsewhere): nothing of it is applied."""
        taken = self.held_elsewhere(session, registrar, [p.ascii_name for p in prepared])
        if taken:
            raise DomainHeldElsewhere(f"{sorted(taken)[0]} is held by another registrar")
        counts, _ = _upsert(
            session,
            m.Domain,
            "ascii_name",
            prepared,
            now,
            where={"registrar": registrar},
            extra={"registrar": registrar},
        )
        if counts.created or counts.updated:
            bump(session, GENERATION)
            self._audit.append(session, [ctx.event("upload", None, REGISTRANT_FIELDS)], now)
        return counts

    def blocks_generation(self, session: Session) -> int:
        """How many times blocks were written: what an import's overlap screen was made at."""
        return generations(session, [BLOCKS])[BLOCKS]

    def apply_ip_blocks(
        self, session: Session, prepared: Sequence[PreparedIpBlock], now: datetime, seen: int
    ) -> tuple[Counts, int]:
        """Store one chunk of blocks screened against the blocks of generation ``seen``;
        returns the counts and the generation the chunk leaves behind.

        The counter is taken first and held to commit, so writers of blocks take turns. When
        another import wrote blocks since ``seen``, the chunk is checked again against what is
        stored now: a block overlapping another holder's stops it (BlockTakenMeanwhile) and
        nothing of it is applied."""
        if not prepared:
            return Counts(), seen
        bump(session, BLOCKS)
        current = self.blocks_generation(session)
        if current != seen + 1:
            stored = self.prefix_index(session)
            for p in prepared:
                clash = stored.conflict(parse_cidr(p.cidr), p.holder_tax_code)
                if clash is not None:
                    other, holder = clash
                    raise BlockTakenMeanwhile(
                        f"{p.cidr} overlaps {other} of holder {holder}, stored by another "
                        "import since this one was checked; run it again to resume"
                    )
        counts = _upsert(session, m.IpBlock, "cidr", prepared, now)[0]
        return _changed(session, counts), current

    def apply_asns(
        self, session: Session, prepared: Sequence[PreparedAsn], now: datetime
    ) -> Counts:
        return _changed(session, _upsert(session, m.AutNum, "asn", prepared, now)[0])

    def prefix_index(self, session: Session) -> PrefixIndex:
        """Every stored block and its holder, in memory (an import's overlap checks)."""
        index = PrefixIndex()
        for cidr, holder in session.execute(select(m.IpBlock.cidr, m.IpBlock.holder_tax_code)):
            index.add(parse_cidr(cidr), holder)
        return index

    # -- organisations --
    def organisation(self, session: Session, tax_code: str) -> OrganisationView | None:
        """By tax code in any written form; None when unknown or not a tax code."""
        try:
            code = parse_tax_code(tax_code)
        except TaxCodeError:
            return None
        row = session.get(m.Organisation, code)
        return None if row is None else _organisation(row)

    def branches(self, session: Session, tax_code: str) -> list[OrganisationView]:
        """The branches (13-digit codes) of an enterprise."""
        stmt = (
            select(m.Organisation)
            .where(m.Organisation.head_tax_code == tax_code[:10])
            .where(m.Organisation.tax_code != tax_code[:10])
            .order_by(m.Organisation.tax_code)
        )
        return [_organisation(r) for r in session.scalars(stmt)]

    def legal_representative(self, session: Session, tax_code: str) -> Subject | None:
        """The citizen the registry knows as the legal representative (by blind index:
        nothing opened, nothing audited); None if none stated or the registry has no one."""
        bidx = session.scalar(
            select(m.Organisation.rep_id_bidx).where(m.Organisation.tax_code == tax_code)
        )
        return None if bidx is None else self._registry.subject_by_index(session, bidx)

    def open_legal_rep(
        self, session: Session, tax_code: str, ctx: AccessContext, now: datetime
    ) -> str | None:
        """The representative's ID number as the business registry stated it; audited."""
        row = session.get(m.Organisation, tax_code)
        if row is None or row.rep_sealed is None or row.rep_id_bidx is None:
            return None
        subject = self._registry.subject_by_index(session, row.rep_id_bidx)
        who = subject.subject_id if subject else None
        self._audit.append(session, [ctx.event("read", who, LEGAL_REP_FIELDS)], now)
        return open_sealed(self._ring, row.rep_sealed, rep_context(row.tax_code)).decode()

    def organisations_represented(self, session: Session, id_bidx: bytes) -> list[str]:
        """Tax codes of the organisations this ID blind index represents."""
        stmt = select(m.Organisation.tax_code).where(m.Organisation.rep_id_bidx == id_bidx)
        return list(session.scalars(stmt.order_by(m.Organisation.tax_code)))

    # -- domains --
    def domain(self, session: Session, name: str) -> DomainView | None:
        """By name in U-label or A-label form (any case, UTS 46 mapped); None when it is not
        registered or not a valid name."""
        try:
            ascii_name, _ = to_ascii(name)
        except DomainNameError:
            return None
        row = session.scalar(select(m.Domain).where(m.Domain.ascii_name == ascii_name))
        return None if row is None else _domain(row)

    def domain_by_id(self, session: Session, domain_id: str) -> DomainView | None:
        row = session.get(m.Domain, domain_id[:36])
        return None if row is None else _domain(row)

    def domain_for_rdap(
        self, session: Session, ascii_name: str
    ) -> tuple[DomainView, str, OrganisationView | None] | None:
        """A domain by its A-label name as ``to_ascii`` gives it, its registrar's name and its
        organisation registrant (if the business registry lists it) in one statement: RDAP's
        hot path, where the caller has already mapped the name (``names.ascii_form``)."""
        row = rdap_queries.domain(session, ascii_name)
        if row is None:
            return None
        return _domain(row), row.registrar_name, _joined_organisation(row)

    def domains_of_registrar(
        self, session: Session, registrar: str, after: str = "", limit: int = 100
    ) -> list[DomainView]:
        """A registrar's names in A-label order, after ``after`` (paging)."""
        stmt = (
            select(m.Domain)
            .where(m.Domain.registrar == registrar, m.Domain.ascii_name > after)
            .order_by(m.Domain.ascii_name)
            .limit(limit)
        )
        return [_domain(r) for r in session.scalars(stmt)]

    def search_domains(
        self, session: Session, prefix: str, suffix: str, after: str = "", limit: int = 50
    ) -> list[DomainView]:
        """Names whose U-label form starts with ``prefix`` (no LIKE wildcards in it: the
        caller checks) and, if given, whose public suffix is ``suffix`` (A-labels), in A-label
        order after ``after`` (paging)."""
        stmt = select(m.Domain).where(
            m.Domain.unicode_name.like(prefix + "%"), m.Domain.ascii_name > after
        )
        if suffix:
            stmt = stmt.where(m.Domain.suffix == suffix)
        stmt = stmt.order_by(m.Domain.ascii_name).limit(limit)
        return [_domain(r) for r in session.scalars(stmt)]

    def domains_of_person(self, session: Session, id_bidx: bytes) -> list[DomainView]:
        """Names registered to this ID blind index (the citizen's own page)."""
        stmt = select(m.Domain).where(m.Domain.registrant_id_bidx == id_bidx)
        return [_domain(r) for r in session.scalars(stmt.order_by(m.Domain.ascii_name))]

    def domains_of_organisation(self, session: Session, tax_code: str) -> list[DomainView]:
        stmt = select(m.Domain).where(m.Domain.registrant_tax_code == tax_code)
        return [_domain(r) for r in session.scalars(stmt.order_by(m.Domain.ascii_name))]

    def registrant_subject(self, session: Session, domain_id: str) -> Subject | None:
        """The citizen a person registrant's stated ID number belongs to (blind index)."""
        bidx = session.scalar(select(m.Domain.registrant_id_bidx).where(m.Domain.id == domain_id))
        return None if bidx is None else self._registry.subject_by_index(session, bidx)

    def open_registrant(
        self, session: Session, domain_id: str, ctx: AccessContext, now: datetime
    ) -> PersonRegistrant | None:
        """A person registrant's stated ID number, name and birth date; audited under the
        citizen's subject (or none, when the registry does not know the number). None for
        an organisation registrant or an unknown domain."""
        row = session.get(m.Domain, domain_id)
        if row is None or row.registrant_sealed is None or row.registrant_id_bidx is None:
            return None
        subject = self._registry.subject_by_index(session, row.registrant_id_bidx)
        who = subject.subject_id if subject else None
        self._audit.append(session, [ctx.event("read", who, REGISTRANT_FIELDS)], now)
        id_number, name, dob = open_person(self._ring, row.ascii_name, row.registrant_sealed)
        return PersonRegistrant(id_number, name, dob, subject)

    # -- numbers --
    def ip_block(self, session: Session, target: str | Address | Network) -> IpBlockView | None:
        """The most specific block holding an address or a whole block (RDAP ip lookup):
        one indexed probe per distinct supernet start (internet/ipindex.py)."""
        if isinstance(target, str):
            text = target.strip()
            try:
                target = parse_cidr(text) if "/" in text else ip_address(text)
            except ValueError:
                return None
        net = as_network(target)
        b = bounds(net)
        stmt = (
            select(m.IpBlock)
            .where(
                m.IpBlock.family == b.family,
                m.IpBlock.range_start.in_(ancestor_starts(net)),
                m.IpBlock.range_end >= b.end,
                m.IpBlock.prefixlen <= net.prefixlen,
            )
            .order_by(m.IpBlock.prefixlen.desc())
            .limit(1)
        )
        row = session.scalar(stmt)
        return None if row is None else _ip_block(row)

    def ip_block_for_rdap(
        self, session: Session, target: Address | Network
    ) -> tuple[IpBlockView, OrganisationView | None] | None:
        """``ip_block`` and the holder, in one statement: RDAP's hot path."""
        net = as_network(target)
        b = bounds(net)
        row = rdap_queries.ip_block(session, b.family, ancestor_starts(net), b.end, net.prefixlen)
        return None if row is None else (_ip_block(row), _joined_organisation(row))

    def sub_blocks(self, session: Session, cidr: str, limit: int = 100) -> list[IpBlockView]:
        """Blocks inside a block (its sub-allocations), in address order."""
        net = parse_cidr(cidr)
        b = bounds(net)
        stmt = (
            select(m.IpBlock)
            .where(
                m.IpBlock.family == b.family,
                m.IpBlock.range_start >= b.start,
                m.IpBlock.range_start <= b.end,
                m.IpBlock.prefixlen > net.prefixlen,
            )
            .order_by(m.IpBlock.range_start, m.IpBlock.prefixlen)
            .limit(limit)
        )
        return [_ip_block(r) for r in session.scalars(stmt)]

    def ip_blocks_of(self, session: Session, tax_code: str) -> list[IpBlockView]:
        stmt = select(m.IpBlock).where(m.IpBlock.holder_tax_code == tax_code)
        return [_ip_block(r) for r in session.scalars(stmt.order_by(m.IpBlock.cidr))]

    def autnum(self, session: Session, asn: int) -> AsnView | None:
        row = session.get(m.AutNum, asn)
        return None if row is None else _asn(row)

    def asns_of(self, session: Session, tax_code: str) -> list[AsnView]:
        stmt = select(m.AutNum).where(m.AutNum.holder_tax_code == tax_code)
        return [_asn(r) for r in session.scalars(stmt.order_by(m.AutNum.asn))]

    # -- the registrars' action feed and the citizen's "not mine" (internet/actions.py) --
    def apply_verdicts(
        self,
        session: Session,
        flagged: Sequence[tuple[str, str, Sequence[str]]],
        now: datetime,
    ) -> dict[str, int]:
        return actions.apply_verdicts(session, flagged, now)

    def pending_actions(
        self, session: Session, registrar: str, limit: int = 1000
    ) -> list[m.RegistrarAction]:
        return actions.pending(session, registrar, limit)

    def acknowledge(
        self, session: Session, registrar: str, action_ids: Sequence[int], now: datetime
    ) -> int:
        return actions.acknowledge(session, registrar, action_ids, now)

    def my_domains(self, session: Session, subject_id: str, id_bidx: bytes) -> list[MyDomain]:
        """The names registered to this citizen's ID number (not deleted), and whether they
        said "not mine" about each while it was registered to them."""
        stmt = select(m.DomainDisownment.ascii_name).where(
            m.DomainDisownment.subject_id == subject_id, m.DomainDisownment.id_bidx == id_bidx
        )
        disowned = set(session.scalars(stmt))
        return [
            MyDomain(d, d.ascii_name in disowned)
            for d in self.domains_of_person(session, id_bidx)
            if d.status != "deleted"
        ]

    def disown(
        self,
        session: Session,
        subject_id: str,
        id_bidx: bytes,
        name: str,
        ctx: AccessContext,
        now: datetime,
    ) -> MyDomain:
        """Record the citizen's "not mine" about a name registered to them, flag it at once
        and put it in its registrar's feed; the next reconciliation flags it
        REGISTRANT_DISOWNED for as long as the name keeps this registrant."""
        mine = {d.domain.ascii_name: d for d in self.my_domains(session, subject_id, id_bidx)}
        try:
            ascii_name, _ = to_ascii(name)
        except DomainNameError:
            raise NotYourDomain("no domain name of yours has this name") from None
        found = mine.get(ascii_name)
        if found is None:
            raise NotYourDomain("no domain name of yours has this name")
        row = session.get(m.DomainDisownment, (ascii_name, subject_id))
        if row is None:
            row = m.DomainDisownment(ascii_name=ascii_name, subject_id=subject_id)
            session.add(row)
        row.id_bidx, row.registrar, row.declared_at = id_bidx, found.domain.registrar, now
        actions.flag_disowned(
            session, found.domain.registrar, ascii_name, Reason.REGISTRANT_DISOWNED, now
        )
        self._audit.append(session, [ctx.event("domain_disowned", subject_id, ())], now)
        bump(session, GENERATION)
        return MyDomain(found.domain, True)
