"""Request-scoped helpers: the container and the authenticated principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from dinhdanh.privacy.access import RECENT_KEYS, Principal, authenticate
from dinhdanh.privacy.roles import Role
from dinhdanh.staff.roles import POSTURE_MANAGE
from dinhdanh.staff.service import StaffMember
from dinhdanh.web.problems import Problem
from dinhdanh.wiring import Container

T = TypeVar("T")


async def in_db_thread(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run the database work of an endpoint in the thread pool, as many at a time as
    ``db_limiter`` (``web.app``) lets through: off the event loop, so a wait for a lock
    stalls no other request."""
    limiter: CapacityLimiter = request.app.state.db_limiter
    return await anyio.to_thread.run_sync(fn, *args, limiter=limiter)


async def container(request: Request) -> Container:
    # async: a plain function would be run in the thread pool, a hop on every request.
    c: Container = request.app.state.container
    return c


ContainerDep = Annotated[Container, Depends(container)]


AuthorizationHeader = Annotated[str | None, Header()]


def authenticated(
    c: Container, session: Session, authorization: str | None, *, recent: bool = False
) -> Principal:
    """The API key an ``Authorization: Bearer KEY`` header carries, checked in ``session``
    (a route on a hot path checks it in its own unit of work, not in one more). ``recent``:
    a platform key checked in the last second is taken as it was (``RecentKeys``)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "unauthenticated", "API key required", "send Authorization: Bearer KEY")
    check = RECENT_KEYS.authenticate if recent else authenticate
    who = check(session, token.strip(), c.clock())
    if who is None:
        raise Problem(401, "unauthenticated", "Unknown, expired or revoked API key")
    return who


def principal(c: ContainerDep, authorization: AuthorizationHeader = None) -> Principal:
    with c.unit_of_work() as session:
        return authenticated(c, session, authorization)


def officer(c: ContainerDep, who: Annotated[Principal, Depends(principal)]) -> StaffMember:
    """Officer reads come from a person: a personal token of an active staff grant."""
    if who.role is not Role.OFFICER:
        raise Problem(403, "forbidden", "The officer role is required")
    with c.unit_of_work() as session:
        member = c.staff.person_of_key(session, who, c.clock())
    if member is None:
        raise Problem(
            403,
            "person_required",
            "Officer reads need a personal token",
            "this key belongs to no active staff grant: "
            "`dinhdanh apikeys add --role officer --staff GRANT_ID`",
        )
    return member


OfficerDep = Annotated[StaffMember, Depends(officer)]


def agency_admin(c: ContainerDep, who: Annotated[Principal, Depends(principal)]) -> StaffMember:
    """The posture API's caller: a personal agency_admin token of an active grant, whose
    organisation (an agency's tax code) is all it may see and change."""
    if who.role is not Role.AGENCY_ADMIN:
        raise Problem(403, "forbidden", "The agency_admin role is required")
    with c.unit_of_work() as session:
        member = c.staff.person_of_key(session, who, c.clock(), POSTURE_MANAGE)
    if member is None:
        raise Problem(
            403,
            "person_required",
            "The posture API needs a personal token of an active agency_admin grant",
            "`dinhdanh apikeys add --role agency_admin --staff GRANT_ID`",
        )
    return member


AgencyAdminDep = Annotated[StaffMember, Depends(agency_admin)]


def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.role is not Role.ADMIN:
        raise Problem(403, "forbidden", "The admin role is required")
    return who


AdminDep = Annotated[Principal, Depends(admin)]
PrincipalDep = Annotated[Principal, Depends(principal)]
