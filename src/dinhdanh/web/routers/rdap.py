"""RDAP (RFC 7480, 9082, 9083): registration data of .vn names, IP blocks and AS numbers.

Anonymous queries are rate-limited per client address and see persons redacted (RFC 9537).
An officer (a personal token of a staff grant, ``Authorization: Bearer``) naming a legal basis
and a case reference (headers ``X-Legal-Basis``, ``X-Case-Ref``: not in the URL, which logs
keep) sees a person registrant in full; that read is audited and shows in the person's "Who
used my data". Searches never carry registrants, for anyone. Errors are RDAP error objects
(``errorCode``, ``title``, ``description``) that are also RFC 9457 problems (``type``,
``status``, ``code``, ``instance``), as ``application/rdap+json``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from ipaddress import ip_address
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

import pydantic_core
from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.types import Scope

from dinhdanh.errors import DomainError
from dinhdanh.internet import rdap
from dinhdanh.internet.answer_cache import GENERATION
from dinhdanh.internet.ipindex import Address, CidrError, Network, parse_cidr
from dinhdanh.internet.names import DomainNameError, ascii_form
from dinhdanh.internet.service import DomainView, OrganisationView
from dinhdanh.privacy.access import check_purpose
from dinhdanh.privacy.access_log import disclose_after
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.roles import Role
from dinhdanh.store.snapshots import generations
from dinhdanh.web.deps import AuthorizationHeader, ContainerDep, authenticated, in_db_thread
from dinhdanh.web.problems import TYPE_BASE, Problem, add_format, errors_as
from dinhdanh.wiring import Container

MAX_ASN = 2**32 - 1
K = TypeVar("K")


class RdapJSON(Response):
    media_type = rdap.MEDIA_TYPE


_STRING = {"type": "string"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "RdapError": {
        "title": "RdapError",
        "description": "RFC 9083 section 6 error object, with the RFC 9457 problem members.",
        "type": "object",
        "required": ["errorCode", "title", "description", "code", "status"],
        "properties": {
            "rdapConformance": {"type": "array", "items": _STRING},
            "errorCode": {"type": "integer"},
            "title": _STRING,
            "description": {"type": "array", "items": _STRING},
            "type": _STRING,
            "status": {"type": "integer"},
            "code": _STRING,
            "instance": _STRING,
        },
    },
}


def _rdap_error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/RdapError"}
    return {"description": description, "content": {rdap.MEDIA_TYPE: {"schema": schema}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _rdap_error("Bad query (RDAP error object)"),
    401: _rdap_error("Unknown or expired token"),
    403: _rdap_error("Not an officer's personal token"),
    404: _rdap_error("Not found"),
    429: _rdap_error("Too many anonymous queries: wait Retry-After seconds"),
}
OK: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {rdap.MEDIA_TYPE: {"schema": {"type": "object"}}},
        "description": "RDAP answer (RFC 9083)",
    }
}

router = APIRouter(prefix="/rdap", tags=["rdap"], route_class=errors_as("rdap"), responses=ERRORS)


def render_error(request: Request, exc: DomainError, headers: dict[str, str]) -> Response:
    """An RDAP error object that is also an RFC 9457 problem."""
    extra = dict(exc.extra)
    retry = extra.pop("retry_after", None)
    if retry is not None:
        headers["Retry-After"] = str(retry)
    if exc.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    body = rdap.error(exc.status, exc.title, exc.detail) | {
        "type": TYPE_BASE + exc.code,
        "status": exc.status,
        "code": exc.code,
        "instance": request.url.path,
    }
    body.update(extra)
    return RdapJSON(_dump(body), status_code=exc.status, headers=headers)


def install(app: FastAPI) -> None:
    """The ``rdap`` error format, and the OpenAPI document saying so: every error of an
    ``/rdap/`` operation (422 included, which ``web.problems`` documents as a problem) is an
    ``RdapError`` as ``application/rdap+json``."""
    add_format(app, "rdap", render_error)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        document = build()
        if first:
            document.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
            error = {rdap.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/RdapError"}}}
            for path, item in document.get("paths", {}).items():
                if not path.startswith(router.prefix + "/"):
                    continue
                for operation in item.values():
                    for status, response in operation.get("responses", {}).items():
                        if status != "200":
                            response["content"] = error
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _dump(body: dict[str, Any]) -> bytes:
    # pydantic's serializer: the bytes json.dumps(ensure_ascii=False) gives, at a fifth the CPU.
    return pydantic_core.to_json(body)


def _not_found(what: str) -> Problem:
    return Problem(404, "not_found", "Not found", f"no {what} of that name here")


def _bad(detail: str) -> Problem:
    return Problem(400, "bad_query", "Bad query", detail)


# -- who asks --------------------------------------------------------------------------

Basis = Annotated[str | None, Header(alias="X-Legal-Basis")]
CaseRef = Annotated[str | None, Header(alias="X-Case-Ref")]


def _officer(
    c: Container, session: Session, authorization: str, basis: str | None, case_ref: str | None
) -> AccessContext:
    """The audit context of an officer's read, or a 401/403/400 error."""
    who = authenticated(c, session, authorization)
    if who.role is not Role.OFFICER:
        raise Problem(403, "forbidden", "The officer role is required")
    member = c.staff.person_of_key(session, who, c.clock())
    if member is None:
        raise Problem(403, "person_required", "Officer reads need a personal token")
    s = c.settings
    ground = check_purpose(basis, case_ref, s.legal_bases, "RDAP")
    until = disclose_after(
        ground.legal_basis,
        None,
        c.clock(),
        bases=s.audit_delay_bases,
        max_days=s.audit_max_disclosure_days,
    )
    return replace(member.context(ground.purpose, ground), disclose_after=until)


