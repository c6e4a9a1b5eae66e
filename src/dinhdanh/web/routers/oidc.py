"""OpenID Connect endpoints: thin edges over ``dinhdanh.auth.oidc`` (one module per spec)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dinhdanh.age.credentials.vci import PRE_AUTHORIZED_GRANT
from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.oidc import authorize as authz
from dinhdanh.auth.oidc import dpop
from dinhdanh.auth.oidc.client_auth import authenticate_client
from dinhdanh.auth.oidc.discovery import metadata
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.introspection import introspect
from dinhdanh.auth.oidc.logout import must_confirm, parse_logout
from dinhdanh.auth.oidc.par import push
from dinhdanh.auth.oidc.provider import Authentication, Provider
from dinhdanh.auth.oidc.revocation import revoke
from dinhdanh.auth.oidc.token import token_request
from dinhdanh.auth.oidc.userinfo import userinfo
from dinhdanh.web.browser import (
    SESSION_COOKIE,
    check_csrf,
    clear_cookie,
    redirect,
    render,
)
from dinhdanh.web.deps import ContainerDep, in_db_thread
from dinhdanh.web.labels import SCOPES
from dinhdanh.web.problems import DPOP_ALGS, NO_STORE, errors_as
from dinhdanh.web.routers import oidc_docs as docs
from dinhdanh.web.routers.oidc_docs import CLIENT_AUTH, FORM_TYPE, form_body
from dinhdanh.wiring import Container

router = APIRouter(tags=["openid-connect"])
# The endpoints a client calls (not the browser's pages): any error in RFC 6749's format.
oauth = APIRouter(tags=["openid-connect"], route_class=errors_as("oauth"))
T = TypeVar("T")


def _dpop_header(request: Request) -> str | None:
    proofs = request.headers.getlist("dpop")
    if len(proofs) > 1:
        raise dpop.invalid_proof("send one DPoP header, not several")
    return proofs[0] if proofs else None


MAX_FORM_FIELDS = 64


async def _form(request: Request) -> dict[str, str]:
    """The form-encoded body of an OAuth request (RFC 6749 sections 3.2 and 4.1.3).

    Parsed here rather than by Starlette's multipart-capable parser, which cost about a tenth
    of a client_credentials grant. A parameter sent twice is refused (RFC 6749 section 3.1);
    errors reach the client through the app's DomainError handler (``web/problems.py``).
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise OAuthError("invalid_request", f"the request body must be {FORM_TYPE}")
    try:
        pairs = parse_qsl(
            (await request.body()).decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the request body is not a valid form") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise OAuthError("invalid_request", "a parameter is given more than once")
    return form


@router.get("/.well-known/openid-configuration")
def discovery(c: ContainerDep) -> dict[str, Any]:
    return metadata(c.auth.provider)


class JwkSetResponse(JSONResponse):
    media_type = "application/jwk-set+json"


@router.get("/jwks", response_class=JwkSetResponse)
def jwks(c: ContainerDep) -> JSONResponse:
    return JwkSetResponse(
        c.auth.provider.keys.jwks,
        headers={"Cache-Control": "public, max-age=300"},
    )


@oauth.post(
    "/token",
    responses=docs.TOKEN,
    openapi_extra=form_body(
        ("grant_type",),
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "pre-authorized_code",
        *CLIENT_AUTH,
    ),
)
async def token(request: Request) -> JSONResponse:
    c: Container = request.app.state.container  # not a dependency: this is the hottest path
    form = await _form(request)
    authorization = request.headers.get("authorization")
    proof = _dpop_header(request)
    if form.get("grant_type") == PRE_AUTHORIZED_GRANT:
        # OpenID4VCI: a wallet spends a credential offer's code (no client authentication).
        return await in_db_thread(request, _pre_authorized, c, form)
    if form.get("grant_type") == "client_credentials" and proof is None:
        # No database work once the client is cached: cheaper on the event loop than a hop.
        return _token(c, authorization, form, None)
    # Codes, refresh tokens and DPoP proofs are rows under lock: a wait for SQLite's write
    # lock must not stall the event loop (every other request of this worker) with it.
    return await in_db_thread(request, _token, c, authorization, form, proof)


def _token(
    c: Container, authorization: str | None, form: dict[str, str], proof: str | None
) -> JSONResponse:
    now = c.clock()
    failure: OAuthError | None = None
    with c.unit_of_work() as session:
        try:
            client = _client(c, session, authorization, form, "/token", now)
            jkt = None
            if proof is not None:
                url = c.auth.issuer + "/token"
                jkt = dpop.check_proof(
                    session, proof, method="POST", url=url, now=now, seen=c.auth.replay
                )
            body = token_request(c.auth.provider, session, client, form, now, jkt)
        except OAuthError as exc:
            failure = exc  # still commit: a spent code or a revoked family must stay so
    if failure is not None:
        raise failure
    return JSONResponse(body, headers=NO_STORE)


def _pre_authorized(c: Container, form: dict[str, str]) -> JSONResponse:
    with c.unit_of_work() as session:
        body = c.age_issuance.token(session, form, c.clock())
    return JSONResponse(body, headers=NO_STORE)


def _client(
    c: Container,
    session: Session,
    authorization: str | None,
    form: dict[str, str],
    endpoint: str,
    now: datetime,
) -> ClientInfo:
    return authenticate_client(
        session,
        c.auth.clients,
        authorization=authorization,
        form=form,
        audiences=[c.auth.issuer, c.auth.issuer + endpoint],
        now=now,
        seen=c.auth.replay,
    )


ClientAction = Callable[[Session, ClientInfo, dict[str, str], datetime], T]


async def _as_client(request: Request, c: Container, endpoint: str, action: ClientAction[T]) -> T:
    """Authenticate the client and run ``action`` in one unit of work, in the thread pool:
    it reads and writes rows, and a wait for SQLite's write lock must not stall the loop."""
    form = await _form(request)
    authorization = request.headers.get("authorization")

    def work() -> T:
        now = c.clock()
        with c.unit_of_work() as session:
            client = _client(c, session, authorization, form, endpoint, now)
            return action(session, client, form, now)

    return await in_db_thread(request, work)


@oauth.post(
    "/par",
    status_code=201,
    responses=docs.PAR,
    openapi_extra=form_body((), *CLIENT_AUTH, *docs.AUTHORIZE_PARAMS),
)
async def par(request: Request, c: ContainerDep) -> JSONResponse:
    def action(s: Session, client: ClientInfo, form: dict[str, str], now: datetime) -> Any:
        return push(c.auth.provider, s, client, form, now)

    body = await _as_client(request, c, "/par", action)
    return JSONResponse(body, status_code=201, headers=NO_STORE)


def _token_param(form: dict[str, str]) -> str:
    token = form.get("token")
    if not token:
        raise OAuthError("invalid_request", "token is required")
    return token


@oauth.post(
    "/revoke",
    response_class=Response,
    responses=docs.REVOKE,
    openapi_extra=form_body(("token",), "token_type_hint", *CLIENT_AUTH),
)
async def revocation(request: Request, c: ContainerDep) -> Response:
    def action(s: Session, client: ClientInfo, form: dict[str, str], now: datetime) -> None:
        revoke(c.auth.provider, s, client, _token_param(form), now)

    await _as_client(request, c, "/revoke", action)
    return Response(status_code=200, headers=NO_STORE)


@oauth.post(
    "/introspect",
    responses=docs.INTROSPECT,
    openapi_extra=form_body(("token",), "token_type_hint", *CLIENT_AUTH),
)
async def introspection(request: Request, c: ContainerDep) -> JSONResponse:
    def action(s: Session, client: ClientInfo, form: dict[str, str], now: datetime) -> Any:
        return introspect(c.auth.provider, s, client, _token_param(form), now)

    body = await _as_client(request, c, "/introspect", action)
    return JSONResponse(body, headers=NO_STORE)


@oauth.get("/userinfo", operation_id="userinfo_get", responses=docs.USERINFO)
@oauth.post("/userinfo", operation_id="userinfo_post", responses=docs.USERINFO)
async def userinfo_endpoint(
    request: Request,
    c: ContainerDep,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    scheme, _, value = (authorization or "").partition(" ")
    scheme, token = scheme.lower(), value.strip()
    if scheme not in ("bearer", "dpop") or not token:
        return JSONResponse(
            {"error": "invalid_request", "error_description": "send an access token"},
            status_code=401,
            headers={"WWW-Authenticate": f"Bearer, DPoP {DPOP_ALGS}", **NO_STORE},
        )
    answer_as = "DPoP" if scheme == "dpop" else "Bearer"

    def work(proof_header: str | None) -> dict[str, Any]:
        now = c.clock()
        with c.unit_of_work() as session:
            jkt = None
            if scheme == "dpop":
                jkt = dpop.check_proof(
                    session,
                    proof_header,
                    method=request.method,
                    url=c.auth.issuer + "/userinfo",
                    now=now,
                    access_token=token,
                    seen=c.auth.replay,
                )
            return userinfo(c.auth.provider, session, token, now, jkt)

    try:
        body = await in_db_thread(
            request, work, _dpop_header(request) if scheme == "dpop" else None
        )
    except OAuthError as exc:  # the answer names the scheme the token came with
        if exc.error == "invalid_dpop_proof":
            exc.status = 401  # RFC 9449 section 7.1: a resource server answers 401
        exc.scheme = answer_as
        raise
    return JSONResponse(body, headers=NO_STORE)


# -- the browser side: authorize, consent, logout -------------------------------------------


def current_authn(
    c: Container, session: Any, request: Request, now: datetime
) -> tuple[Authentication | None, str | None]:
    view = c.auth.sessions.resolve(session, request.cookies.get(SESSION_COOKIE), now)
    if view is None or view.mfa_pending:
        return None, None
    account = c.auth.accounts.get(session, view.account_id)
    if account is None:
        return None, None
    return (
        Authentication(account.id, account.subject_id, view.acr, view.auth_time, view.amr),
        view.id,
    )


def _consent_lines(scopes: list[str]) -> list[tuple[str | None, str]]:
    """(msgid, scope): an unknown scope is shown as it is, never as a msgid."""
    return [(SCOPES.get(s), s) for s in scopes]


def _to_login(
    provider: Provider, session: Session, req: authz.AuthorizationRequest, now: datetime
) -> Response:
    back = authz.park_for_login(provider, session, req, now)
    return redirect("/login?" + urlencode({"next": back}))


@router.get(
    "/authorize",
    response_class=HTMLResponse,
    responses=docs.PAGE,
    openapi_extra=docs.query(("client_id",), *docs.AUTHORIZE_PARAMS),
)
async def authorize(request: Request, c: ContainerDep) -> Response:
    return await in_db_thread(request, _authorize, request, c)


def _authorize(request: Request, c: Container) -> Response:
    now = c.clock()
    params = dict(request.query_params)
    provider = c.auth.provider
    with c.unit_of_work() as session:
        try:
            req = authz.parse_request(provider, session, params, now)
        except authz.RedirectError as exc:
            return redirect(authz.error_redirect(provider, exc))
        except OAuthError as exc:
            return render(
                c, request, "error.html", {"error": exc.error, "detail": exc.description}, 400
            )
        authn, session_id = current_authn(c, session, request, now)
        if authz.needs_login(req, authn, now, authz.login_requested_at(session, req)):
            if "none" in req.prompt:
                return redirect(
                    authz.error_redirect(
                        provider,
                        authz.RedirectError(
                            "login_required",
                            "the user is not logged in",
                            req.redirect_uri,
                            req.state,
                        ),
                    )
                )
            return _to_login(provider, session, req, now)
        if authn is None or session_id is None:  # needs_login said no: both are set
            return redirect("/login")
        if authz.needs_consent(session, req, authn.account_id):
            if "none" in req.prompt:
                return redirect(
                    authz.error_redirect(
                        provider,
                        authz.RedirectError(
                            "consent_required", "consent is needed", req.redirect_uri, req.state
                        ),
                    )
                )
            query = urlencode(params)
            return render(
                c,
                request,
                "consent.html",
                {
                    "client_name": req.client.name,
                    "lines": _consent_lines(req.scopes),
                    "query": query,
                },
            )
        return redirect(authz.issue_code(provider, session, req, authn, session_id, now))


@router.post("/authorize/consent", include_in_schema=False)
def consent(
    request: Request,
    c: ContainerDep,
    query: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    consent: Annotated[str, Form()] = "",
) -> Response:
    if not check_csrf(c, request, csrf):
        return render(c, request, "error.html", {"error": "csrf", "detail": "form expired"}, 400)
    now = c.clock()
    provider = c.auth.provider
    params = dict(parse_qsl(query, keep_blank_values=True))
    with c.unit_of_work() as session:
        try:
            req = authz.parse_request(provider, session, params, now)
        except authz.RedirectError as exc:
            return redirect(authz.error_redirect(provider, exc))
        except OAuthError as exc:
            return render(
                c, request, "error.html", {"error": exc.error, "detail": exc.description}, 400
            )
        authn, session_id = current_authn(c, session, request, now)
        # Freshness again: the page may be old, and its query is the browser's to edit.
        if authz.needs_login(req, authn, now, authz.login_requested_at(session, req)):
            return _to_login(provider, session, req, now)
        if authn is None or session_id is None:  # needs_login said no: both are set
            return redirect("/login")
        if consent != "allow":
            provider.audit.append(
                session,
                [
                    authz.consent_ctx(authn.account_id).event(
                        f"consent:denied:{req.client.client_id}", authn.subject_id, ()
                    )
                ],
                now,
            )
            return redirect(
                authz.error_redirect(
                    provider,
                    authz.RedirectError(
                        "access_denied", "the user denied consent", req.redirect_uri, req.state
                    ),
                )
            )
        authz.record_consent(session, provider.audit, authn, req.client.client_id, req.scopes, now)
        return redirect(authz.issue_code(provider, session, req, authn, session_id, now))


@router.get(
    "/logout",
    operation_id="logout_get",
    response_class=HTMLResponse,
    responses=docs.PAGE,
    openapi_extra=docs.query((), *docs.LOGOUT_PARAMS),
)
@router.post(
    "/logout",
    operation_id="logout_post",
    response_class=HTMLResponse,
    responses=docs.PAGE_FORM,
    openapi_extra=form_body((), "csrf", *docs.LOGOUT_PARAMS),
)
async def logout(request: Request, c: ContainerDep) -> Response:
    params = dict(request.query_params)
    confirmed = False
    if request.method == "POST":
        form = await _form(request)
        params |= form
        confirmed = check_csrf(c, request, form.get("csrf"))
    return await in_db_thread(request, _logout, request, c, params, confirmed)


def _logout(request: Request, c: Container, params: dict[str, str], confirmed: bool) -> Response:
    now = c.clock()
    with c.unit_of_work() as session:
        try:
            req = parse_logout(c.auth.provider, session, params, now)
        except OAuthError as exc:
            return render(
                c, request, "error.html", {"error": exc.error, "detail": exc.description}, 400
            )
        view = c.auth.sessions.resolve(session, request.cookies.get(SESSION_COOKIE), now)
        account = c.auth.accounts.get(session, view.account_id) if view is not None else None
        subject_id = account.subject_id if account is not None else None
        if not confirmed and must_confirm(c.auth.provider, req, subject_id):
            return render(
                c,
                request,
                "logout.html",
                {"params": {k: v for k, v in params.items() if k != "csrf"}},
            )
        if view is not None:
            c.auth.sessions.revoke(session, view.id, view.account_id, now)
    response: Response
    if req.redirect:
        response = RedirectResponse(req.redirect, status_code=303)
    else:
        response = render(c, request, "logged_out.html")
    clear_cookie(response, SESSION_COOKIE)
    return response
