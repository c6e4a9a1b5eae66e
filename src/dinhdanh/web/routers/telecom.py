"""Carrier API: subscriber uploads and lock-timeline actions; a carrier sees only its own."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dinhdanh.privacy.access import Principal, Role, create_api_key
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.telecom.importer import import_subscriptions
from dinhdanh.telecom.rejects import RejectRow, RejectSpool, chunk_count, read_rejects
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
from dinhdanh.web.uploads import body_schema, spooled, suffix_of

# Every call: a key (401) allowed to act for the carrier (403), valid parameters (422).
router = APIRouter(
    prefix="/api/v1/carriers", tags=["telecom"], responses=problem_responses(401, 403, 422)
)

# Content type of an upload -> the file suffix the feed reader goes by.
SUFFIX = {
    "text/csv": ".csv",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/vnd.apache.parquet": ".parquet",
}
# Rejected rows listed in an upload's answer (the first ones by line; `rejected` counts them
# all): a file of junk rows must not make an answer, or memory, as big as the file.
REJECTS_SHOWN = 100


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
    openapi_extra=body_schema(SUFFIX),
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
    suffix = suffix_of(request, SUFFIX, "text/csv, application/x-ndjson or Parquet")
    async with spooled(request, c.settings.data_dir, suffix) as path:
        # The import is blocking work (database, crypto): off the event loop.
        return await run_in_threadpool(_import, c, who, code, path, strict, path.parent)


def _import(
    c: ContainerDep, who: Principal, code: str, path: Path, strict: bool, spill: Path
) -> UploadReport:
    # Every reject, sealed, for the download link; stored with the run's end (also when
    # `strict` aborts, so the carrier can fetch what to fix).
    rejects = RejectSpool(c.ring, code, str(uuid.uuid4()), spill)
    keep = timedelta(days=c.settings.upload_rejects_days)

    def finish(session: Session) -> None:
        now = c.clock()
        rejects.store(session, now, now + keep)

    try:
        report = import_subscriptions(
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
            on_reject=rejects.add,
            on_finish=finish,
        )
    finally:
        rejects.close()
    result = report.as_dict()
    return UploadReport(
        run_id=report.run_id,
        total_rows=report.total_rows,
        created=report.counts.created,
        updated=report.counts.updated,
        unchanged=report.counts.unchanged,
        rejected=report.rejected_count,
        resumed_from_line=report.resumed_from_line,
        aborted=bool(result["aborted"]),
        rejected_rows=[
            RejectedRow(line=r.line, msisdn=r.label, reason=r.reason)
            for r in report.rejected[:REJECTS_SHOWN]
        ],
        rejected_rows_truncated=report.rejected_count > REJECTS_SHOWN,
        rejected_rows_url=(
            f"{router.prefix}/{code}/uploads/{rejects.upload_id}/rejects"
            if report.rejected_count
            else None
        ),
    )


@router.get(
    "/{carrier}/uploads/{upload_id}/rejects",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "every rejected row of the upload, in the order found",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
        **problem_responses(404),
    },
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
    chunks = 0
    if who.role is Role.ADMIN or (who.role is Role.CARRIER and who.scope == code):
        with c.unit_of_work() as session:
            chunks = chunk_count(session, code, upload_id, c.clock())
    if not chunks:  # the same answer for not yours, expired and never existed
        raise Problem(404, "not_found", "No such upload rejects")
    rows = read_rejects(c.unit_of_work, c.ring, code, upload_id, chunks)
    if format == "jsonl":
        return StreamingResponse(_jsonl(rows), media_type="application/x-ndjson")
    return StreamingResponse(_csv(rows), media_type="text/csv")


def _csv(rows: Iterator[RejectRow]) -> Iterator[str]:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(("line", "reason", "key"))
    for row in rows:
        out.writerow(row)
        if buf.tell() > 1 << 16:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _jsonl(rows: Iterator[RejectRow]) -> Iterator[str]:
    for line, reason, key in rows:
        yield json.dumps({"line": line, "reason": reason, "key": key}, ensure_ascii=False) + "\n"


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
