"""Platform API (bindings by login and by phone, status, events, graph and label uploads; a
platform key reaches only its own code) and the citizen's "My platform accounts" page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, TypeAdapter
from starlette.concurrency import run_in_threadpool

from dinhdanh.social.phone import PhoneCheckFailed
from dinhdanh.social.platform_data import Kind, refuse_aborted
from dinhdanh.social.service import MAX_ACCOUNT_ID, MAX_BATCH, Status, own
from dinhdanh.social.sybil import ImportReport
from dinhdanh.store.private import spill_dir
from dinhdanh.web.browser import check_csrf, redirect, render
from dinhdanh.web.deps import (
    AuthorizationHeader,
    ContainerDep,
    PrincipalDep,
    authenticated,
    in_db_thread,
)
from dinhdanh.web.i18n import N_
from dinhdanh.web.portal import CITIZEN
from dinhdanh.web.problems import problem_responses
from dinhdanh.web.routers.access_log import citizen_subject
from dinhdanh.web.uploads import body_schema, received
from dinhdanh.wiring import Container

router = APIRouter(tags=["platforms"])
API = "/api/v1/platforms/{code}"
_ERRORS = problem_responses(400, 401, 403, 404, 422)


class BindIn(BaseModel):
    id_token: str = Field(max_length=20_000)


class RiskOut(BaseModel):
    score: float = Field(description="0 trusted to 1 most likely fake, from the latest ranking")
    reasons: list[str] = Field(description="reason codes (docs/architecture.md)")


class StatusOut(BaseModel):
    account_id: str
    verified: bool
    method: str | None
    acr: str | None
    age_over_13: bool | None
    age_over_16: bool | None
    age_over_18: bool | None
    guardian_approved: bool | None
    risk: RiskOut | None = Field(description="null: the account was never ranked")
    flags: list[str]
    checked_at: datetime | None


class BatchIn(BaseModel):
    account_ids: list[str] = Field(max_length=MAX_BATCH)


class BatchOut(BaseModel):
    items: list[StatusOut]


class EventOut(BaseModel):
    id: int
    account_id: str
    kind: str
    at: datetime


class EventList(BaseModel):
    items: list[EventOut]
    next_cursor: int


def _out(s: Status) -> StatusOut:
    return StatusOut(
        account_id=s.account_id,
        verified=s.verified,
        method=s.method,
        acr=s.acr,
        age_over_13=s.age_over_13,
        age_over_16=s.age_over_16,
        age_over_18=s.age_over_18,
        guardian_approved=s.guardian_approved,
        risk=None if s.risk is None else RiskOut(score=s.risk.score, reasons=list(s.risk.reasons)),
        flags=list(s.flags),
        checked_at=s.checked_at,
    )


@router.put(API + "/accounts/{account_id}", response_model=StatusOut, responses=_ERRORS)
def bind(c: ContainerDep, who: PrincipalDep, code: str, account_id: str, body: BindIn) -> StatusOut:
    """Bind the platform's account to the person an ID token from our provider names."""
    own(who, code)
    with c.unit_of_work() as session:
        status = c.social.bind_login(session, code, account_id, body.id_token, c.clock())
    return _out(status)


def read(c: Container, authorization: str | None, code: str, ids: list[str]) -> list[Status]:
    # The hot path: the key check and the read in one unit of work, run in one hop to the
    # thread pool, as many at a time as the app's db_limiter lets through (one per process
    # on SQLite); the count is written within a second, with others (docs/performance.md,
    # status API; social.pending_reads).
    with c.read_work() as session:
        own(authenticated(c, session, authorization, recent=True), code)
        return c.social.status(session, code, ids, c.clock(), count_later=c.unit_of_work)


_STATUSES = TypeAdapter(list[Status])


def _path_params(*names: str) -> dict[str, Any]:
    """OpenAPI parameters of a route that reads them from the request itself: as FastAPI
    would document them from a signature (path strings, an optional Authorization header)."""
    params: list[dict[str, Any]] = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string", "title": t}}
        for n, t in ((n, n.replace("_", " ").title()) for n in names)
    ]
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Authorization"}
    params.append({"name": "authorization", "in": "header", "required": False, "schema": nullable})
    return {"parameters": params}


_STATUS = TypeAdapter(Status)


def single_body(found: Status) -> bytes:
    """The single lookup's answer: the service's dataclass dumped as a ``StatusOut``."""
    return _STATUS.dump_json(found)


def batch_body(items: list[Status]) -> bytes:
    """The batch answer, a ``BatchOut``. Up to 10,000 items: serialized straight from the
    service's dataclasses, which have StatusOut's fields (tests/social/test_status_api.py
    holds the two answers equal)."""
    return b'{"items":' + _STATUSES.dump_json(items) + b"}"


@router.get(
    API + "/accounts/{account_id}/status",
    response_model=StatusOut,
    responses=_ERRORS,
    openapi_extra=_path_params("code", "account_id"),
)
async def status(request: Request) -> Response:
    """Whether a verified person stands behind the account, and the facts the law needs."""
    # The busiest route: no parameters for FastAPI to solve and validate (plain strings from
    # the path and a header), and the answer dumped from the service's dataclass as the batch
    # items are (tests/social/test_status_api.py holds the two equal).
    c: Container = request.app.state.container
    path, authorization = request.path_params, request.headers.get("authorization")
    ids = [path["account_id"]]
    found = await in_db_thread(request, read, c, authorization, path["code"], ids)
    return Response(single_body(found[0]), media_type="application/json")


