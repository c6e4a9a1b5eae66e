""" "My internet resources": a logged-in citizen sees the domain names registered to their ID
number (the registrant's blind index the domain import keeps) and disowns one. Disowning asks
for a confirmation and a fresh second factor, as changing authenticators does
(``auth.stepup``); it is recorded, flagged and put in the registrar's action feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dinhdanh.internet.errors import NotYourDomain
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.web.browser import SESSION_COOKIE, check_csrf, redirect, render
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.i18n import N_
from dinhdanh.web.portal import CITIZEN
from dinhdanh.wiring import Container

router = APIRouter(tags=["my internet resources"])
PAGE = "/account/internet"


@dataclass(frozen=True, slots=True)
class _Citizen:
    subject_id: str
    id_bidx: bytes
    fresh: bool  # a recent second factor: may disown now


def _citizen(c: Container, session: Session, request: Request) -> _Citizen | None:
    view = c.auth.sessions.resolve(session, request.cookies.get(SESSION_COOKIE), c.clock())
    if view is None or view.mfa_pending:
        return None
    account = c.auth.accounts.get(session, view.account_id)
    id_bidx = None if account is None else c.registry.id_bidx_of(session, account.subject_id)
    if account is None or id_bidx is None:
        return None
    fresh = c.auth.step_up.allows(session, account, view.amr, view.auth_time, c.clock())
    return _Citizen(account.subject_id, id_bidx, fresh)


def _ctx(subject: str) -> AccessContext:
    return AccessContext(f"citizen:{subject}", "citizen", "my internet resources")


def _confirm_path(name: str) -> str:
    return f"{PAGE}/{name}/disown"


def _to_step_up(name: str) -> Response:
    return redirect("/account/step-up?" + urlencode({"next": _confirm_path(name)}))


@router.get(PAGE, include_in_schema=False)
def my_internet(request: Request, c: ContainerDep, message: str = "") -> Response:
    with c.unit_of_work() as session:
        who = _citizen(c, session, request)
        if who is None:
            return redirect("/login?next=" + PAGE)
        domains = c.internet.my_domains(session, who.subject_id, who.id_bidx)
        event = _ctx(who.subject_id).event("read", who.subject_id, ("domain",))
        c.audit.append(session, [event], c.clock())
    ctx = {"domains": domains, "message": N_("Recorded.") if message else ""}
    return render(c, request, "internet.html", ctx, roles=CITIZEN)


@router.get(PAGE + "/{name}/disown", include_in_schema=False)
def confirm_page(request: Request, c: ContainerDep, name: str) -> Response:
    with c.unit_of_work() as session:
        who = _citizen(c, session, request)
        if who is None:
            return redirect("/login?next=" + PAGE)
        mine = {
            d.domain.ascii_name: d
            for d in c.internet.my_domains(session, who.subject_id, who.id_bidx)
        }
    found = mine.get(name)
    if found is None:
        return redirect(PAGE)
    if not who.fresh:
        return _to_step_up(name)
    return render(c, request, "internet_disown.html", {"d": found.domain}, roles=CITIZEN)


@router.post(PAGE + "/{name}/disown", include_in_schema=False)
def disown(
    request: Request, c: ContainerDep, name: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    if not check_csrf(c, request, csrf):
        return render(c, request, "error.html", {"message": "CSRF"}, status=400)
    with c.unit_of_work() as session:
        who = _citizen(c, session, request)
        if who is None:
            return redirect("/login?next=" + PAGE)
        if not who.fresh:
            return _to_step_up(name)
        try:
            c.internet.disown(
                session, who.subject_id, who.id_bidx, name, _ctx(who.subject_id), c.clock()
            )
        except NotYourDomain:
            return redirect(PAGE)
    return redirect(PAGE + "?message=disowned")
