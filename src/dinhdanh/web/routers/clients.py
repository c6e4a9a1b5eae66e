"""Admin API for relying parties: an API key with the ``admin`` role registers clients."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from dinhdanh.auth.clients import DEFAULT_GRANTS
from dinhdanh.privacy.access import Principal
from dinhdanh.privacy.roles import Role
from dinhdanh.web.deps import ContainerDep, principal
from dinhdanh.web.problems import Problem, problem_responses

router = APIRouter(
    prefix="/api/v1/clients", tags=["clients"], responses=problem_responses(401, 403)
)


def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.role is not Role.ADMIN:
        raise Problem(403, "forbidden", "The admin role is required")
    return who


AdminDep = Annotated[Principal, Depends(admin)]


class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    redirect_uris: list[str] = Field(default_factory=list)
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    sector_identifier: str | None = None
    grant_types: list[str] = Field(default_factory=lambda: list(DEFAULT_GRANTS))
    id_token_signed_response_alg: str = "EdDSA"  # noqa: S105  (an algorithm name)
    jwks: dict[str, Any] | None = None
    join_sector: bool = False  # share the subjects of sector_identifier, owned by another


@router.post("", status_code=201, responses=problem_responses(409, 422))
def create_client(body: ClientIn, c: ContainerDep, _who: AdminDep) -> dict[str, Any]:
    with c.unit_of_work() as session:
        info, secret = c.auth.clients.create(
            session,
            name=body.name,
            redirect_uris=body.redirect_uris,
            post_logout_redirect_uris=body.post_logout_redirect_uris,
            sector_identifier=body.sector_identifier,
            grant_types=tuple(body.grant_types),
            signing_alg=body.id_token_signed_response_alg,
            jwks=body.jwks,
            now=c.clock(),
            join_sector=body.join_sector,
        )
    out = info.public()
    if secret is not None:
        out["client_secret"] = secret
    return out


@router.get("")
def list_clients(c: ContainerDep, _who: AdminDep) -> dict[str, Any]:
    with c.unit_of_work() as session:
        return {"items": [x.public() for x in c.auth.clients.list(session)]}


def _set_disabled(c: ContainerDep, client_id: str, disabled: bool) -> dict[str, Any]:
    with c.unit_of_work() as session:
        info = c.auth.clients.set_disabled(session, client_id, disabled, c.clock())
    if info is None:
        raise Problem(404, "client_not_found", "No such client")
    return info.public()


@router.post("/{client_id}/disable", responses=problem_responses(404))
def disable_client(client_id: str, c: ContainerDep, _who: AdminDep) -> dict[str, Any]:
    """No authorization and no token for this client any more; its grants are revoked."""
    return _set_disabled(c, client_id, True)


@router.post("/{client_id}/enable", responses=problem_responses(404))
def enable_client(client_id: str, c: ContainerDep, _who: AdminDep) -> dict[str, Any]:
    return _set_disabled(c, client_id, False)
