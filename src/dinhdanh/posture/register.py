"""The register: agencies (organisations of the business registry) and their information
systems, with the domains, IP blocks and endpoints each exposes.

Everything a system names must be the agency's own in the internet register: a domain whose
registrant is the agency (or its head enterprise), a block it holds, and endpoints whose host
is under one of those domains or in one of those blocks. The scanner only ever reaches what
passed these checks (scan.py reads targets from here and nowhere else).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dinhdanh.auth.opaque import as_utc
from dinhdanh.internet.ipindex import CidrError, parse_cidr
from dinhdanh.internet.names import DomainNameError, to_ascii
from dinhdanh.internet.service import Internet
from dinhdanh.internet.taxcode import TaxCodeError, head_of, parse_tax_code
from dinhdanh.posture import models as m
from dinhdanh.posture.checks import Severity
from dinhdanh.posture.errors import (
    AgencyExists,
    OutOfScope,
    SystemExists,
    SystemInvalid,
    UnknownAgency,
    UnknownSystem,
)
from dinhdanh.posture.rules import DeadlinePolicy, State
from dinhdanh.posture.targets import Target, TargetError, belongs, parse_endpoint
from dinhdanh.privacy.audit import AccessContext, AuditLog
from dinhdanh.staff.service import Staff
from dinhdanh.store.ids import uuid7s

LEVELS = range(1, 6)  # Decree 85/2016: level 1 (least) to 5 (most critical)
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Scope:
    """Which agencies a caller may manage: one (an agency_admin) or all (None: the operator)."""

    agency: str | None = None

    def check(self, tax_code: str) -> None:
        if self.agency is not None and self.agency != tax_code:
            raise OutOfScope(f"this staff member acts for agency {self.agency} only")


EVERYONE = Scope()


@dataclass(frozen=True, slots=True)
class AgencyView:
    tax_code: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SystemView:
    id: str
    agency: str
    name: str
    level: int
    responsible: str | None
    domains: tuple[str, ...]
    blocks: tuple[str, ...]
    endpoints: tuple[Target, ...]
    created_at: datetime


def _tax_code(raw: str) -> str:
    try:
        return parse_tax_code(raw)
    except TaxCodeError as exc:
        raise UnknownAgency(str(exc)) from None


class Register:
    def __init__(
        self,
        internet: Internet,
        staff: Staff,
        audit: AuditLog,
        policy: DeadlinePolicy | None = None,
    ) -> None:
        self._internet = internet
        self._staff = staff
        self._audit = audit
        self._policy = policy or DeadlinePolicy()

    # -- agencies --
    def add_agency(
        self, session: Session, tax_code: str, scope: Scope, now: datetime
    ) -> AgencyView:
        code = _tax_code(tax_code)
        scope.check(code)
        org = self._internet.organisation(session, code)
        if org is None:
            raise UnknownAgency(f"no organisation {code} in the business registry")
        if session.get(m.Agency, code) is not None:
            raise AgencyExists(f"agency {code} is registered already")
        row = m.Agency(tax_code=code, created_at=now)
        session.add(row)
        session.flush()
        return AgencyView(code, org.name, now)

    def agency(self, session: Session, tax_code: str) -> AgencyView:
        code = _tax_code(tax_code)
        row = session.get(m.Agency, code)
        org = self._internet.organisation(session, code)
        if row is None or org is None:
            raise UnknownAgency(f"agency {code} is not registered")
        return AgencyView(code, org.name, row.created_at)

    def agencies(self, session: Session) -> list[AgencyView]:
        rows = session.scalars(select(m.Agency).order_by(m.Agency.tax_code))
        return [self.agency(session, r.tax_code) for r in rows]

    # -- systems --
    def add_system(
        self,
        session: Session,
        agency: str,
        name: str,
        level: int,
        *,
        endpoints: Sequence[str],
        domains: Sequence[str] = (),
        blocks: Sequence[str] = (),
        responsible: str | None = None,
        scope: Scope,
        by: AccessContext,
        now: datetime,
    ) -> SystemView:
        code = self.agency(session, agency).tax_code
        scope.check(code)
        title = " ".join(name.split())
        if not 3 <= len(title) <= MAX_NAME:
            raise SystemInvalid(f"the name must be 3 to {MAX_NAME} characters")
        if level not in LEVELS:
            raise SystemInvalid("the security level must be 1 to 5 (Decree 85/2016)")
        if session.scalar(
            select(m.InformationSystem.id).where(
                m.InformationSystem.agency == code, m.InformationSystem.name == title
            )
        ):
            raise SystemExists(f"agency {code} has a system named {title!r}")
        names = sorted({self._own_domain(session, code, d) for d in domains})
        nets = sorted({self._own_block(session, code, b) for b in blocks})
        targets = sorted({self._target(e, names, nets) for e in endpoints})
        if not targets:
            raise SystemInvalid("a system exposes at least one endpoint")
        if responsible is not None:
            self._check_responsible(session, code, responsible, now)
        system_id = uuid7s(1, now)[0]
        session.add(
            m.InformationSystem(
                id=system_id,
                agency=code,
                name=title,
                level=level,
                responsible=responsible,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        session.add_all(m.SystemDomain(system_id=system_id, name=n) for n in names)
        session.add_all(m.SystemBlock(system_id=system_id, cidr=b) for b in nets)
        ids = uuid7s(len(targets), now)
        session.add_all(
            m.Endpoint(id=i, system_id=system_id, scheme=t.scheme, host=t.host, port=t.port)
            for i, t in zip(ids, targets, strict=True)
        )
        session.flush()
        if responsible is not None:
            ctx = by.event("posture_responsible", responsible, ("staff_role",))
            self._audit.append(session, [ctx], now)
        return self.system(session, system_id)

    def check_owned(
        self, session: Session, agency: str, domains: Sequence[str], blocks: Sequence[str]
    ) -> None:
        """Raises unless the agency is registered and the domains and blocks are its own."""
        code = self.agency(session, agency).tax_code
        for d in domains:
            self._own_domain(session, code, d)
        for b in blocks:
            self._own_block(session, code, b)

    def put_system(
        self,
        session: Session,
        agency: str,
        name: str,
        level: int,
        *,
        endpoints: Sequence[str],
        domains: Sequence[str],
        blocks: Sequence[str],
        by: AccessContext,
        now: datetime,
    ) -> str:
        """A batch import's row: the system created, or brought in line with the row;
        returns "created", "updated" or "unchanged"."""
        code = self.agency(session, agency).tax_code
        title = " ".join(name.split())
        sid = session.scalar(
            select(m.InformationSystem.id).where(
                m.InformationSystem.agency == code, m.InformationSystem.name == title
            )
        )
        if sid is None:
            self.add_system(
                session, code, title, level, endpoints=endpoints, domains=domains,
                blocks=blocks, scope=EVERYONE, by=by, now=now,
            )  # fmt: skip
            return "created"
        if level not in LEVELS:
            raise SystemInvalid("the security level must be 1 to 5 (Decree 85/2016)")
        names = tuple(sorted({self._own_domain(session, code, d) for d in domains}))
        nets = tuple(sorted({self._own_block(session, code, b) for b in blocks}))
        targets = tuple(sorted({self._target(e, names, nets) for e in endpoints}))
        if not targets:
            raise SystemInvalid("a system exposes at least one endpoint")
        view = self.system(session, sid)
        if (view.level, view.domains, view.blocks, view.endpoints) == (level, names, nets, targets):
            return "unchanged"
        row = session.get(m.InformationSystem, sid, with_for_update=True)
        assert row is not None
        if row.level != level:
            self._relevel(session, row, level)
        row.updated_at = now
        for model in (m.SystemDomain, m.SystemBlock):
            session.execute(delete(model).where(model.system_id == sid))
        session.add_all(m.SystemDomain(system_id=sid, name=n) for n in names)
        session.add_all(m.SystemBlock(system_id=sid, cidr=b) for b in nets)
        for e in session.scalars(select(m.Endpoint).where(m.Endpoint.system_id == sid)):
            if Target(e.scheme, e.host, e.port) not in targets:
                session.delete(e)
        new = [t for t in targets if t not in view.endpoints]
        session.add_all(
            m.Endpoint(id=i, system_id=sid, scheme=t.scheme, host=t.host, port=t.port)
            for i, t in zip(uuid7s(len(new), now), new, strict=True)
        )
        session.flush()
        return "updated"

    def set_level(
        self, session: Session, system_id: str, level: int, *, scope: Scope, now: datetime
    ) -> tuple[SystemView, int]:
        """A system's new security level; the deadlines of its findings not yet fixed are
        recomputed from their opening under the new level (a raise can make some overdue at
        once). Returns the system and how many deadlines changed."""
        if level not in LEVELS:
            raise SystemInvalid("the security level must be 1 to 5 (Decree 85/2016)")
        row = session.get(m.InformationSystem, system_id, with_for_update=True)
        if row is None:
            raise UnknownSystem(f"no information system {system_id!r}")
        scope.check(row.agency)
        changed = self._relevel(session, row, level) if row.level != level else 0
        row.updated_at = now
        session.flush()
        return self.system(session, system_id), changed

    def _relevel(self, session: Session, row: m.InformationSystem, level: int) -> int:
        """Set the level and recompute the deadlines of the system's unfixed findings (the
        deadline rules of rules.DeadlinePolicy, as findings.record applies them)."""
        row.level = level
        changed = 0
        for f in session.scalars(
            select(m.Finding).where(
                m.Finding.system_id == row.id, m.Finding.state != State.FIXED.value
            )
        ):
            due = self._policy.deadline(Severity(f.severity), level, as_utc(f.opened_at))
            if (as_utc(f.deadline) if f.deadline else None) != due:
                f.deadline, changed = due, changed + 1
        return changed

    def add_endpoint(
        self, session: Session, system_id: str, raw: str, *, scope: Scope, now: datetime
    ) -> SystemView:
        """One more endpoint of a system: under its domains or in its blocks, as at creation."""
        row = session.get(m.InformationSystem, system_id, with_for_update=True)
        if row is None:
            raise UnknownSystem(f"no information system {system_id!r}")
        scope.check(row.agency)
        view = self.system(session, system_id)
        target = self._target(raw, view.domains, view.blocks)
        if target in view.endpoints:
            raise SystemInvalid(f"{target.url} is registered already")
        (eid,) = uuid7s(1, now)
        session.add(
            m.Endpoint(
                id=eid, system_id=row.id, scheme=target.scheme, host=target.host, port=target.port
            )
        )
        row.updated_at = now
        session.flush()
        return self.system(session, system_id)

    def _own_domain(self, session: Session, agency: str, raw: str) -> str:
        try:
            name, _ = to_ascii(raw)
        except DomainNameError as exc:
            raise SystemInvalid(f"domain {raw!r}: {exc}") from None
        view = self._internet.domain(session, name)
        holder = view.registrant_tax_code if view else None
        if holder is None or head_of(holder) != head_of(agency):
            raise SystemInvalid(f"{name} is not a domain registered to agency {agency}")
        return name

    def _own_block(self, session: Session, agency: str, raw: str) -> str:
        try:
            net = parse_cidr(raw)
        except CidrError as exc:
            raise SystemInvalid(f"block {raw!r}: {exc}") from None
        view = self._internet.ip_block(session, net)
        if view is None or head_of(view.holder_tax_code) != head_of(agency):
            raise SystemInvalid(f"{net} is not in a block held by agency {agency}")
        return str(net)

    @staticmethod
    def _target(raw: str, domains: Sequence[str], blocks: Sequence[str]) -> Target:
        try:
            target = parse_endpoint(raw)
        except TargetError as exc:
            raise SystemInvalid(str(exc)) from None
        if not belongs(target, domains, blocks):
            raise SystemInvalid(
                f"{target.url} is neither under the system's domains nor in its blocks"
            )
        return target

    def _check_responsible(
        self, session: Session, agency: str, subject: str, now: datetime
    ) -> None:
        grants = self._staff.active_grants(session, subject, now)
        if not any(g.organisation == agency for g in grants):
            raise SystemInvalid("the responsible person needs an active staff grant of the agency")

    def system(self, session: Session, system_id: str) -> SystemView:
        row = session.get(m.InformationSystem, system_id)
        if row is None:
            raise UnknownSystem(f"no information system {system_id!r}")
        sid = row.id
        domains = session.scalars(
            select(m.SystemDomain.name).where(m.SystemDomain.system_id == sid).order_by("name")
        )
        blocks = session.scalars(
            select(m.SystemBlock.cidr).where(m.SystemBlock.system_id == sid).order_by("cidr")
        )
        ends = session.scalars(select(m.Endpoint).where(m.Endpoint.system_id == sid))
        return SystemView(
            sid,
            row.agency,
            row.name,
            row.level,
            row.responsible,
            tuple(domains),
            tuple(blocks),
            tuple(sorted(Target(e.scheme, e.host, e.port) for e in ends)),
            row.created_at,
        )

    def systems(
        self, session: Session, *, agency: str | None = None, system: str | None = None
    ) -> list[SystemView]:
        """Systems in order of agency and name; ``system`` is an id or a name."""
        stmt = select(m.InformationSystem.id)
        if agency is not None:
            stmt = stmt.where(m.InformationSystem.agency == _tax_code(agency))
        if system is not None:
            stmt = stmt.where(
                (m.InformationSystem.id == system) | (m.InformationSystem.name == system)
            )
        stmt = stmt.order_by(m.InformationSystem.agency, m.InformationSystem.name)
        return [self.system(session, sid) for sid in session.scalars(stmt)]
