"""Agency administrators' API over their information systems and findings (``posture``).

The console's agency page as JSON, for an agency's own tooling: list its systems, register
one with its endpoints, list its open findings with their deadlines, acknowledge one. The
caller is a personal ``agency_admin`` token (``dinhdanh apikeys add --role agency_admin
--staff GRANT_ID``); the grant's organisation is the only agency it sees: another agency's
systems and findings answer 404, as ones that do not exist. Thin: the register's and the
findings' services do the work (``posture/register.py``, ``posture/findings.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dinhdanh.posture.errors import FindingNotFound, UnknownSystem
from dinhdanh.posture.findings import FindingView, acknowledge, agency_of, finding, findings
from dinhdanh.posture.register import MAX_NAME, Scope, SystemView
from dinhdanh.staff.service import StaffMember
from dinhdanh.web.deps import AgencyAdminDep, ContainerDep
from dinhdanh.web.problems import problem_responses
from dinhdanh.wiring import Container

router = APIRouter(
    prefix="/api/v1/posture",
    tags=["posture"],
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
MAX_ITEMS = 1000  # endpoints, domains or blocks of one system in one request


class SystemIn(BaseModel):
    name: str = Field(max_length=MAX_NAME, description="unique in the agency")
    level: int = Field(description="security level 1-5 (Decree 85/2016)")
    endpoints: list[str] = Field(
        max_length=MAX_ITEMS, description="https://host[:port], http://host[:port], tcp://host:port"
    )
    domains: list[str] = Field(default=[], max_length=MAX_ITEMS)
    blocks: list[str] = Field(default=[], max_length=MAX_ITEMS)


class SystemOut(BaseModel):
    id: str
    agency: str = Field(description="the owner agency's tax code")
    name: str
    level: int
    domains: list[str]
    blocks: list[str]
    endpoints: list[str]
    created_at: datetime

    @classmethod
    def of(cls, s: SystemView) -> SystemOut:
        return cls(
            id=s.id,
            agency=s.agency,
            name=s.name,
            level=s.level,
            domains=list(s.domains),
            blocks=list(s.blocks),
            endpoints=[t.url for t in s.endpoints],
            created_at=s.created_at,
        )


class SystemList(BaseModel):
    items: list[SystemOut]


class FindingOut(BaseModel):
    id: str
    system_id: str
    system: str
    target: str
    code: str = Field(description="docs/posture.md lists the codes")
    severity: str
    state: str = Field(description="open, acknowledged or accepted")
    opened: datetime
    deadline: datetime | None = Field(description="none for info findings")
    overdue: bool = Field(description="unresolved past its deadline: compliance debt")
    accepted_until: datetime | None
    evidence: dict[str, Any]

    @classmethod
    def of(cls, f: FindingView) -> FindingOut:
        return cls(
            id=f.id,
            system_id=f.system_id,
            system=f.system,
            target=f.target,
            code=f.code,
            severity=f.severity,
            state=f.state,
            opened=f.opened,
            deadline=f.deadline,
            overdue=f.overdue,
            accepted_until=f.accepted_until,
            evidence=f.evidence,
        )


class FindingList(BaseModel):
    items: list[FindingOut]


def _agency(c: Container, session: Session, who: StaffMember) -> str:
    """The caller's agency (its grant's organisation), registered (else 404)."""
    return c.posture.register.agency(session, who.grant.organisation).tax_code


def _own_system(c: Container, session: Session, who: StaffMember, system_id: str) -> SystemView:
    view = c.posture.register.system(session, system_id)
    if view.agency != _agency(c, session, who):
        raise UnknownSystem(f"no information system {system_id!r}")
    return view


@router.get("/systems", response_model=SystemList)
def list_systems(c: ContainerDep, who: AgencyAdminDep) -> SystemList:
    """The agency's information systems, by name."""
    with c.unit_of_work() as session:
        views = c.posture.register.systems(session, agency=_agency(c, session, who))
    return SystemList(items=[SystemOut.of(v) for v in views])


@router.post("/systems", response_model=SystemOut, status_code=201)
def add_system(c: ContainerDep, who: AgencyAdminDep, body: SystemIn) -> SystemOut:
    """Register a system of the agency with its endpoints (and the domains and blocks they
    lie in: the agency's own in the internet register); the caller is its responsible."""
    with c.unit_of_work() as session:
        code = _agency(c, session, who)
        view = c.posture.register.add_system(
            session,
            code,
            body.name,
            body.level,
            endpoints=body.endpoints,
            domains=body.domains,
            blocks=body.blocks,
            responsible=who.subject_id,
            scope=Scope(code),
            by=who.context("register an information system"),
            now=c.clock(),
        )
    return SystemOut.of(view)


@router.get("/systems/{system_id}", response_model=SystemOut)
def get_system(c: ContainerDep, who: AgencyAdminDep, system_id: str) -> SystemOut:
    """One system of the agency."""
    with c.unit_of_work() as session:
        return SystemOut.of(_own_system(c, session, who, system_id))


@router.get("/findings", response_model=FindingList)
def list_findings(
    c: ContainerDep,
    who: AgencyAdminDep,
    system: Annotated[str | None, Query(max_length=64, description="a system's id")] = None,
) -> FindingList:
    """The agency's findings not yet fixed (open, acknowledged, risk accepted), with their
    deadlines, by system and deadline; ``info`` notes left out."""
    with c.unit_of_work() as session:
        code = _agency(c, session, who)
        if system is not None:
            _own_system(c, session, who, system)
        views = findings(session, c.clock(), agency=code, system=system)
    return FindingList(items=[FindingOut.of(v) for v in views])


@router.post("/findings/{finding_id}:acknowledge", response_model=FindingOut)
def acknowledge_finding(c: ContainerDep, who: AgencyAdminDep, finding_id: str) -> FindingOut:
    """The agency has seen an open finding and works on it (its deadline stands)."""
    with c.unit_of_work() as session:
        code = _agency(c, session, who)
        if agency_of(session, finding_id) != code:
            raise FindingNotFound(f"no finding {finding_id!r}")
        now = c.clock()
        acknowledge(session, finding_id, who.context("acknowledge"), Scope(code), now)
        view = finding(session, finding_id, now)
    return FindingOut.of(view)