Build = Callable[[Session, AccessContext | None], dict[str, Any]]


def client_of(scope: Scope) -> str:
    """The address an anonymous query is counted under (``request.client.host``)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def _count(c: Container, client: str, now: float) -> None:
    """Count an anonymous query of ``client``: a 429 past the limit."""
    wait = c.rdap_limiter.hit(client, now)
    if wait is not None:
        raise Problem(
            429,
            "rate_limited",
            "Too many requests",
            "anonymous queries are limited per client address",
            retry_after=max(1, int(wait + 0.999)),
        )


def kept_answer(c: Container, client: str, cache_key: tuple[str, ...]) -> bytes | None:
    """Count the query, then the kept answer, without I/O: None when the answer is not
    kept, or when counting or the cache would need the database or Redis (then
    ``anonymous_answer``, in a database thread, does it all). For the event loop."""
    now, at = time.time(), time.monotonic()
    cache = c.rdap_answers
    if not cache.on or cache.due(at) or c.rdap_limiter.due(now):
        return None
    kept = cache.get(cache_key, at)
    if kept is not None:
        _count(c, client, now)
    return kept


def anonymous_answer(
    c: Container, client: str, build: Build, cache_key: tuple[str, ...] | None
) -> bytes:
    """Count an anonymous query (429 past the limit), then its answer: kept until the
    registry changes when it has a ``cache_key`` (``internet/answer_cache.py``), else
    built. Runs in a database thread; the routes and the fast path (``web/rdap_fast.py``)
    share it."""
    _count(c, client, time.time())
    cache = c.rdap_answers
    if cache_key is None or not cache.on:
        with c.read_work() as session:
            return _dump(build(session, None))
    at = time.monotonic()
    epoch = cache.check(at, lambda: _generation(c))
    kept = cache.get(cache_key, at)
    if kept is not None:
        return kept
    with c.read_work() as session:
        answer = _dump(build(session, None))
    cache.put(cache_key, answer, at, epoch)
    return answer


def _generation(c: Container) -> int:
    """The registry's ``rdap`` generation (bumped by every write an answer shows)."""
    with c.read_work() as session:
        return generations(session, [GENERATION])[GENERATION]


async def _serve(
    request: Request,
    c: Container,
    authorization: str | None,
    basis: str | None,
    case_ref: str | None,
    build: Build,
    cache_key: tuple[str, ...] | None = None,
) -> Response:
    """Count an anonymous query, then build its answer in a database thread; anonymous
    answers with a ``cache_key`` are kept until the registry changes
    (``internet/answer_cache.py``)."""

    def work() -> bytes:
        if authorization is None:
            return anonymous_answer(c, client_of(request.scope), build, cache_key)
        with c.unit_of_work() as session:
            ctx = _officer(c, session, authorization, basis, case_ref)
            return _dump(build(session, ctx))

    return RdapJSON(await in_db_thread(request, work))


def base_url(request: Request) -> str:
    """The base of the answers' links."""
    return str(request.base_url).rstrip("/")


# -- answers -----------------------------------------------------------------------------


def _holder(c: Container, session: Session, tax_code: str, base: str) -> dict[str, Any]:
    org = c.internet.organisation(session, tax_code)
    if org is None:
        return rdap.stated_organisation(tax_code, None)
    return rdap.organisation_entity(org, base, ["registrant"])


def _organisation(
    org: OrganisationView | None, tax_code: str, stated_name: str | None, base: str
) -> dict[str, Any]:
    if org is None:
        return rdap.stated_organisation(tax_code, stated_name)
    return rdap.organisation_entity(org, base, ["registrant"])


