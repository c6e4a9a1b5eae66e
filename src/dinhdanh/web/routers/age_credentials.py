"""The age credential issuer's public documents and protocol endpoints.

- its metadata and keys (SD-JWT VC draft, "JWT VC Issuer Metadata", at
  ``/.well-known/jwt-vc-issuer``) and its status lists (Token Status List draft,
  ``GET /status-lists/{id}``, ``application/statuslist+jwt``);
- OpenID4VCI 1.0 (``age.credentials.vci``): Credential Issuer Metadata at
  ``/.well-known/openid-credential-issuer``, the nonce and credential endpoints (the token
  endpoint is the provider's ``/token``); errors in OAuth's format, as the spec has them;
- OpenID4VP 1.0 (``age.credentials.vp``): a platform (its API key) creates a request for one
  ``age_over_NN`` claim and reads its outcome (problem details); the wallet POSTs its
  ``vp_token`` to the request's response_uri (OAuth-format errors).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from dinhdanh.age.credentials.vci import CREDENTIAL_PATH, NONCE_PATH, VciError
from dinhdanh.age.credentials.vp import RESPONSE_PATH, VpResponseRefused
from dinhdanh.age.statuslist import MEDIA_TYPE
from dinhdanh.social.service import own
from dinhdanh.web.deps import ContainerDep, PrincipalDep, in_db_thread
from dinhdanh.web.problems import NO_STORE, errors_as, oauth_error_responses, problem_responses
from dinhdanh.web.routers.oidc_docs import FORM_TYPE, form_body
from dinhdanh.wiring import Container

router = APIRouter(tags=["age credentials"])
vci = APIRouter(tags=["age credentials"], route_class=errors_as("oauth"))


@router.get("/.well-known/jwt-vc-issuer")
def issuer_metadata(c: ContainerDep) -> dict[str, Any]:
    """``issuer`` (the ``iss`` of our credentials) and ``jwks`` (EdDSA and ML-DSA-65 keys)."""
    # The issuer URL has no path, so the well-known path takes no suffix.
    return c.age_credentials.metadata()


@router.get(
    "/status-lists/{list_id}",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}, **problem_responses(404, 422)},
)
def status_list(list_id: Annotated[int, Path(ge=1, le=2**31 - 1)], c: ContainerDep) -> Response:
    """The signed Status List Token of one list (1 bit per credential, 1 = revoked)."""
    service = c.age_credentials
    with c.unit_of_work() as session:
        token = service.lists.token(session, list_id, c.clock())
    return Response(
        token,
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": f"public, max-age={service.lists.ttl}"},
    )


@router.get("/.well-known/openid-credential-issuer")
def credential_issuer_metadata(c: ContainerDep) -> dict[str, Any]:
    """OpenID4VCI 1.0 Credential Issuer Metadata: endpoints, batch size, configurations."""
    return c.age_issuance.metadata()


@vci.post(NONCE_PATH, responses=oauth_error_responses(400))
def nonce(c: ContainerDep) -> JSONResponse:
    """A fresh ``c_nonce`` (OpenID4VCI section 7), single use, for the proofs."""
    return JSONResponse({"c_nonce": c.age_issuance.nonce(c.clock())}, headers=NO_STORE)


@vci.post(
    CREDENTIAL_PATH,
    responses=oauth_error_responses(400, 401, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def credential(request: Request, c: ContainerDep) -> JSONResponse:
    """One age credential per proof (OpenID4VCI section 8): ``Authorization: Bearer`` the
    token of a pre-authorized code, body ``{"credential_configuration_id", "proofs":
    {"jwt": [...]}}``; answers ``{"credentials": [{"credential": ...}, ...]}``."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    access = token.strip() if scheme.lower() == "bearer" else None
    try:
        body = json.loads(await request.body())
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise VciError("invalid_credential_request", "the body is not JSON") from None
    answer = await in_db_thread(request, _issue, c, access, body)
    return JSONResponse(answer, headers=NO_STORE)


