"""The age credential issuer's public documents: its metadata and keys (SD-JWT VC draft,
section "JWT VC Issuer Metadata", at ``/.well-known/jwt-vc-issuer``) and its status lists
(Token Status List draft, ``GET /status-lists/{id}``, ``application/statuslist+jwt``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from dinhdanh.age.statuslist import MEDIA_TYPE
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.problems import problem_responses

router = APIRouter(tags=["age credentials"])


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
