"""Pages of accounts and login (vi and en): enrol, log in, second factor, my account.

Thin: each handler checks CSRF, calls one service and renders. Failures that must stick
(a wrong code counts, a throttle grows) are caught inside the unit of work, so it commits.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.auth import totp
from dinhdanh.auth.accounts import SetupOutcome
from dinhdanh.auth.enrolment import ChildEnrolment, Completed, EnrolmentFailed
from dinhdanh.auth.grants import revoke_grant
from dinhdanh.auth.login import LoginFailed
from dinhdanh.auth.models import Account, Consent, Grant, SignInEvent
from dinhdanh.auth.sessions import SessionView
from dinhdanh.auth.stepup import has_second_factor
from dinhdanh.identity.idnumber import IdNumberError
from dinhdanh.web.browser import (
    ENROL_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    clear_cookie,
    client_ip,
    redirect,
    render,
    safe_next,
    set_cookie,
)
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.i18n import N_
from dinhdanh.web.labels import PASSWORD_RULES
from dinhdanh.web.portal import CITIZEN
from dinhdanh.web.problems import Problem
from dinhdanh.wiring import Container

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]
# OWASP device cookie (auth/sessions.py): sealed, names the accounts this browser logged in to.
DEVICE_COOKIE = "__Host-dd_device"
# The pages' messages (msgids: the templates translate them).
LOGIN_FAILED = N_("Wrong ID number or password.")
CODE_FAILED = N_("Wrong or expired code.")
THROTTLED = N_("Too many attempts. Please try again later.")
CHILD_ENROL = N_("Under 16, a parent or guardian creates your login on their “My family” page.")
CODE_SENT = N_("If the details match the registry, a code was sent to the registered phone number.")
ENROL_LOCKED = N_("Too many wrong codes. Start again to get a new code.")


def _bad_csrf(c: Container, request: Request) -> Response:
    return render(c, request, "error.html", {"error": "csrf", "detail": "form expired"}, 400)


def _with_session(
    c: Container, response: Response, token: str, device: str | None = None
) -> Response:
    set_cookie(response, SESSION_COOKIE, token)
    if device is not None:
        max_age = c.settings.device_cookie_days * 86400
        set_cookie(response, DEVICE_COOKIE, device, max_age=max_age)
    return response


# -- log in -------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, c: ContainerDep, next: str = "/account") -> Response:
    return render(c, request, "login.html", {"next": safe_next(next)})


@router.post("/login")
def login(
    request: Request,
    c: ContainerDep,
    id_number: FormStr,
    password: FormStr,
    csrf: FormStr = "",
    next: FormStr = "/account",
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    now = c.clock()
    try:
        result = c.auth.login.password(
            c.unit_of_work,
            id_number,
            password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            now=now,
            device=request.cookies.get(DEVICE_COOKIE),
        )
    except LoginFailed as failure:
        message = _code_message(failure, LOGIN_FAILED)
        return render(c, request, "login.html", {"next": safe_next(next), "message": message}, 401)
    target = safe_next(next)
    if result.mfa_pending:
        target = "/login/second-factor?" + urlencode({"next": target})
    return _with_session(c, redirect(target), result.token, result.device)


def _code_message(failure: LoginFailed | EnrolmentFailed, wrong: str = CODE_FAILED) -> str:
    """The page's message for a refused attempt: throttled, or simply wrong."""
    return THROTTLED if failure.retry_after else wrong


@router.get("/login/second-factor")
def second_factor_page(request: Request, c: ContainerDep, next: str = "/account") -> Response:
    return render(c, request, "second_factor.html", {"next": safe_next(next)})


