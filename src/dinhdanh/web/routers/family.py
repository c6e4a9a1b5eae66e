"""The guardian's "My family" page: children (name, age band), their logins and their
platform accounts awaiting or holding a guardian's approval (``age.children``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dinhdanh.age.children import (
    ChildLoginRefused,
    DecisionRefused,
    FreshAuthRequired,
    NotYourChild,
)
from dinhdanh.age.guardian_rules import Decision
from dinhdanh.web.browser import SESSION_COOKIE, check_csrf, redirect, render
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.i18n import N_
from dinhdanh.web.portal import CITIZEN
from dinhdanh.web.routers.access_log import citizen_subject

router = APIRouter(include_in_schema=False)
PAGE = "/account/family"

MESSAGES = {
    "approved": N_("The account was approved."),
    "refused": N_("The account was refused."),
    "revoked": N_("The approval was revoked."),
    "login": N_(
        "The login was created. Your child signs in with their ID number and this password."
    ),
    "exists": N_("This child already has a login, or is old enough to enrol alone."),
    "weak": N_("Choose a longer password that does not contain the child's name or ID number."),
    "not_now": N_("This decision is not possible now."),
}
BANDS = {"under-13": N_("under 13"), "13-15": N_("13 to 15"), "16-17": N_("16 or 17")}
STATE_LABELS = {
    "pending": N_("Waiting for your approval"),
    "approved": N_("Approved"),
    "refused": N_("Refused"),
    "revoked": N_("Approval revoked"),
}


def _to(message: str) -> Response:
    return redirect(PAGE + "?" + urlencode({"message": message}))


@router.get(PAGE)
def my_family(request: Request, c: ContainerDep, message: str = "") -> Response:
    with c.unit_of_work() as session:
        guardian = citizen_subject(c, session, request)
        if guardian is None:
            return redirect("/login?next=" + PAGE)
        children = c.children.family(session, guardian, c.clock())
    ctx = {
        "children": children,
        "message": MESSAGES.get(message, ""),
        "states": STATE_LABELS,
        "bands": BANDS,
    }
    return render(c, request, "family.html", ctx, roles=CITIZEN)


@router.post(PAGE + "/{link_id}/login")
def create_login(
    request: Request,
    c: ContainerDep,
    link_id: str,
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not check_csrf(c, request, csrf):
        return render(c, request, "error.html", {"message": "CSRF"}, status=400)
    with c.unit_of_work() as session:
        guardian = citizen_subject(c, session, request)
        if guardian is None:
            return redirect("/login?next=" + PAGE)
        try:
            child = c.children.child_of_link(session, guardian, link_id, c.clock())
            made = c.children.create_login(session, guardian, child, password, c.clock())
        except NotYourChild:
            return render(c, request, "error.html", {"message": N_("Not found")}, status=404)
        except ChildLoginRefused:
            return _to("exists")
    return _to("weak" if isinstance(made, list) else "login")


@router.post(PAGE + "/{link_id}/accounts/{binding_id}/{decision}")
def decide(
    request: Request,
    c: ContainerDep,
    link_id: str,
    binding_id: str,
    decision: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not check_csrf(c, request, csrf):
        return render(c, request, "error.html", {"message": "CSRF"}, status=400)
    if decision not in (Decision.APPROVE, Decision.REFUSE, Decision.REVOKE):
        return render(c, request, "error.html", {"message": N_("Not found")}, status=404)
    now = c.clock()
    with c.unit_of_work() as session:
        view = c.auth.sessions.resolve(session, request.cookies.get(SESSION_COOKIE), now)
        account = None if view is None else c.auth.accounts.get(session, view.account_id)
        if view is None or view.mfa_pending or account is None:
            return redirect("/login?next=" + PAGE)
        fresh = c.auth.step_up.allows(session, account, view.amr, view.auth_time, now)
        try:
            child = c.children.child_of_link(session, account.subject_id, link_id, now)
            after = c.children.decide(
                session,
                account.subject_id,
                child,
                binding_id,
                Decision(decision),
                fresh=fresh,
                now=now,
            )
        except NotYourChild:
            return render(c, request, "error.html", {"message": N_("Not found")}, status=404)
        except FreshAuthRequired:
            return redirect("/account/step-up?" + urlencode({"next": PAGE}))
        except DecisionRefused:
            return _to("not_now")
    return _to(str(after))
