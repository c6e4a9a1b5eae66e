"""Carrier API: subscriber uploads and lock-timeline actions; a carrier sees only its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dinhdanh.privacy.access import Principal, create_api_key
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.roles import Role
from dinhdanh.store.batch import BatchReport, OnReject
from dinhdanh.store.private import spill_dir
from dinhdanh.telecom.importer import import_subscriptions
from dinhdanh.telecom.rejects import REJECTS, RejectSpool
from dinhdanh.telecom.schemas import (
    AckIn,
    AckOut,
    ActionList,
    ActionOut,
    CarrierIn,
    CarrierOut,
    RejectedRow,
    UploadReport,
)
from dinhdanh.web.deps import AdminDep, ContainerDep, PrincipalDep
from dinhdanh.web.problems import Problem, problem_responses
from dinhdanh.web.uploads import (
    BODY,
    REJECTS_RESPONSE,
    REJECTS_SHOWN,
    download_rejects,
    import_with_rejects,
    received,
    report_fields,
)

# Every call: a key (401) allowed to act for the carrier (403), valid parameters (422).
router = APIRouter(
    prefix="/api/v1/carriers", tags=["telecom"], responses=problem_responses(401, 403, 422)
)


def _own(who: Principal, carrier: str) -> str:
    """A carrier key reaches its own carrier only; an admin reaches any."""
    code = carrier.strip().upper()
    if who.role is Role.ADMIN or (who.role is Role.CARRIER and who.scope == code):
        return code
    raise Problem(403, "forbidden", "This key cannot act for that carrier")


@router.post("", response_model=CarrierOut, status_code=201, responses=problem_responses(400, 409))
def add_carrier(c: ContainerDep, _admin: AdminDep, body: CarrierIn) -> CarrierOut:
    """Register a carrier and create its API key (returned once)."""
    with c.unit_of_work() as session:
        carrier = c.telecom.add_carrier(session, body.code, body.name, c.clock())
        _, token = create_api_key(
            session,
            f"carrier {carrier.code}",
            Role.CARRIER,
            c.clock(),
            scope=carrier.code,
            owner=carrier.code,
        )
    return CarrierOut(code=carrier.code, name=carrier.name, api_key=token)


@router.post(
    "/{carrier}/subscriptions:batch",
    response_model=UploadReport,
    responses=problem_responses(400, 404, 413, 415),
    openapi_extra=BODY,
)
async def upload_subscriptions(
    c: ContainerDep,
    who: PrincipalDep,
    carrier: str,
    request: Request,
    strict: Annotated[bool, Query(description="any rejected row: nothing applied")] = False,
) -> UploadReport:
    """Upload subscribers as the request body (text/csv, application/x-ndjson or
    application/vnd.apache.parquet). Re-sending the same file changes nothing; a file whose
    upload was cut off part-way resumes where it stopped when sent again."""
    code = _own(who, carrier)
    spill = spill_dir(c.settings.data_dir)
    async with received(request, spill) as path:
        # The import is blocking work (database, crypto): off the event loop.
        return await run_in_threadpool(_import, c, who, code, path, strict, spill)


def _import(
    c: ContainerDep, who: Principal, code: str, path: Path, strict: bool, spill: Path
) -> UploadReport:
    spool = RejectSpool(c.ring, code, str(uuid.uuid4()), spill)

    def run(on_reject: OnReject, on_finish: Callable[[Session], None]) -> BatchReport:
        return import_subscriptions(
            path,
            carrier=code,
            telecom=c.telecom,
            ring=c.ring,
            unit_of_work=c.unit_of_work,
            ctx=AccessContext(who.actor, who.role.value, f"subscriber upload of {code}"),
            clock=c.clock,
            today=c.clock().date(),
            minor_age=c.settings.telecom_minor_age,
            strict=strict,
            spill_dir=spill,
            workers=1,  # inside a server worker: no process pool
            on_reject=on_reject,
            on_finish=on_finish,
            # Not on SQLite: a server's other requests hold connections that DuckDB's own
            # copy of SQLite would break (analytics.store.attach); the next reconciliation
            # rebuilds the stale snapshot itself.
            snapshots=None if c.engine.dialect.name == "sqlite" else c.settings.snapshot_dir,
        )

    report = import_with_rejects(c, spool, run)
    return UploadReport(
        **report_fields(report, f"{router.prefix}/{code}/uploads/{spool.upload_id}/rejects"),
        rejected_rows=[
            RejectedRow(line=r.line, msisdn=r.label, reason=r.reason)
            for r in report.rejected[:REJECTS_SHOWN]
        ],
    )


@router.get(
    "/{carrier}/uploads/{upload_id}/rejects",
    response_class=StreamingResponse,
    responses={**REJECTS_RESPONSE, **problem_responses(404)},
)
def upload_rejects(
    c: ContainerDep,
    who: PrincipalDep,
    carrier: str,
    upload_id: str,
    format: Annotated[Literal["csv", "jsonl"], Query()] = "csv",
) -> StreamingResponse:
    """Every rejected row of an upload (line, reason, key), as CSV or JSON lines, until it
    expires. Another carrier's upload, or an expired one, is not found."""
    code = carrier.strip().upper()
    mine = who.role is Role.ADMIN or (who.role is Role.CARRIER and who.scope == code)
    return download_rejects(c, REJECTS, code if mine else None, upload_id, format)


@router.get("/{carrier}/actions", response_model=ActionList)
def pending_actions(
    c: ContainerDep,
    who: PrincipalDep,
    carrier: str,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> ActionList:
    """Lock-timeline instructions not yet acknowledged, oldest first."""
    code = _own(who, carrier)
    with c.unit_of_work() as session:
        rows = c.telecom.pending_actions(session, code, limit)
        items = [
            ActionOut(id=a.id, msisdn=a.msisdn, action=a.action, created_at=a.created_at)
            for a in rows
        ]
    return ActionList(items=items)


@router.post("/{carrier}/actions:ack", response_model=AckOut)
def acknowledge(c: ContainerDep, who: PrincipalDep, carrier: str, body: AckIn) -> AckOut:
    """Acknowledge carried-out actions; ids of other carriers are ignored."""
    code = _own(who, carrier)
    with c.unit_of_work() as session:
        n = c.telecom.acknowledge(session, code, body.ids, c.clock())
    return AckOut(acknowledged=n)