def _domain(
    c: Container,
    session: Session,
    found: tuple[DomainView, str, OrganisationView | None],
    ctx: AccessContext | None,
    base: str,
) -> dict[str, Any]:
    view, registrar_name, org = found
    extra: dict[str, Any] = {}
    if view.registrant_type == "person":
        person = None
        if ctx is not None:
            person = c.internet.open_registrant(session, view.id, ctx, c.clock())
        registrant = rdap.person_entity(view, person, base)
        if person is None:
            extra["redacted"] = rdap.redacted(rdap.IN_DOMAIN)
    else:
        tax = view.registrant_tax_code or ""
        registrant = _organisation(org, tax, view.registrant_name, base)
    body = rdap.domain_answer(
        view, registrant=registrant, registrar_name=registrar_name, base=base, now=c.clock()
    )
    return rdap.top(body | extra, staff=ctx is not None)


@router.get("/help", response_class=RdapJSON, responses=OK)
async def help_(c: ContainerDep, request: Request) -> Response:
    """What this server answers (RFC 9083 section 7)."""
    return await _serve(request, c, None, None, None, lambda _s, _ctx: rdap.help_answer())


def _domain_key(name: str) -> str:
    try:
        return _ascii_form(name)
    except DomainNameError as exc:
        raise _bad(str(exc)) from None


# A name's A-label form depends on the name alone, and IDNA was four fifths of the CPU of a
# kept answer (docs/performance.md, RDAP): the last 65,536 names asked for are remembered per
# process (names that fail are not: lru_cache keeps no exception).
_ascii_form = functools.lru_cache(maxsize=65_536)(ascii_form)


def _read_domain(
    c: Container, session: Session, ascii_name: str, ctx: AccessContext | None, base: str
) -> dict[str, Any]:
    found = c.internet.domain_for_rdap(session, ascii_name)
    if found is None:
        raise _not_found("domain")
    return _domain(c, session, found, ctx, base)


def _ip_key(target: str) -> Address | Network:
    try:
        return parse_cidr(target) if "/" in target else ip_address(target)
    except (CidrError, ValueError):
        raise _bad("give one IPv4 or IPv6 address, or a block in CIDR notation") from None


def _read_ip(
    c: Container, session: Session, target: Address | Network, ctx: AccessContext | None, base: str
) -> dict[str, Any]:
    found = c.internet.ip_block_for_rdap(session, target)
    if found is None:
        raise _not_found("IP network")
    block, org = found
    holder = _organisation(org, block.holder_tax_code, None, base)
    return rdap.top(rdap.ip_answer(block, holder, base), staff=ctx is not None)


@dataclass(frozen=True, slots=True)
class Lookup(Generic[K]):
    """One kind of object lookup (``/rdap/{kind}/{key}``): the key parsed from the path (400
    when it is not one) and the answer read for it (404 when nothing is there). Answers of
    lookups are kept for anonymous clients, under (kind, base URL, key)."""

    kind: str
    parse: Callable[[str], K]
    read: Callable[[Container, Session, K, AccessContext | None, str], dict[str, Any]]

    def build(self, c: Container, key: K, base: str) -> Build:
        read = self.read
        return lambda session, ctx: read(c, session, key, ctx, base)

    def cache_key(self, key: K, base: str) -> tuple[str, ...]:
        return (self.kind, base, str(key))


DOMAIN: Lookup[str] = Lookup("domain", _domain_key, _read_domain)
IP: Lookup[Address | Network] = Lookup("ip", _ip_key, _read_ip)


async def _lookup(
    lookup: Lookup[K],
    c: Container,
    request: Request,
    raw: str,
    authorization: str | None,
    basis: str | None,
    case_ref: str | None,
) -> Response:
    key = lookup.parse(raw)
    base = base_url(request)
    build = lookup.build(c, key, base)
    cache_key = lookup.cache_key(key, base)
    return await _serve(request, c, authorization, basis, case_ref, build, cache_key)


@router.get("/domain/{name}", response_class=RdapJSON, responses=OK)
async def domain(
    c: ContainerDep,
    request: Request,
    name: str,
    authorization: AuthorizationHeader = None,
    basis: Basis = None,
    case_ref: CaseRef = None,
) -> Response:
    """A .vn name, as U-labels or A-labels."""
    return await _lookup(DOMAIN, c, request, name, authorization, basis, case_ref)