@router.post(API + "/accounts:status", response_model=BatchOut, responses=_ERRORS)
async def batch_status(
    request: Request,
    c: ContainerDep,
    code: str,
    body: BatchIn,
    authorization: AuthorizationHeader = None,
) -> Response:
    """The status of up to 10,000 accounts, in the order asked."""
    items = await in_db_thread(request, read, c, authorization, code, body.account_ids)
    return Response(batch_body(items), media_type="application/json")


@router.get(API + "/events", response_model=EventList, responses=_ERRORS)
def events(
    c: ContainerDep,
    who: PrincipalDep,
    code: str,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> EventList:
    """Status changes after the cursor (an event id), oldest first."""
    own(who, code)
    with c.unit_of_work() as session:
        found = c.social.events(session, code, after, limit)
    items = [EventOut(id=e.id, account_id=e.account_id, kind=e.kind, at=e.at) for e in found]
    return EventList(items=items, next_cursor=items[-1].id if items else after)


# Content type of a graph or labels upload -> the suffix the reader goes by.
UPLOAD_SUFFIX = {"text/csv": ".csv", "application/vnd.apache.parquet": ".parquet"}
_UPLOAD_ERRORS = problem_responses(400, 401, 403, 404, 413, 415, 422)


class RejectedRowOut(BaseModel):
    line: int = Field(description="CSV: the header is line 1; Parquet: the 1-based row")
    account: str = Field(description="the row's account (graph: src_account), cut to 64")
    reason: str
    message: str


class UploadOut(BaseModel):
    total_rows: int
    accepted: int
    rejected: int
    rejected_rows: list[RejectedRowOut] = Field(description="the first 100, by line")
    rejected_rows_truncated: bool
    stored: dict[str, int] = Field(description="graph: accounts, edges; labels: accounts")


StrictQuery = Annotated[bool, Query(description="any rejected row: nothing applied (422)")]


@router.put(
    API + "/social-{kind}",
    response_model=UploadOut,
    responses=_UPLOAD_ERRORS,
    openapi_extra=body_schema(UPLOAD_SUFFIX),
)
async def upload(
    c: ContainerDep,
    who: PrincipalDep,
    code: str,
    kind: Kind,
    request: Request,
    strict: StrictQuery = False,
) -> UploadOut:
    """Replace the platform's interaction graph (``social-graph``: columns src_account,
    dst_account, weight) or moderation labels (``social-labels``: account, label benign or
    sybil). The body is CSV (text/csv) or Parquet (application/vnd.apache.parquet); the file
    replaces the stored one as a whole or not at all, and rejected rows are listed."""
    own(who, code)
    expected = "text/csv or application/vnd.apache.parquet"
    spill = spill_dir(c.settings.data_dir)
    async with received(request, spill, UPLOAD_SUFFIX, expected) as path:
        report: ImportReport = await run_in_threadpool(
            lambda: c.platform_data.import_file(
                kind, path, code, c.unit_of_work, c.clock(), strict=strict
            )
        )
    shown = refuse_aborted(report).rejects_shown()
    return UploadOut(
        total_rows=report.total_rows, accepted=report.accepted, stored=report.stored, **shown
    )


class PhoneCheckIn(BaseModel):
    account_id: str = Field(min_length=1, max_length=MAX_ACCOUNT_ID)
    msisdn: str = Field(min_length=1, max_length=40)


class PhoneCheckOut(BaseModel):
    id: str
    expires_at: datetime


class PhoneConfirmIn(BaseModel):
    code: str = Field(pattern=r"^[0-9]{6}$")


@router.post(
    API + "/phone-checks",
    status_code=202,
    response_model=PhoneCheckOut,
    responses=problem_responses(400, 401, 403, 404, 422, 429),
)
def start_phone_check(
    c: ContainerDep, who: PrincipalDep, code: str, body: PhoneCheckIn
) -> PhoneCheckOut:
    """Send a code to the number for binding the account: the same answer for every number."""
    own(who, code)
    with c.unit_of_work() as session:
        made = c.phone_checks.create(session, code, body.account_id, body.msisdn, c.clock())
    return PhoneCheckOut(id=made.id, expires_at=made.expires_at)


@router.post(API + "/phone-checks/{check_id}:confirm", response_model=StatusOut, responses=_ERRORS)
def confirm_phone_check(
    c: ContainerDep,
    who: PrincipalDep,
    code: str,
    check_id: Annotated[str, Path(max_length=36)],
    body: PhoneConfirmIn,
) -> StatusOut:
    """Bind the account if the code is right and the number may bind it; one refusal else."""
    own(who, code)
    with c.unit_of_work() as session:
        status = c.phone_checks.confirm(session, code, check_id, body.code, c.clock())
    if status is None:
        raise PhoneCheckFailed  # after the commit: the attempt stays counted
    return _out(status)


PAGE = "/account/platforms"


@router.get(PAGE, include_in_schema=False)
def my_platforms(request: Request, c: ContainerDep, message: str = "") -> Response:
    with c.unit_of_work() as session:
        subject = citizen_subject(c, session, request)
        if subject is None:
            return redirect("/login?next=" + PAGE)
        bindings = c.social.bindings_of(session, subject)
    ctx = {"bindings": bindings, "message": N_("The binding was revoked.") if message else ""}
    return render(c, request, "platforms.html", ctx, roles=CITIZEN)


@router.post(PAGE + "/{binding_id}/revoke", include_in_schema=False)
def revoke(
    request: Request, c: ContainerDep, binding_id: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    if not check_csrf(c, request, csrf):
        return render(c, request, "error.html", {"message": "CSRF"}, status=400)
    with c.unit_of_work() as session:
        subject = citizen_subject(c, session, request)
        if subject is None:
            return redirect("/login?next=" + PAGE)
        done = c.social.revoke(session, subject, binding_id, c.clock())
    return redirect(PAGE + ("?message=revoked" if done else ""))
