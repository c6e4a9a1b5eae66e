"""Officer API over guardian links (``age.guardians``): add one, end one, list a child's.

Like the registry API: a person's token with the officer role, a legal basis and a case
reference on every call, all audited under the child (the citizen sees it on "Who used my
data"). ID numbers travel in JSON bodies, never in URLs. Ending a link ends the approvals a
guardian gave under it (``age.children``)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dinhdanh.age.guardians import Link, UnknownCitizen
from dinhdanh.identity.schemas import Lawful
from dinhdanh.web.deps import ContainerDep, OfficerDep
from dinhdanh.web.problems import problem_responses
from dinhdanh.web.routers.identity import _context

router = APIRouter(
    prefix="/api/v1/guardian-links",
    tags=["guardian links"],
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)


class LinkIn(Lawful):
    child_id_number: str = Field(max_length=32)
    guardian_id_number: str = Field(max_length=32)
    relation: str = Field(max_length=16, description="mother, father or guardian")
    valid_from: date
    valid_to: date | None = Field(default=None, description="the last day it holds")


class EndIn(Lawful):
    reason: str = Field(default="officer", max_length=32)


class ChildIn(Lawful):
    child_id_number: str = Field(max_length=32)


class LinkOut(BaseModel):
    id: str
    relation: str
    source: str = Field(description="registry, feed or officer")
    valid_from: date
    valid_to: date | None
    ended_on: date | None
    active: bool = Field(description="holds today (ends by itself on the 18th birthday)")

    @classmethod
    def of(cls, x: Link) -> LinkOut:
        return cls(
            id=x.id,
            relation=x.relation,
            source=x.source,
            valid_from=x.valid_from,
            valid_to=x.valid_to,
            ended_on=x.ended_on,
            active=x.active,
        )


class LinkList(BaseModel):
    items: list[LinkOut]


@router.post("", response_model=LinkOut, status_code=201)
def add_link(c: ContainerDep, who: OfficerDep, body: LinkIn) -> LinkOut:
    """Add a guardian link (at most two active per child; the guardian an adult)."""
    ctx = _context(c, who, body)
    with c.unit_of_work() as session:
        child = c.registry.subject(session, body.child_id_number)
        guardian = c.registry.subject(session, body.guardian_id_number)
        if child is None or guardian is None:
            raise UnknownCitizen("no citizen has one of these ID numbers")
        link = c.guardians.add(
            session,
            child=child.subject_id,
            guardian=guardian.subject_id,
            relation=body.relation,
            source="officer",
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            legal_basis=ctx.legal_basis,
            ctx=ctx,
            now=c.clock(),
        )
    return LinkOut.of(link)


@router.post(":search", response_model=LinkList)
def child_links(c: ContainerDep, who: OfficerDep, body: ChildIn) -> LinkList:
    """Every guardian link of one child, active or not."""
    ctx = _context(c, who, body)
    with c.unit_of_work() as session:
        child = c.registry.subject(session, body.child_id_number)
        if child is None:
            raise UnknownCitizen("no citizen has this ID number")
        links = c.guardians.links_of_child(session, child.subject_id, ctx, c.clock())
    return LinkList(items=[LinkOut.of(x) for x in links])


@router.post("/{link_id}:end", response_model=LinkOut)
def end_link(c: ContainerDep, who: OfficerDep, link_id: str, body: EndIn) -> LinkOut:
    """End a link from today; the approvals given under it end too."""
    ctx = _context(c, who, body)
    with c.unit_of_work() as session:
        link = c.children.end_link(
            session,
            link_id,
            reason=body.reason,
            legal_basis=ctx.legal_basis,
            ctx=ctx,
            now=c.clock(),
        )
    return LinkOut.of(link)