@router.get("/ip/{target:path}", response_class=RdapJSON, responses=OK)
async def ip(
    c: ContainerDep,
    request: Request,
    target: str,
    authorization: AuthorizationHeader = None,
    basis: Basis = None,
    case_ref: CaseRef = None,
) -> Response:
    """The most specific block holding an address or a CIDR block."""
    return await _lookup(IP, c, request, target, authorization, basis, case_ref)


@router.get("/autnum/{asn}", response_class=RdapJSON, responses=OK)
async def autnum(
    c: ContainerDep,
    request: Request,
    asn: str,
    authorization: AuthorizationHeader = None,
    basis: Basis = None,
    case_ref: CaseRef = None,
) -> Response:
    """An autonomous system number (digits, as RFC 9082 writes it)."""
    if not asn.isdigit() or int(asn) > MAX_ASN:
        raise _bad("an AS number is 0 to 4294967295, digits only")
    base = base_url(request)

    def build(session: Session, ctx: AccessContext | None) -> dict[str, Any]:
        view = c.internet.autnum(session, int(asn))
        if view is None:
            raise _not_found("autonomous system")
        holder = _holder(c, session, view.holder_tax_code, base)
        return rdap.top(rdap.autnum_answer(view, holder, base), staff=ctx is not None)

    return await _serve(request, c, authorization, basis, case_ref, build)


@router.get("/entity/{handle}", response_class=RdapJSON, responses=OK)
async def entity(
    c: ContainerDep,
    request: Request,
    handle: str,
    authorization: AuthorizationHeader = None,
    basis: Basis = None,
    case_ref: CaseRef = None,
) -> Response:
    """An organisation (tax code), a registrar (code) or a domain's person registrant
    (``P-`` and the domain's handle)."""
    base = base_url(request)

    def build(session: Session, ctx: AccessContext | None) -> dict[str, Any]:
        if handle.upper().startswith(rdap.PERSON_PREFIX):  # handles are case-insensitive
            view = c.internet.domain_by_id(session, handle[len(rdap.PERSON_PREFIX) :].lower())
            if view is None or view.registrant_type != "person":
                raise _not_found("entity")
            person = None
            if ctx is not None:
                person = c.internet.open_registrant(session, view.id, ctx, c.clock())
            body = rdap.person_entity(view, person, base)
            if person is None:
                body["redacted"] = rdap.redacted("$")
            return rdap.top(body, staff=ctx is not None)
        org = c.internet.organisation(session, handle)
        if org is not None:
            return rdap.top(rdap.organisation_entity(org, base), staff=ctx is not None)
        registrar = c.internet.find_registrar(session, handle)
        if registrar is None:
            raise _not_found("entity")
        body = rdap.registrar_entity(registrar.code, registrar.name, base)
        return rdap.top(body, staff=ctx is not None)

    return await _serve(request, c, authorization, basis, case_ref, build)


@router.get("/domains", response_class=RdapJSON, responses=OK | {422: ERRORS[400]})
async def domains(
    c: ContainerDep,
    request: Request,
    name: Annotated[str | None, Query(description="a name, or 'exam*' / 'exam*.com.vn'")] = None,
    count: Annotated[int, Query(ge=1, le=rdap.MAX_COUNT)] = rdap.DEFAULT_COUNT,
    cursor: Annotated[str | None, Query(description="from the last page's next link")] = None,
    authorization: AuthorizationHeader = None,
    basis: Basis = None,
    case_ref: CaseRef = None,
) -> Response:
    """Names matching a pattern (RFC 9082 section 4.1), a page at a time, in A-label order.
    The results carry no registrant, whoever asks."""
    if not name:
        raise _bad("give name=PATTERN")
    try:
        pattern = rdap.parse_pattern(name)
        after = rdap.decode_cursor(cursor) if cursor else ""
    except rdap.PatternError as exc:
        raise Problem(exc.status, exc.code, exc.title, str(exc)) from None
    base = base_url(request)
    query = f"name={quote(name)}"

    def build(session: Session, _ctx: AccessContext | None) -> dict[str, Any]:
        found: list[DomainView]
        if pattern.exact:
            one = c.internet.domain(session, pattern.prefix)
            found = [one] if one is not None and one.ascii_name > after else []
            more = False
        else:
            found = c.internet.search_domains(
                session, pattern.prefix, pattern.suffix, after, count + 1
            )
            more = len(found) > count
            found = found[:count]
        return rdap.search_answer(found, base=base, query=query, count=count, more=more)

    return await _serve(request, c, authorization, basis, case_ref, build)


@router.get("/{_rest:path}", response_class=RdapJSON, include_in_schema=False)
async def unsupported() -> Response:
    """Other query types (nameserver, ...): RFC 7480 section 5.4."""
    raise Problem(400, "unsupported_query", "Unsupported query", "see /rdap/help")
