"""Staff console: agencies' information systems and their findings (``posture``).

An ``agency_admin`` sees and manages only the agency of their grant (its tax code): its
systems, open findings and index; another agency's pages and findings do not exist for
them (404). An ``approver`` sees every agency, ranked by index, and accepts risks. Every
change passes the gate with a fresh authentication and the form's CSRF token, and is made
by the same services as the CLI's, with the staff member as the actor."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dinhdanh.posture.errors import PostureError
from dinhdanh.posture.findings import accept_risk, acknowledge, agency_of, findings
from dinhdanh.posture.index import scores
from dinhdanh.posture.register import Scope
from dinhdanh.posture.report import load, weekly
from dinhdanh.staff.roles import POSTURE_APPROVE, POSTURE_MANAGE, StaffRole
from dinhdanh.staff.service import StaffMember
from dinhdanh.web.browser import check_csrf, redirect
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.i18n import N_
from dinhdanh.web.staff_console import staff_gate, staff_page
from dinhdanh.wiring import Container

router = APIRouter(include_in_schema=False)
HOME = "/staff/posture"
ANYONE = POSTURE_MANAGE | POSTURE_APPROVE

SEVERITIES = {
    "critical": N_("Critical"),
    "high": N_("High"),
    "medium": N_("Medium"),
    "low": N_("Low"),
    "info": N_("Information"),
}
FINDING_STATES = {
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "accepted": N_("Risk accepted"),
    "fixed": N_("Fixed"),
}
ERRORS = {
    "system_invalid": N_("Check the system: its name, level, domains, blocks and endpoints."),
    "system_exists": N_("This agency already has a system of that name."),
    "finding_transition_refused": N_("The finding cannot change so in its present state."),
    "posture_error": N_("Give a reason and an expiry in the future."),
}
DONE = {
    "system": N_("The system was registered."),
    "endpoint": N_("The endpoint was added."),
    "acknowledged": N_("The finding was acknowledged."),
    "accepted": N_("The risk was accepted."),
}
EXPIRED = N_("The form expired: send it again.")


class _Scope:
    """What this staff member may see: every agency (an approver) and the agencies they
    administer (their agency_admin grants' organisations)."""

    def __init__(self, c: Container, session: Session, member: StaffMember) -> None:
        grants = c.staff.active_grants(session, member.subject_id, c.clock())
        self.approver = any(g.role is StaffRole.APPROVER for g in grants)
        self.admin_of = {g.organisation: g for g in grants if g.role is StaffRole.AGENCY_ADMIN}

    def sees(self, agency: str) -> bool:
        return self.approver or agency in self.admin_of


def _gate(
    c: Container, session: Session, request: Request, needs: frozenset[StaffRole], back: str
) -> tuple[StaffMember, _Scope] | Response:
    posting = request.method == "POST"  # a change: fresh authentication, then back to HOME
    member = staff_gate(
        c, session, request, needs, approving=posting, back_to=HOME if posting else back
    )
    if isinstance(member, Response):
        return member
    return member, _Scope(c, session, member)


def _not_found(c: Container, request: Request, session: Session, member: StaffMember) -> Response:
    return staff_page(c, request, session, member, "staff_posture_missing.html", {}, 404)


# -- the approver's ranking -------------------------------------------------------------------


@router.get(HOME)
def posture_home(request: Request, c: ContainerDep) -> Response:
    with c.unit_of_work() as session:
        gate = _gate(c, session, request, ANYONE, HOME)
        if isinstance(gate, Response):
            return gate
        member, scope = gate
        if not scope.approver:
            return redirect(f"{HOME}/agencies/{min(scope.admin_of)}")
        names = {a.tax_code: a.name for a in c.posture.register.agencies(session)}
        systems, found = load(session)
        scores_now = scores(systems, found, c.clock())
        ordered = sorted(
            names, key=lambda a: (a not in scores_now.agencies, -scores_now.agencies.get(a, 0), a)
        )
        ranking = [
            {
                "tax_code": code,
                "name": names[code],
                "score": scores_now.agencies.get(code),
                "debt": scores_now.debt.get(code, 0),
                "systems": sum(1 for s in systems if s.agency == code),
            }
            for code in ordered
        ]
        ctx = {"ranking": ranking}
        return staff_page(c, request, session, member, "staff_posture.html", ctx)


# -- one agency -------------------------------------------------------------------------------


def _agency_ctx(
    c: Container, session: Session, code: str, scope: _Scope, **more: Any
) -> dict[str, Any]:
    now = c.clock()
    agency = c.posture.register.agency(session, code)
    systems = c.posture.register.systems(session, agency=code)
    refs, found = load(session)
    refs = [r for r in refs if r.agency == code]
    found = [f for f in found if f.agency == code]
    trend = weekly(refs, found, now)
    current = trend[-1][1]
    return {
        "agency": agency,
        "systems": [{"view": s, "score": current.systems.get(s.id, 100.0)} for s in systems],
        "findings": findings(session, now, agency=code),
        "index": current.agencies.get(code),
        "debt": current.debt.get(code, 0),
        "trend": [(day.date(), sc.agencies.get(code), sc.debt.get(code, 0)) for day, sc in trend],
        "manages": code in scope.admin_of,
        "approves": scope.approver,
        "severities": SEVERITIES,
        "states": FINDING_STATES,
        "form": {},
        "message": "",
        "detail": "",
        "done": "",
    } | more


@router.get(HOME + "/agencies/{code}")
def agency_page(request: Request, c: ContainerDep, code: str, done: str = "") -> Response:
    with c.unit_of_work() as session:
        gate = _gate(c, session, request, ANYONE, request.url.path)
        if isinstance(gate, Response):
            return gate
        member, scope = gate
        if not scope.sees(code):
            return _not_found(c, request, session, member)
        try:
            ctx = _agency_ctx(c, session, code, scope, done=DONE.get(done, ""))
        except PostureError:
            return _not_found(c, request, session, member)
        return staff_page(c, request, session, member, "staff_posture_agency.html", ctx)


def _act(
    c: Container,
    request: Request,
    csrf: str,
    needs: frozenset[StaffRole],
    agency_for: Any,
    change: Any,
    done: str,
    form: dict[str, str] | None = None,
) -> Response:
    """A change on an agency's page: the gate (fresh authentication), the scope (another
    agency's things are not found), CSRF, the change; on a refusal the page again with why."""
    with c.unit_of_work() as session:
        gate = _gate(c, session, request, needs, request.url.path)
        if isinstance(gate, Response):
            return gate
        member, scope = gate
        try:
            code = agency_for(session)
        except PostureError:
            return _not_found(c, request, session, member)
        manages = needs == POSTURE_MANAGE
        if not (code in scope.admin_of if manages else scope.approver):
            return _not_found(c, request, session, member)
        acting = StaffMember(scope.admin_of[code]) if manages else member
        message, detail = "", ""
        if not check_csrf(c, request, csrf):
            message = EXPIRED
        else:
            try:
                change(session, acting, code)
            except PostureError as exc:
                message = ERRORS.get(exc.code, ERRORS["system_invalid"])
                detail = str(exc)
        if message:
            session.rollback()
            ctx = _agency_ctx(
                c, session, code, scope, message=message, detail=detail, form=form or {}
            )
            return staff_page(c, request, session, member, "staff_posture_agency.html", ctx, 400)
    return redirect(f"{HOME}/agencies/{code}?done={done}")


class SystemForm(BaseModel):
    csrf: str = ""
    name: str = ""
    level: str = ""
    endpoints: str = ""  # one a line
    domains: str = ""  # separated by spaces or lines
    blocks: str = ""


@router.post(HOME + "/agencies/{code}/systems")
def add_system(
    request: Request, c: ContainerDep, code: str, body: Annotated[SystemForm, Form()]
) -> Response:
    form = body.model_dump(exclude={"csrf"})

    def change(session: Session, member: StaffMember, agency: str) -> None:
        level = int(body.level) if body.level.strip().isdigit() else 0
        c.posture.register.add_system(
            session,
            agency,
            body.name,
            level,
            endpoints=body.endpoints.split(),
            domains=body.domains.split(),
            blocks=body.blocks.split(),
            responsible=member.subject_id,
            scope=Scope(agency),
            by=member.context("register an information system"),
            now=c.clock(),
        )

    def agency_for(session: Session) -> str:
        return c.posture.register.agency(session, code).tax_code

    return _act(c, request, body.csrf, POSTURE_MANAGE, agency_for, change, "system", form)


@router.post(HOME + "/systems/{system_id}/endpoints")
def add_endpoint(
    request: Request,
    c: ContainerDep,
    system_id: str,
    csrf: Annotated[str, Form()] = "",
    endpoint: Annotated[str, Form()] = "",
) -> Response:
    def change(session: Session, _member: StaffMember, agency: str) -> None:
        c.posture.register.add_endpoint(
            session, system_id, endpoint.strip(), scope=Scope(agency), now=c.clock()
        )

    def agency_for(session: Session) -> str:
        return c.posture.register.system(session, system_id).agency

    return _act(c, request, csrf, POSTURE_MANAGE, agency_for, change, "endpoint")


@router.post(HOME + "/findings/{finding_id}/acknowledge")
def acknowledge_finding(
    request: Request, c: ContainerDep, finding_id: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    def change(session: Session, member: StaffMember, agency: str) -> None:
        ctx = member.context("acknowledge")
        acknowledge(session, finding_id, ctx, Scope(agency), c.clock())

    def agency_for(session: Session) -> str:
        return agency_of(session, finding_id)

    return _act(c, request, csrf, POSTURE_MANAGE, agency_for, change, "acknowledged")


@router.post(HOME + "/findings/{finding_id}/accept")
def accept_finding(
    request: Request,
    c: ContainerDep,
    finding_id: str,
    csrf: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    def change(session: Session, member: StaffMember, _agency: str) -> None:
        now = c.clock()
        try:  # the end of the chosen day, UTC
            expiry = datetime.combine(date.fromisoformat(until.strip()), time.max, tzinfo=UTC)
        except ValueError:
            expiry = now  # refused below as not in the future
        accept_risk(session, finding_id, expiry, reason, member.context("accept risk"), now)

    def agency_for(session: Session) -> str:
        return agency_of(session, finding_id)

    return _act(c, request, csrf, POSTURE_APPROVE, agency_for, change, "accepted")
