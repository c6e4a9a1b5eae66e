"""Officer API over the citizen registry. Every call comes from a person (a personal token
of a staff grant), names a legal basis and a case reference, and is audited as that person
and organisation. Lookups are POSTs with a JSON body: ID numbers and names never sit in a URL,
where access logs, proxies and browser histories would keep them."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter

from dinhdanh.identity.schemas import CitizenList, CitizenOut, Lawful, LookupIn, SearchIn
from dinhdanh.privacy.access import check_purpose
from dinhdanh.privacy.access_log import disclose_after
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.staff.service import StaffMember
from dinhdanh.web.deps import ContainerDep, OfficerDep
from dinhdanh.web.problems import Problem, problem_responses
from dinhdanh.wiring import Container

# Every call: a key (401), a person with the officer role (403), a legal basis and a case
# reference (400), a valid body (422).
router = APIRouter(
    prefix="/api/v1/citizens",
    tags=["citizens"],
    responses=problem_responses(400, 401, 403, 422),
)


def _context(c: Container, who: StaffMember, body: Lawful) -> AccessContext:
    s = c.settings
    ground = check_purpose(body.legal_basis, body.case_ref, s.legal_bases, body.purpose)
    until = disclose_after(
        ground.legal_basis,
        body.disclosure_delay_days,
        c.clock(),
        bases=s.audit_delay_bases,
        max_days=s.audit_max_disclosure_days,
    )
    return replace(who.context(ground.purpose, ground), disclose_after=until)


@router.post(":lookup", response_model=CitizenOut, responses=problem_responses(404))
def lookup_citizen(c: ContainerDep, who: OfficerDep, body: LookupIn) -> CitizenOut:
    """One citizen by personal identification number."""
    ctx = _context(c, who, body)
    with c.unit_of_work() as session:
        view = c.registry.get_by_id_number(session, body.id_number, ctx, c.clock())
    if view is None:
        raise Problem(404, "citizen_not_found", "No citizen has this ID number")
    return CitizenOut.of(view)


@router.post(":search", response_model=CitizenList)
def search_citizens(c: ContainerDep, who: OfficerDep, body: SearchIn) -> CitizenList:
    """Citizens by full name and date of birth (both exact, the name case-insensitive)."""
    ctx = _context(c, who, body)
    with c.unit_of_work() as session:
        views = c.registry.search(session, body.full_name, body.date_of_birth, ctx, c.clock())
    return CitizenList(items=[CitizenOut.of(v) for v in views])


@router.get("", include_in_schema=False)
@router.get("/{rest:path}", include_in_schema=False)
def moved() -> None:
    """The former GET lookups: refused, so no client keeps personal data in its URLs."""
    raise Problem(
        410,
        "use_post",
        "Citizen lookups moved to POST",
        "POST /api/v1/citizens:lookup or /api/v1/citizens:search with a JSON body",
    )
