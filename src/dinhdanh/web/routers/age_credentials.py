"""The age credential issuer's public documents and protocol endpoints.

- its metadata and keys (SD-JWT VC draft, "JWT VC Issuer Metadata", at
  ``/.well-known/jwt-vc-issuer``) and its status lists (Token Status List draft,
  ``GET /status-lists/{id}``, ``application/statuslist+jwt``);
- OpenID4VCI 1.0 (``age.credentials.vci``): Credential Issuer Metadata at
  ``/.well-known/openid-credential-issuer``, the nonce and credential endpoints (the token
  endpoint is the provider's ``/token``); errors in OAuth's format, as the spec has them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from dinhdanh.age.credentials.vci import CREDENTIAL_PATH, NONCE_PATH, VciError
from dinhdanh.age.statuslist import MEDIA_TYPE
from dinhdanh.web.deps import ContainerDep, in_db_thread
from dinhdanh.web.problems import NO_STORE, errors_as, oauth_error_responses, problem_responses
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
async def nonce(request: Request, c: ContainerDep) -> JSONResponse:
    """A fresh ``c_nonce`` (OpenID4VCI section 7), single use, for the proofs."""

    def work() -> str:
        with c.unit_of_work() as session:
            return c.age_issuance.nonce(session, c.clock())

    value = await in_db_thread(request, work)
    return JSONResponse({"c_nonce": value}, headers=NO_STORE)


@vci.post(
    CREDENTIAL_PATH,
    responses=oauth_error_responses(400, 401),
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
