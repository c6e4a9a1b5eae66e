"""Registrar API: registrars, domain uploads and their rejects; a registrar sees only its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dinhdanh.internet.errors import NotYourRegistrar
from dinhdanh.internet.importer import Run, import_domains
from dinhdanh.internet.rejects import REJECTS
from dinhdanh.internet.schemas import (
    RegistrarActionList,
    RegistrarActionOut,
    RegistrarIn,
    RegistrarOut,
    RejectedDomain,
)
from dinhdanh.internet.service import own
from dinhdanh.privacy.access import Principal
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.batch import BatchReport, OnReject
from dinhdanh.store.private import spill_dir
from dinhdanh.store.upload_rejects import RejectSpool
from dinhdanh.telecom.schemas import AckIn, AckOut, UploadReport
from dinhdanh.web.deps import AdminDep, ContainerDep, PrincipalDep
from dinhdanh.web.problems import problem_responses
from dinhdanh.web.uploads import (
    BODY,
    REJECTS_RESPONSE,
    REJECTS_SHOWN,
    download_rejects,
    import_with_rejects,
    received,
    report_fields,
)
from dinhdanh.wiring import Container


class DomainUploadReport(UploadReport):
    """The carriers' upload answer, with rejected rows keyed by domain name."""

    rejected_rows: list[RejectedDomain] = Field(  # type: ignore[assignment]
        description="the first 100 rejected rows, by line"
    )


# Every call: a key (401) allowed to act for the registrar (403), valid parameters (422).
router = APIRouter(
    prefix="/api/v1/registrars", tags=["internet"], responses=problem_responses(401, 403, 422)
)


@router.post(
    "", response_model=RegistrarOut, status_code=201, responses=problem_responses(400, 409)
)
def add_registrar(c: ContainerDep, _admin: AdminDep, body: RegistrarIn) -> RegistrarOut:
    """Register a registrar and create its API key (returned once)."""
    with c.unit_of_work() as session:
        registrar = c.internet.add_registrar(session, body.code, body.name, c.clock())
        _, token = c.internet.issue_key(session, registrar.code, c.clock())
    return RegistrarOut(code=registrar.code, name=registrar.name, api_key=token)


@router.put(
    "/{registrar}/domains",
    response_model=DomainUploadReport,
    responses=problem_responses(400, 404, 409, 413, 415),
    openapi_extra=BODY,
)
async def upload_domains(
    c: ContainerDep,
    who: PrincipalDep,
    registrar: str,
    request: Request,
    strict: Annotated[bool, Query(description="any rejected row: nothing applied")] = False,
) -> DomainUploadReport:
    """Upload domain registrations as the request body (text/csv, application/x-ndjson or
    application/vnd.apache.parquet): each row is created or updated; names not in the file
    stay as they are (a registrar ends one with status ``deleted``). Re-sending the same file
    changes nothing; a file whose upload was cut off resumes where it stopped."""
    code = own(who, registrar)
    spill = spill_dir(c.settings.data_dir)
    async with received(request, spill) as path:
        return await run_in_threadpool(_import, c, who, code, path, strict, spill)


def _import(
    c: Container, who: Principal, code: str, path: Path, strict: bool, spill: Path
) -> DomainUploadReport:
    spool = RejectSpool(REJECTS, c.ring, code, str(uuid.uuid4()), spill)

    def run(on_reject: OnReject, on_finish: Callable[[Session], None]) -> BatchReport:
        return import_domains(
            path,
            registrar=code,
            internet=c.internet,
            ring=c.ring,
            ctx=AccessContext(who.actor, who.role.value, f"domain upload of {code}"),
            run=Run(
                unit_of_work=c.unit_of_work,
                clock=c.clock,
                today=c.clock().date(),
                strict=strict,
                workers=1,  # inside a server worker: no process pool
                spill_dir=spill,
                on_reject=on_reject,
                on_finish=on_finish,
            ),
            minor_age=c.settings.internet_minor_age,
        )

    report = import_with_rejects(c, spool, run)
    return DomainUploadReport(
        **report_fields(report, f"{router.prefix}/{code}/uploads/{spool.upload_id}/rejects"),
        rejected_rows=[
            RejectedDomain(line=r.line, domain=r.label, reason=r.reason)
            for r in report.rejected[:REJECTS_SHOWN]
        ],
    )


@router.get(
    "/{registrar}/uploads/{upload_id}/rejects",
    response_class=StreamingResponse,
    responses={**REJECTS_RESPONSE, **problem_responses(404)},
)
def upload_rejects(
    c: ContainerDep,
    who: PrincipalDep,
    registrar: str,
    upload_id: str,
    format: Annotated[Literal["csv", "jsonl"], Query()] = "csv",
) -> StreamingResponse:
    """Every rejected row of an upload (line, reason, key), as CSV or JSON lines, until it
    expires. Another registrar's upload, or an expired one, is not found."""
    try:
        code: str | None = own(who, registrar)
    except NotYourRegistrar:
        code = None
    return download_rejects(c, REJECTS, code, upload_id, format)


@router.get("/{registrar}/actions", response_model=RegistrarActionList)
def pending_actions(
    c: ContainerDep,
    who: PrincipalDep,
    registrar: str,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> RegistrarActionList:
    """Instructions from reconciliation and citizens not yet acknowledged, oldest first:
    ``verify`` (flagged, with reasons), ``cleared``, ``disowned``. A key sees its own only."""
    code = own(who, registrar)
    with c.unit_of_work() as session:
        items = [
            RegistrarActionOut(
                id=a.id,
                domain=a.ascii_name,
                action=a.action,
                reasons=[r for r in a.reasons.split(",") if r],
                created_at=a.created_at,
            )
            for a in c.internet.pending_actions(session, code, limit)
        ]
    return RegistrarActionList(items=items)


@router.post("/{registrar}/actions:ack", response_model=AckOut)
def acknowledge(c: ContainerDep, who: PrincipalDep, registrar: str, body: AckIn) -> AckOut:
    """Acknowledge carried-out actions; ids of other registrars are ignored."""
    code = own(who, registrar)
    with c.unit_of_work() as session:
        n = c.internet.acknowledge(session, code, body.ids, c.clock())
    return AckOut(acknowledged=n)