def _issue(c: Container, access: str | None, body: Any) -> dict[str, Any]:
    with c.unit_of_work() as session:
        return c.age_issuance.credential(session, access, body, c.clock())


# -- OpenID4VP 1.0: a verifier for platforms (``age.credentials.vp``) ---------------------

AGE_REQUESTS = "/api/v1/platforms/{code}/age-requests"
_PLATFORM_ERRORS = problem_responses(400, 401, 403, 404, 422)
AgeClaim = Literal["age_over_13", "age_over_16", "age_over_18"]


class AgeRequestIn(BaseModel):
    claim: AgeClaim


class AgeRequestOut(BaseModel):
    id: str
    claim: str
    expires_at: datetime
    request: dict[str, Any] = Field(
        description="the OpenID4VP Authorization Request's parameters (response_mode "
        "direct_post, response_uri, nonce, client_id, dcql_query)"
    )
    request_uri: str = Field(description="the same by value: openid4vp://?... (link or QR)")


class AgeResultOut(BaseModel):
    id: str
    claim: str
    state: Literal["pending", "verified", "rejected", "expired"]
    value: bool | None = Field(description="the claim's value, once verified; else null")
    reason: str | None = Field(description="why the wallet's response was rejected")
    expires_at: datetime


@router.post(
    AGE_REQUESTS, status_code=201, response_model=AgeRequestOut, responses=_PLATFORM_ERRORS
)
def create_age_request(
    c: ContainerDep, who: PrincipalDep, code: str, body: AgeRequestIn
) -> dict[str, Any]:
    """Ask a visitor's wallet for one ``age_over_NN`` claim: show them ``request_uri``."""
    own(who, code)
    with c.unit_of_work() as session:
        return c.age_verifier.create(session, code, body.claim, c.clock())


@router.get(AGE_REQUESTS + "/{request_id}", response_model=AgeResultOut, responses=_PLATFORM_ERRORS)
def age_request_result(
    c: ContainerDep, who: PrincipalDep, code: str, request_id: Annotated[str, Path(max_length=64)]
) -> AgeResultOut:
    """The outcome: ``verified`` and the claim's value, ``rejected`` and why, or waiting."""
    own(who, code)
    with c.unit_of_work() as session:
        r = c.age_verifier.result(session, code, request_id, c.clock())
    return AgeResultOut(
        id=r.id,
        claim=r.claim,
        state=r.state,
        value=r.value,
        reason=r.reason,
        expires_at=r.expires_at,
    )


@vci.post(
    RESPONSE_PATH + "{request_id}",
    responses=oauth_error_responses(400),
    openapi_extra=form_body((), "vp_token", "state", "error"),
)
async def vp_response(request: Request, c: ContainerDep, request_id: str) -> JSONResponse:
    """The response_uri (``direct_post``): the wallet's ``vp_token``, checked for this
    request's nonce, audience and claim; the first answer ends the request."""
    form = await _form(request)
    await in_db_thread(request, _answer, c, request_id, form)
    return JSONResponse({}, headers=NO_STORE)


async def _form(request: Request) -> dict[str, str]:
    """The form body (OpenID4VP section 8.2), parsed here so that every refusal is an
    OAuth-format error; a parameter sent twice is refused (RFC 6749 section 3.1)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise VpResponseRefused(f"the response body must be {FORM_TYPE}")
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        raise VpResponseRefused("the response body is not a valid form") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise VpResponseRefused("a parameter is given more than once")
    return {k: v for k, v in form.items() if k in ("vp_token", "state", "error")}


def _answer(c: Container, request_id: str, form: dict[str, str]) -> None:
    verifier, now = c.age_verifier, c.clock()
    with c.unit_of_work() as session:
        asked = verifier.open(session, request_id, now)
    # Outside any transaction: the status list is read in a unit of work of its own.
    outcome = verifier.check(asked, form, now)
    with c.unit_of_work() as session:
        verifier.record(session, asked, outcome, now)
    if outcome[1] is not None:
        raise VpResponseRefused(f"{outcome[1]}: the presentation was not accepted")
