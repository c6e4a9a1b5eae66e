""" "My numbers": a logged-in citizen sees every active number registered to their ID number,
at every carrier, and confirms or disowns each (page and JSON API, session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dinhdanh.privacy.audit import AccessContext
from dinhdanh.telecom.msisdn import MsisdnError, normalize_msisdn
from dinhdanh.telecom.service import MyNumber, TelecomError
from dinhdanh.web.browser import SESSION_COOKIE, check_csrf, redirect, render
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.i18n import N_
from dinhdanh.web.portal import CITIZEN
from dinhdanh.web.problems import Problem, problem_responses
from dinhdanh.wiring import Container

router = APIRouter(tags=["my numbers"])


class NumberOut(BaseModel):
    msisdn: str
    carrier: str
    activation_date: str
    declaration: str | None


class NumberList(BaseModel):
    items: list[NumberOut]


def _citizen(c: Container, session: Session, request: Request) -> tuple[str, bytes] | None:
    """(subject id, ID blind index) of the citizen logged in with two factors, or None."""
    view = c.auth.sessions.resolve(session, request.cookies.get(SESSION_COOKIE), c.clock())
    if view is None or view.mfa_pending:
        return None
    account = c.auth.accounts.get(session, view.account_id)
    if account is None:
        return None
    id_bidx = c.registry.id_bidx_of(session, account.subject_id)
    return None if id_bidx is None else (account.subject_id, id_bidx)


def _ctx(subject: str) -> AccessContext:
    return AccessContext(f"citizen:{subject}", "citizen", "my numbers")


def _declare(c: Container, request: Request, raw: str, declaration: str) -> MyNumber | None:
    with c.unit_of_work() as session:
        who = _citizen(c, session, request)
        if who is None:
            return None
        try:
            msisdn = normalize_msisdn(raw)
        except MsisdnError:
            raise TelecomError("not a Vietnamese mobile number") from None
        return c.telecom.declare(
            session, who[0], who[1], msisdn, declaration, _ctx(who[0]), c.clock()
        )


def _list(c: Container, session: Session, who: tuple[str, bytes]) -> list[MyNumber]:
    numbers = c.telecom.numbers_of(session, who[1], who[0])
    c.audit.append(session, [_ctx(who[0]).event("read", who[0], ("msisdn",))], c.clock())
    return numbers


@router.get("/account/numbers", include_in_schema=False)
def numbers_page(request: Request, c: ContainerDep, message: str = "") -> Response:
    with c.unit_of_work() as session:
        who = _citizen(c, session, request)
        if who is None:
            return redirect("/login?next=/account/numbers")
        numbers = _list(c, session, who)
    ctx = {"numbers": numbers, "message": N_("Recorded.") if message else ""}
    return render(c, request, "numbers.html", ctx, roles=CITIZEN)


@router.post("/account/numbers/{msisdn}/{declaration}", include_in_schema=False)
def declare_form(
    request: Request,
    c: ContainerDep,
    msisdn: str,
    declaration: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if declaration not in ("confirm", "disown") or not check_csrf(c, request, csrf):
        return render(c, request, "error.html", {"message": "CSRF"}, status=400)
    try:
        done = _declare(c, request, msisdn, f"{declaration}ed")  # confirmed | disowned
    except TelecomError:
        return redirect("/account/numbers")
    if done is None:
        return redirect("/login?next=/account/numbers")
    return redirect("/account/numbers?message=done")


# Not logged in (401), no CSRF token (403), not a mobile number (400), not yours (404).
_DECLARE_ERRORS = problem_responses(400, 401, 403, 404, 422)


@router.get("/api/v1/me/numbers", response_model=NumberList, responses=problem_responses(401))
def my_numbers(request: Request, c: ContainerDep) -> NumberList:
    """The logged-in citizen's active numbers (session cookie)."""
    with c.unit_of_work() as session:
        who = _citizen(c, session, request)
        if who is None:
            raise Problem(401, "unauthenticated", "Log in first")
        numbers = _list(c, session, who)
    return NumberList(items=[_out(n) for n in numbers])


@router.post(
    "/api/v1/me/numbers/{msisdn}:disown", response_model=NumberOut, responses=_DECLARE_ERRORS
)
def disown(
    request: Request,
    c: ContainerDep,
    msisdn: str,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> NumberOut:
    """Declare a number not yours: it is flagged for the lock timeline at once."""
    return _api_declare(request, c, msisdn, "disowned", x_csrf_token)


@router.post(
    "/api/v1/me/numbers/{msisdn}:confirm", response_model=NumberOut, responses=_DECLARE_ERRORS
)
def confirm(
    request: Request,
    c: ContainerDep,
    msisdn: str,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> NumberOut:
    """Confirm a number is yours."""
    return _api_declare(request, c, msisdn, "confirmed", x_csrf_token)


def _api_declare(
    request: Request, c: Container, msisdn: str, declaration: str, token: str | None
) -> NumberOut:
    if not check_csrf(c, request, token):
        raise Problem(403, "csrf_failed", "Send the X-CSRF-Token of your session's pages")
    done = _declare(c, request, msisdn, declaration)
    if done is None:
        raise Problem(401, "unauthenticated", "Log in first")
    return _out(done)


def _out(n: MyNumber) -> NumberOut:
    return NumberOut(
        msisdn=n.msisdn,
        carrier=n.carrier,
        activation_date=n.activation_at.date().isoformat(),
        declaration=n.declaration,
    )