@router.post("/login/second-factor")
def second_factor(
    request: Request,
    c: ContainerDep,
    code: FormStr,
    csrf: FormStr = "",
    next: FormStr = "/account",
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    failure: LoginFailed | None = None
    with c.unit_of_work() as session:
        try:
            result = c.auth.login.second_factor(
                session,
                request.cookies.get(SESSION_COOKIE, ""),
                code,
                ip=client_ip(request),
                now=c.clock(),
                device=request.cookies.get(DEVICE_COOKIE),
            )
        except LoginFailed as exc:
            failure = exc
    if failure is not None:
        message = _code_message(failure)
        return render(
            c, request, "second_factor.html", {"next": safe_next(next), "message": message}, 401
        )
    return _with_session(c, redirect(safe_next(next)), result.token, result.device)


# -- enrolment --------------------------------------------------------------------------


@router.get("/enrol")
def enrol_page(request: Request, c: ContainerDep, next: str = "/account") -> Response:
    return render(c, request, "enrol.html", {"step": "identity", "next": safe_next(next)})


@router.post("/enrol")
def enrol_start(
    request: Request,
    c: ContainerDep,
    id_number: FormStr,
    full_name: FormStr,
    date_of_birth: FormStr,
    csrf: FormStr = "",
    next: FormStr = "/account",
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    ctx = {"step": "identity", "next": safe_next(next)}
    try:
        dob = date.fromisoformat(date_of_birth)
    except ValueError:
        return render(c, request, "enrol.html", ctx | {"message": N_("Date of birth")}, 400)
    failure: str | None = None
    with c.unit_of_work() as session:
        try:
            started = c.auth.enrolments.start(
                session, id_number, full_name, dob, ip=client_ip(request), now=c.clock()
            )
        except IdNumberError:
            failure = N_("Not a valid ID number.")
        except ChildEnrolment:
            failure = CHILD_ENROL
        except EnrolmentFailed:
            failure = THROTTLED
    if failure is not None:
        status = 403 if failure == CHILD_ENROL else 400
        return render(c, request, "enrol.html", ctx | {"message": failure}, status)
    # The same page whether or not a code was sent (no match, no usable number, codes asked
    # for too often): it explains every reason a code may not come, and names none.
    response = render(
        c,
        request,
        "enrol.html",
        {"step": "code", "next": safe_next(next), "notice": CODE_SENT, "no_code_help": True},
    )
    set_cookie(response, ENROL_COOKIE, started.token, max_age=1800)
    return response


@router.post("/enrol/code")
def enrol_code(
    request: Request,
    c: ContainerDep,
    code: FormStr,
    csrf: FormStr = "",
    next: FormStr = "/account",
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    failure: EnrolmentFailed | None = None
    with c.unit_of_work() as session:
        try:
            c.auth.enrolments.verify(
                session, request.cookies.get(ENROL_COOKIE, ""), code, c.clock()
            )
        except EnrolmentFailed as exc:
            failure = exc
    if failure is not None:
        if failure.flow_over:
            # This flow is over; a new one can start at once (locks are per flow).
            ctx = {"step": "identity", "next": safe_next(next), "message": ENROL_LOCKED}
            return render(c, request, "enrol.html", ctx, 400)
        return render(
            c,
            request,
            "enrol.html",
            {"step": "code", "next": safe_next(next), "message": CODE_FAILED},
            400,
        )
    return render(c, request, "enrol.html", {"step": "password", "next": safe_next(next)})


@router.post("/enrol/password")
def enrol_password(
    request: Request,
    c: ContainerDep,
    password: FormStr,
    csrf: FormStr = "",
    next: FormStr = "/account",
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    now = c.clock()
    ctx = {"step": "password", "next": safe_next(next)}
    with c.unit_of_work() as session:
        try:
            result = c.auth.enrolments.complete(
                session, request.cookies.get(ENROL_COOKIE, ""), password, now
            )
        except EnrolmentFailed:
            return render(c, request, "enrol.html", ctx | {"message": CODE_FAILED}, 400)
        if isinstance(result, list):
            return render(
                c,
                request,
                "enrol.html",
                ctx | {"violations": [PASSWORD_RULES[v] for v in result]},
                400,
            )
        if isinstance(result, Completed):
            token, device = _enrolled_session(c, session, request, result)
    if not isinstance(result, Completed):
        # The account has a second factor: the SMS code alone changes nothing yet.
        return _factor_step(c, request, next)
    response = redirect("/account/totp?" + urlencode({"next": safe_next(next)}))
    clear_cookie(response, ENROL_COOKIE)
    return _with_session(c, response, token, device)


def _enrolled_session(
    c: Container, session: Session, request: Request, done: Completed
) -> tuple[str, str]:
    """The session the flow earned (``done.amr``, ``done.acr``) and a fresh device cookie."""
    now = c.clock()
    token = c.auth.sessions.create(
        session,
        account_id=done.account.id,
        amr=done.amr,
        acr=done.acr,
        mfa_pending=False,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        now=now,
    )
    device = c.auth.login.trust(
        session,
        list(done.throttle_keys),
        done.account.id,
        request.cookies.get(DEVICE_COOKIE),
        now,
    )
    return token, device


def _restart(c: Container, request: Request, next: str) -> Response:
    """This flow cannot go on: back to the first step."""
    ctx = {"step": "identity", "next": safe_next(next), "message": CODE_FAILED}
    return render(c, request, "enrol.html", ctx, 400)


def _factor_step(
    c: Container, request: Request, next: str, message: str | None = None, status: int = 200
) -> Response:
    ctx = {
        "step": "factor",
        "next": safe_next(next),
        "message": message,
        "wait_hours": c.settings.recovery_wait_hours,
    }
    return render(c, request, "enrol.html", ctx, status)


@router.post("/enrol/factor")
def enrol_factor(
    request: Request,
    c: ContainerDep,
    code: FormStr,
    csrf: FormStr = "",
    next: FormStr = "/account",
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    failure: EnrolmentFailed | None = None
    with c.unit_of_work() as session:
        try:
            done = c.auth.enrolments.prove_factor(
                session,
                request.cookies.get(ENROL_COOKIE, ""),
                code,
                ip=client_ip(request),
                device=request.cookies.get(DEVICE_COOKIE),
                now=c.clock(),
            )
            token, device = _enrolled_session(c, session, request, done)
        except EnrolmentFailed as exc:
            failure = exc  # commit: a wrong code counts against the account's throttle
    if failure is not None:
        if failure.flow_over:
            return _restart(c, request, next)
        message = _code_message(failure)
        return _factor_step(c, request, next, message, 401)
    response = redirect(safe_next(next))
    clear_cookie(response, ENROL_COOKIE)
    return _with_session(c, response, token, device)


@router.post("/enrol/wait")
def enrol_wait(
    request: Request, c: ContainerDep, csrf: FormStr = "", next: FormStr = "/account"
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    with c.unit_of_work() as session:
        try:
            apply_after = c.auth.enrolments.wait(
                session, request.cookies.get(ENROL_COOKIE, ""), c.clock()
            )
        except EnrolmentFailed:
            return _restart(c, request, next)
    ctx = {"step": "waiting", "next": safe_next(next), "apply_after": apply_after}
    response = render(c, request, "enrol.html", ctx)
    clear_cookie(response, ENROL_COOKIE)
    return response


# -- my account ---------------------------------------------------------------------------


def _current(
    c: Container, session: Session, request: Request
) -> tuple[SessionView, Account] | None:
    view = c.auth.sessions.resolve(session, request.cookies.get(SESSION_COOKIE), c.clock())
    if view is None or view.mfa_pending:
        return None
    account = c.auth.accounts.get(session, view.account_id)
    return None if account is None else (view, account)


def _to_login(path: str) -> Response:
    return redirect("/login?" + urlencode({"next": path}))


def _fresh(c: Container, session: Session, view: SessionView, account: Account) -> bool:
    """May this session change authenticators now (``auth.stepup``)?"""
    return c.auth.step_up.allows(session, account, view.amr, view.auth_time, c.clock())


def _to_step_up(path: str) -> Response:
    return redirect("/account/step-up?" + urlencode({"next": path}))


def fresh_account(
    c: Container, session: Session, request: Request, login_to: str, step_up_to: str | None = None
) -> Account | Response:
    """The signed-in citizen with a recent second factor, as account changes need, or where
    to send the browser first: the login (back to ``login_to``) or the step-up (back to
    ``step_up_to``, by default ``login_to``)."""
    current = _current(c, session, request)
    if current is None:
        return _to_login(login_to)
    view, account = current
    if not _fresh(c, session, view, account):
        return _to_step_up(step_up_to or login_to)
    return account


def _totp_account(
    c: Container, session: Session, request: Request, next: str
) -> Account | Response:
    """``fresh_account`` for the TOTP setup pages: back to them, keeping ``next``."""
    back = "/account/totp?" + urlencode({"next": safe_next(next)})
    return fresh_account(c, session, request, "/account/totp", back)


def _step_up_problem() -> Problem:
    return Problem(
        403,
        "step_up_required",
        "Confirm your second factor first",
        "changing authenticators needs a recent second factor",
        step_up="/account/step-up?next=%2Faccount",
    )


@router.get("/account/step-up")
def step_up_page(request: Request, c: ContainerDep, next: str = "/account") -> Response:
    with c.unit_of_work() as session:
        current = _current(c, session, request)
        if current is None:
            return _to_login(safe_next(next))
        _, account = current
        needs_factor = has_second_factor(session, account)
    if not needs_factor:
        # No second factor yet: a fresh password login is what first-time setup needs.
        return _to_login(safe_next(next))
    return render(c, request, "step_up.html", {"next": safe_next(next)}, roles=CITIZEN)


@router.post("/account/step-up")
def step_up(
    request: Request,
    c: ContainerDep,
    code: FormStr,
    csrf: FormStr = "",
    next: FormStr = "/account",
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    failure: LoginFailed | None = None
    with c.unit_of_work() as session:
        try:
            c.auth.login.step_up(
                session,
                request.cookies.get(SESSION_COOKIE, ""),
                code,
                ip=client_ip(request),
                now=c.clock(),
                device=request.cookies.get(DEVICE_COOKIE),
            )
        except LoginFailed as exc:
            failure = exc  # commit: the failure counts
    if failure is not None:
        message = _code_message(failure)
        ctx = {"next": safe_next(next), "message": message}
        return render(c, request, "step_up.html", ctx, 401, roles=CITIZEN)
    return redirect(safe_next(next))


# What other routers of account pages use (``age_account``).


def bad_csrf(c: Container, request: Request) -> Response:
    return _bad_csrf(c, request)


@router.get("/account")
def account_page(request: Request, c: ContainerDep) -> Response:
    now = c.clock()
    with c.unit_of_work() as session:
        current = _current(c, session, request)
        if current is None:
            return _to_login("/account")
        view, account = current
        consents = list(
            session.scalars(
                select(Consent).where(
                    Consent.account_id == account.id, Consent.revoked_at.is_(None)
                )
            )
        )
        names = c.auth.clients.names(session, {x.client_id for x in consents})
        sign_ins = list(
            session.scalars(
                select(SignInEvent)
                .where(SignInEvent.account_id == account.id)
                .order_by(SignInEvent.id.desc())
                .limit(20)
            )
        )
        ctx = {
            "authenticators": c.auth.accounts.authenticators(session, account),
            "consents": [(x, names.get(x.client_id, x.client_id)) for x in consents],
            "sessions": c.auth.sessions.active(session, account.id, now),
            "current_session": view.id,
            "sign_ins": sign_ins,
            "level": account.level,
            "passkeys": c.auth.passkeys.list(session, account),
            "recovery": c.auth.recoveries.pending(session, account.id),
            "age_credentials": c.age_credentials.active(session, account.subject_id, now),
            "age_revoked": request.query_params.get("age_revoked") == "1",
        }
    return render(c, request, "account.html", ctx, roles=CITIZEN)


def _totp_setup_page(
    c: Container,
    request: Request,
    account: Account,
    secret: bytes,
    handle: str,
    next: str,
    status: int = 200,
) -> Response:
    b32 = base64.b32encode(secret).decode().rstrip("=")
    uri = totp.provisioning_uri(secret, account.id[:8], "dinhdanh")
    ctx: dict[str, Any] = {"secret": b32, "uri": uri, "handle": handle, "next": safe_next(next)}
    if status != 200:
        ctx["message"] = CODE_FAILED
    return render(c, request, "totp.html", ctx, status, roles=CITIZEN)


@router.get("/account/totp")
def totp_page(request: Request, c: ContainerDep, next: str = "/account") -> Response:
    with c.unit_of_work() as session:
        account = _totp_account(c, session, request, next)
        if isinstance(account, Response):
            return account
        setup = c.auth.accounts.begin_totp_setup(session, account, c.clock())
    return _totp_setup_page(c, request, account, setup.secret, setup.handle, next)


@router.post("/account/totp")
def totp_confirm(
    request: Request,
    c: ContainerDep,
    handle: FormStr,
    code: FormStr,
    csrf: FormStr = "",
    next: FormStr = "/account",
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    now = c.clock()
    with c.unit_of_work() as session:
        account = _totp_account(c, session, request, next)
        if isinstance(account, Response):
            return account
        outcome = c.auth.accounts.confirm_totp_setup(session, account, handle, code, now)
        if outcome is SetupOutcome.EXPIRED:
            return _to_login("/account/totp")
        if outcome is SetupOutcome.WRONG_CODE:
            secret = c.auth.accounts.pending_totp_secret(session, account, handle, now)
            if secret is None:
                return _to_login("/account/totp")
            return _totp_setup_page(c, request, account, secret, handle, next, 400)
        codes = c.auth.accounts.new_recovery_codes(session, account)
        c.auth.login.record(session, account, "totp", "enrolled", client_ip(request), now)
    ctx = {"codes": codes, "next": safe_next(next)}
    return render(c, request, "recovery_codes.html", ctx, roles=CITIZEN)


@router.post("/account/recovery-codes")
def recovery_codes(request: Request, c: ContainerDep, csrf: FormStr = "") -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    with c.unit_of_work() as session:
        account = fresh_account(c, session, request, "/account")
        if isinstance(account, Response):
            return account
        account.updated_at = c.clock()
        codes = c.auth.accounts.new_recovery_codes(session, account)
    ctx = {"codes": codes, "next": "/account"}
    return render(c, request, "recovery_codes.html", ctx, roles=CITIZEN)


@router.post("/account/consents/{client_id}/revoke")
def revoke_consent(
    request: Request, c: ContainerDep, client_id: str, csrf: FormStr = ""
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    now = c.clock()
    with c.unit_of_work() as session:
        current = _current(c, session, request)
        if current is None:
            return _to_login("/account")
        _, account = current
        row = session.scalars(
            select(Consent).where(Consent.account_id == account.id, Consent.client_id == client_id)
        ).first()
        if row is not None and row.revoked_at is None:
            row.revoked_at = now
            for grant in session.scalars(
                select(Grant).where(
                    Grant.account_id == account.id,
                    Grant.client_id == client_id,
                    Grant.revoked_at.is_(None),
                )
            ):
                revoke_grant(session, grant.id, now)
            c.auth.login.record(
                session, account, "consent", f"revoked:{client_id}", client_ip(request), now
            )
    return redirect("/account")


@router.post("/account/sessions/{session_id}/revoke")
def revoke_session(
    request: Request, c: ContainerDep, session_id: str, csrf: FormStr = ""
) -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    with c.unit_of_work() as session:
        current = _current(c, session, request)
        if current is None:
            return _to_login("/account")
        _, account = current
        c.auth.sessions.revoke(session, session_id, account.id, c.clock())
    return redirect("/account")


@router.post("/account/logout-everywhere")
def logout_everywhere(request: Request, c: ContainerDep, csrf: FormStr = "") -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    now = c.clock()
    with c.unit_of_work() as session:
        current = _current(c, session, request)
        if current is None:
            return _to_login("/account")
        _, account = current
        c.auth.sessions.revoke_all(session, account.id, now)
        c.auth.login.record(session, account, "logout", "everywhere", client_ip(request), now)
    response = redirect("/login")
    clear_cookie(response, SESSION_COOKIE)
    return response


# -- passkeys (WebAuthn): JSON endpoints called by static/passkeys.js -------------------------


class PasskeyAnswer(BaseModel):
    handle: str = Field(max_length=100)
    credential: dict[str, Any]
    name: str = Field(default="", max_length=100)
    next: str = Field(default="/account", max_length=2000)


def _json_csrf(c: Container, request: Request) -> None:
    if not check_csrf(c, request, request.headers.get("x-csrf-token")):
        raise Problem(403, "csrf", "Missing or wrong CSRF token", "reload the page")


async def _passkey_answer(request: Request, c: ContainerDep) -> PasskeyAnswer:
    """The body, read only once the CSRF header checks out. A dependency rather than a body
    parameter: FastAPI reads and parses body parameters before any dependency runs."""
    _json_csrf(c, request)
    try:
        return PasskeyAnswer.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


AnswerDep = Annotated[PasskeyAnswer, Depends(_passkey_answer)]


@router.post("/account/passkeys/options")
def passkey_register_options(request: Request, c: ContainerDep) -> JSONResponse:
    _json_csrf(c, request)
    with c.unit_of_work() as session:
        current = _current(c, session, request)
        if current is None:
            raise Problem(401, "unauthenticated", "Log in first")
        view, account = current
        if not _fresh(c, session, view, account):
            raise _step_up_problem()
        ceremony = c.auth.passkeys.begin_registration(
            session, account, f"dinhdanh-{account.id[:8]}", c.clock()
        )
    return JSONResponse({"handle": ceremony.handle, "options": ceremony.options})


@router.post("/account/passkeys", status_code=201)
def passkey_register(request: Request, c: ContainerDep, answer: AnswerDep) -> JSONResponse:
    now = c.clock()
    with c.unit_of_work() as session:
        current = _current(c, session, request)
        if current is None:
            raise Problem(401, "unauthenticated", "Log in first")
        view, account = current
        if not _fresh(c, session, view, account):
            raise _step_up_problem()
        cred = c.auth.passkeys.finish_registration(
            session, account, answer.handle, answer.credential, answer.name, now
        )
        c.auth.login.record(session, account, "passkey", "registered", client_ip(request), now)
        body = {"id": cred.id, "name": cred.name}
    return JSONResponse(body, status_code=201)


@router.post("/account/passkeys/{cred_id}/revoke")
def passkey_revoke(request: Request, c: ContainerDep, cred_id: str, csrf: FormStr = "") -> Response:
    if not check_csrf(c, request, csrf):
        return _bad_csrf(c, request)
    now = c.clock()
    with c.unit_of_work() as session:
        account = fresh_account(c, session, request, "/account")
        if isinstance(account, Response):
            return account
        if c.auth.passkeys.revoke(session, account, cred_id, now):
            c.auth.login.record(session, account, "passkey", "revoked", client_ip(request), now)
    return redirect("/account")


@router.post("/login/passkey/options")
def passkey_login_options(request: Request, c: ContainerDep) -> JSONResponse:
    _json_csrf(c, request)
    ceremony = c.auth.passkeys.begin_login(c.clock())  # stateless: writes nothing
    return JSONResponse({"handle": ceremony.handle, "options": ceremony.options})


@router.post("/login/passkey")
def passkey_login(request: Request, c: ContainerDep, answer: AnswerDep) -> JSONResponse:
    failure: LoginFailed | None = None
    with c.unit_of_work() as session:
        try:
            result = c.auth.login.passkey(
                session,
                answer.handle,
                answer.credential,
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
                now=c.clock(),
                device=request.cookies.get(DEVICE_COOKIE),
            )
        except LoginFailed as exc:
            failure = exc  # commit: the failure counts
    if failure is not None:
        if failure.retry_after is not None:
            raise Problem(429, "throttled", "Too many attempts", "try again later")
        raise Problem(401, "passkey_rejected", "The passkey was not accepted")
    response = JSONResponse({"redirect": safe_next(answer.next)})
    _with_session(c, response, result.token, result.device)
    return response
