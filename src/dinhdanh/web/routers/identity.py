"""Officer API over the citizen registry. Every call states a purpose and is audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from dinhdanh.identity.schemas import CitizenList, CitizenOut
from dinhdanh.privacy.access import check_purpose
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.web.deps import ContainerDep, OfficerDep
from dinhdanh.web.problems import Problem

router = APIRouter(prefix="/api/v1/citizens", tags=["citizens"])

PurposeQ = Annotated[
    str | None, Query(description="why this personal data is needed (mandatory, audited)")
]


@router.get("/{id_number}", response_model=CitizenOut)
def get_citizen(
    c: ContainerDep,
    who: OfficerDep,
    id_number: Annotated[str, Path(description="12-digit personal identification number")],
    purpose: PurposeQ = None,
) -> CitizenOut:
    ctx = AccessContext(who.actor, who.role.value, check_purpose(purpose))
    with c.unit_of_work() as session:
        view = c.registry.get_by_id_number(session, id_number, ctx, c.clock())
    if view is None:
        raise Problem(404, "citizen_not_found", "No citizen has this ID number")
    return CitizenOut.of(view)


@router.get("", response_model=CitizenList)
def search_citizens(
    c: ContainerDep,
    who: OfficerDep,
    full_name: Annotated[str, Query(min_length=1, max_length=200)],
    date_of_birth: Annotated[date, Query(description="ISO 8601 date")],
    purpose: PurposeQ = None,
) -> CitizenList:
    ctx = AccessContext(who.actor, who.role.value, check_purpose(purpose))
    with c.unit_of_work() as session:
        views = c.registry.search(session, full_name, date_of_birth, ctx, c.clock())
    return CitizenList(items=[CitizenOut.of(v) for v in views])
