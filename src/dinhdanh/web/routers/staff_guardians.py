"""Staff console: guardian links of a child (find, add, end), with a legal basis and a case
reference on every form, audited as the officer (``age.guardians``; the API is
``web/routers/guardians.py``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.privacy.access import check_purpose
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.staff.roles import LOOKUP
from dinhdanh.staff.service import StaffMember
from dinhdanh.web.browser import check_csrf
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.i18n import N_
from dinhdanh.web.staff_console import lookup_ctx, staff_gate, staff_page
from dinhdanh.wiring import Container

router = APIRouter(include_in_schema=False)
PAGE = "/staff/guardians"

ERRORS = {
    "purpose_required": N_("Choose the legal basis of this lookup."),
    "legal_basis_unknown": N_("Choose the legal basis of this lookup."),
    "case_ref_required": N_("Give the case reference (3 to 100 characters)."),
    "citizen_not_found": N_("No citizen matches."),
    "too_many_guardians": N_("This child already has two guardians."),
    "guardian_not_adult": N_("A guardian must be 18 or over."),
    "child_is_adult": N_("This citizen is 18 or over."),
    "guardian_is_self": N_("A citizen cannot be their own guardian."),
    "invalid_relation": N_("Check the form."),
    "guardian_link_not_found": N_("Check the form."),
}


class GuardianForm(BaseModel):
    csrf: str = ""
    action: str = "find"  # find | add | end
    child_id_number: str = ""
    guardian_id_number: str = ""
    relation: str = ""
    valid_from: str = ""
    valid_to: str = ""
    link_id: str = ""
    legal_basis: str = ""
    case_ref: str = ""
    note: str = ""


def _ctx(c: Container, form: dict[str, str], **more: Any) -> dict[str, Any]:
    return lookup_ctx(c, form) | {"links": None} | more


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


@router.get(PAGE)
def guardians_page(request: Request, c: ContainerDep) -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, LOOKUP)
        if isinstance(member, Response):
            return member
        return staff_page(c, request, session, member, "staff_guardians.html", _ctx(c, {}))


@router.post(PAGE)
def guardians_form(
    request: Request, c: ContainerDep, body: Annotated[GuardianForm, Form()]
) -> Response:
    form = body.model_dump(exclude={"csrf"})
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, LOOKUP)
        if isinstance(member, Response):
            return member
        if not check_csrf(c, request, body.csrf):
            ctx = _ctx(c, form, message=N_("The form expired: send it again."))
            return staff_page(c, request, session, member, "staff_guardians.html", ctx, 400)
        try:
            links, done = _act(c, session, member, form)
        except DomainError as exc:
            ctx = _ctx(c, form, message=ERRORS.get(exc.code, N_("Check the form.")))
            return staff_page(c, request, session, member, "staff_guardians.html", ctx, 400)
        ctx = _ctx(c, form, links=links, done=done)
        return staff_page(c, request, session, member, "staff_guardians.html", ctx)


class _NotFound(DomainError):
    code = "citizen_not_found"


def _act(
    c: Container, session: Session, member: StaffMember, form: dict[str, str]
) -> tuple[list[Any], str]:
    ground = check_purpose(
        form["legal_basis"], form["case_ref"], c.settings.legal_bases, form["note"]
    )
    ctx: AccessContext = member.context(ground.purpose, ground)
    now = c.clock()
    child = c.registry.subject(session, form["child_id_number"])
    if child is None:
        raise _NotFound
    done = ""
    if form["action"] == "add":
        guardian = c.registry.subject(session, form["guardian_id_number"])
        start = _day(form["valid_from"])
        if guardian is None or start is None:
            raise _NotFound
        c.guardians.add(
            session,
            child=child.subject_id,
            guardian=guardian.subject_id,
            relation=form["relation"],
            source="officer",
            valid_from=start,
            valid_to=_day(form["valid_to"]),
            legal_basis=ctx.legal_basis,
            ctx=ctx,
            now=now,
        )
        done = N_("The guardian link was added.")
    elif form["action"] == "end":
        mine = {x.id for x in c.guardians.links_of_child(session, child.subject_id, ctx, now)}
        if form["link_id"] not in mine:
            raise _NotFound
        reason = "officer"
        c.children.end_link(
            session, form["link_id"], reason=reason, legal_basis=ctx.legal_basis, ctx=ctx, now=now
        )
        done = N_("The guardian link was ended.")
    return c.guardians.links_of_child(session, child.subject_id, ctx, now), done
