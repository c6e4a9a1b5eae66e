"""Re-identification requests in the officer console (privacy.disclosure): an investigator's
list, new-request form and reveal page; an approver's queue. The console's gate first
(``web.staff_console.staff_gate``): approving, refusing and revealing need an authentication at most
``DINHDANH_STAFF_FRESH_SECONDS`` old, and the pages that lead to them ask for it on the way in,
as the staff roles page does. The person appears only in the answer to the reveal's POST.

Investigators with a personal officer token may also file and list over the API; the reveal
and the decisions are console-only, since they need a fresh second factor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.privacy.access_log import DisclosureDelayRefused
from dinhdanh.privacy.disclosure import RequestInfo
from dinhdanh.privacy.disclosure_rules import State
from dinhdanh.staff.roles import DISCLOSURE_DECIDE, DISCLOSURE_REQUEST
from dinhdanh.staff.service import StaffMember
from dinhdanh.web.browser import check_csrf, redirect
from dinhdanh.web.deps import ContainerDep, OfficerDep
from dinhdanh.web.i18n import N_
from dinhdanh.web.problems import problem_responses
from dinhdanh.web.staff_console import LEGAL_BASES, staff_gate, staff_page
from dinhdanh.wiring import Container

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/disclosure-requests", tags=["re-identification"])
PAGE = "/staff/disclosures"
QUEUE = PAGE + "/queue"
FormStr = Annotated[str, Form()]

STATES = {
    State.PENDING: N_("Waiting for approval"),
    State.APPROVED: N_("Approved"),
    State.REFUSED: N_("Refused"),
    State.REVEALED: N_("Revealed"),
    State.EXPIRED: N_("Expired"),
}
_DONE = {
    "filed": N_("The request was filed. An approver decides on it."),
    "approved": N_("The request was approved."),
    "refused": N_("The request was refused."),
}
_ERRORS = {
    "purpose_required": N_("Choose the legal basis of this request."),
    "legal_basis_unknown": N_("Choose the legal basis of this request."),
    "case_ref_required": N_("Give the case reference (3 to 100 characters)."),
    "disclosure_delay_refused": N_(
        "A disclosure delay is allowed only under a criminal investigation or a court order, "
        "and only as long as the law allows."
    ),
    "platform_not_found": N_("Choose a platform."),
    "disclosure_invalid": N_("Check the account id, the reason or the note (3 to 500 characters)."),
    "disclosure_not_found": N_("No such request."),
    "disclosure_role_required": N_("Your role cannot take this step."),
    "disclosure_self_approval": N_("You filed this request: another person must decide on it."),
    "disclosure_decided": N_("This request was already decided."),
    "disclosure_not_approved": N_("This request is not approved yet."),
    "disclosure_refused": N_("This request was refused."),
    "disclosure_already_revealed": N_("This request was already used: a request reveals once."),
    "disclosure_expired": N_("The approval has expired: file a new request."),
}
_EXPIRED_FORM = N_("The form expired: send it again.")


def _message(exc: DomainError) -> str:
    return _ERRORS.get(exc.code, N_("Check the form."))


def _ctx(c: Container, **more: Any) -> dict[str, Any]:
    bases = [(code, LEGAL_BASES.get(code, code)) for code in c.settings.legal_bases]
    return {
        "bases": bases,
        "basis_names": LEGAL_BASES,
        "state_names": STATES,
        "message": "",
        "done": "",
    } | more


# -- the investigator ----------------------------------------------------------------------


@router.get(PAGE)
def requests_page(request: Request, c: ContainerDep, done: str = "") -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, DISCLOSURE_REQUEST)
        if isinstance(member, Response):
            return member
        return _list(c, request, session, member, done=_DONE.get(done, ""))


def _list(
    c: Container,
    request: Request,
    session: Session,
    member: StaffMember,
    status: int = 200,
    **more: Any,
) -> Response:
    mine = c.disclosure.mine(session, member.actor, c.clock())
    ctx = _ctx(c, requests=mine, **more)
    return staff_page(c, request, session, member, "staff_disclosures.html", ctx, status)


def _platforms(c: Container, session: Session) -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in c.social.platforms(session)]


@router.get(PAGE + "/new")
def new_request_page(request: Request, c: ContainerDep) -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, DISCLOSURE_REQUEST)
        if isinstance(member, Response):
            return member
        ctx = _ctx(c, form={}, platforms=_platforms(c, session), max_days=_max_days(c))
        return staff_page(c, request, session, member, "staff_disclosure_new.html", ctx)


def _max_days(c: Container) -> int:
    return c.settings.audit_max_disclosure_days


class RequestForm(BaseModel):
    csrf: str = ""
    platform: str = ""
    account_id: str = ""
    legal_basis: str = ""
    case_ref: str = ""
    reason: str = ""
    delay_days: str = ""  # empty: no delay


@router.post(PAGE)
def file_request(
    request: Request, c: ContainerDep, body: Annotated[RequestForm, Form()]
) -> Response:
    form = body.model_dump(exclude={"csrf"})
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, DISCLOSURE_REQUEST)
        if isinstance(member, Response):
            return member
        message = ""
        if not check_csrf(c, request, body.csrf):
            message = _EXPIRED_FORM
        else:
            try:
                _file(c, session, member, body)
            except DomainError as exc:
                message = _message(exc)
        if message:
            platforms = _platforms(c, session)
            ctx = _ctx(c, form=form, platforms=platforms, max_days=_max_days(c), message=message)
            return staff_page(c, request, session, member, "staff_disclosure_new.html", ctx, 400)
    return redirect(PAGE + "?done=filed")


def _file(c: Container, session: Session, member: StaffMember, body: RequestForm) -> None:
    days = body.delay_days.strip()
    if days and not days.isdigit():
        raise DisclosureDelayRefused("the delay is a number of days")
    c.disclosure.file(
        session,
        member.context("re-identification request"),
        body.platform,
        body.account_id,
        body.legal_basis,
        body.case_ref,
        body.reason,
        int(days) if days else None,
        c.clock(),
    )


@router.get(PAGE + "/{request_id}/reveal")
def reveal_page(request: Request, c: ContainerDep, request_id: str) -> Response:
    """What will be revealed and the button; no personal data (that answers the POST)."""
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, DISCLOSURE_REQUEST, approving=True)
        if isinstance(member, Response):
            return member
        found = c.disclosure.get(session, request_id, c.clock())
        if found is None or found.requested_by != member.actor:
            return _list(c, request, session, member, 404, message=_ERRORS["disclosure_not_found"])
        ctx = _ctx(c, item=found, revealed=None)
        return staff_page(c, request, session, member, "staff_disclosure_reveal.html", ctx)


@router.post(PAGE + "/{request_id}/reveal")
def reveal(request: Request, c: ContainerDep, request_id: str, csrf: FormStr = "") -> Response:
    """The one route from a platform account to a person."""
    with c.unit_of_work() as session:  # an expiry is recorded even if the reveal is refused
        c.disclosure.expire_due(session, c.clock())
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, DISCLOSURE_REQUEST, approving=True)
        if isinstance(member, Response):
            return member
        if not check_csrf(c, request, csrf):
            return _list(c, request, session, member, 400, message=_EXPIRED_FORM)
        try:
            shown = c.disclosure.reveal(session, request_id, member.context("reveal"), c.clock())
        except DomainError as exc:
            return _list(c, request, session, member, exc.status, message=_message(exc))
        ctx = _ctx(c, item=shown.request, revealed=shown)
        return staff_page(c, request, session, member, "staff_disclosure_reveal.html", ctx)


# -- the approver --------------------------------------------------------------------------


@router.get(QUEUE)
def queue_page(request: Request, c: ContainerDep, done: str = "") -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, DISCLOSURE_DECIDE, approving=True)
        if isinstance(member, Response):
            return member
        return _queue(c, request, session, member, done=_DONE.get(done, ""))


def _queue(
    c: Container,
    request: Request,
    session: Session,
    member: StaffMember,
    status: int = 200,
    **more: Any,
) -> Response:
    names = dict(_platforms(c, session))
    pending = c.disclosure.pending(session, c.clock())
    valid = c.settings.disclosure_valid_days
    ctx = _ctx(c, requests=pending, platform_names=names, valid_days=valid, **more)
    return staff_page(c, request, session, member, "staff_disclosure_queue.html", ctx, status)


@router.post(PAGE + "/{request_id}/approve")
def approve(
    request: Request, c: ContainerDep, request_id: str, csrf: FormStr = "", note: FormStr = ""
) -> Response:
    return _decide(c, request, request_id, csrf, note, "approved")


@router.post(PAGE + "/{request_id}/refuse")
def refuse(
    request: Request, c: ContainerDep, request_id: str, csrf: FormStr = "", note: FormStr = ""
) -> Response:
    return _decide(c, request, request_id, csrf, note, "refused")


def _decide(
    c: Container, request: Request, request_id: str, csrf: str, note: str, done: str
) -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, DISCLOSURE_DECIDE, approving=True, back_to=QUEUE)
        if isinstance(member, Response):
            return member
        if not check_csrf(c, request, csrf):
            return _queue(c, request, session, member, 400, message=_EXPIRED_FORM)
        step = c.disclosure.approve if done == "approved" else c.disclosure.refuse
        try:
            step(session, request_id, member.context("decision"), note, c.clock())
        except DomainError as exc:
            return _queue(c, request, session, member, exc.status, message=_message(exc))
    return redirect(f"{QUEUE}?done={done}")


# -- the API: investigators' personal tokens file and list -----------------------------------


class RequestIn(BaseModel):
    platform: str = Field(max_length=32)
    account_id: str = Field(max_length=200)
    legal_basis: str = Field(max_length=100)
    case_ref: str = Field(max_length=200)
    reason: str = Field(max_length=1000)
    disclosure_delay_days: int | None = Field(default=None, ge=1)


class RequestOut(BaseModel):
    id: str
    platform: str
    account_id: str
    legal_basis: str
    case_ref: str
    reason: str
    disclosure_delay_days: int | None
    state: str
    filed_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None
    revealed_at: datetime | None

    @classmethod
    def of(cls, r: RequestInfo) -> RequestOut:
        return cls(
            id=r.id,
            platform=r.platform,
            account_id=r.account_id,
            legal_basis=r.legal_basis,
            case_ref=r.case_ref,
            reason=r.reason,
            disclosure_delay_days=r.delay_days,
            state=r.state.value,
            filed_at=r.filed_at,
            decided_at=r.decided_at,
            expires_at=r.expires_at,
            revealed_at=r.revealed_at,
        )


class RequestList(BaseModel):
    items: list[RequestOut]


_API_ERRORS = problem_responses(400, 401, 403, 404, 422)


@api.post("", status_code=201, response_model=RequestOut, responses=_API_ERRORS)
def file_over_api(c: ContainerDep, who: OfficerDep, body: RequestIn) -> RequestOut:
    """File a request to re-identify one platform account (investigator's personal token).
    An approver decides in the console; the requester reveals it there."""
    with c.unit_of_work() as session:
        info = c.disclosure.file(
            session,
            who.context("re-identification request"),
            body.platform,
            body.account_id,
            body.legal_basis,
            body.case_ref,
            body.reason,
            body.disclosure_delay_days,
            c.clock(),
        )
    return RequestOut.of(info)


@api.get("", response_model=RequestList, responses=problem_responses(401, 403))
def list_over_api(c: ContainerDep, who: OfficerDep) -> RequestList:
    """The requests this person filed, newest first (no personal data of anyone else)."""
    with c.unit_of_work() as session:
        mine = c.disclosure.mine(session, who.actor, c.clock())
    return RequestList(items=[RequestOut.of(r) for r in mine])
