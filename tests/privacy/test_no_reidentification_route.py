"""No route maps a platform account or a pairwise subject to a citizen, except the reveal of an
approved re-identification request (DESIGN.md, "Re-identification"; issue 10.11).

A citizen is bound at platform "zalo" as ACCOUNT, with pairwise subject SUB. Then every route
the app registers (the development ones too) is called as every kind of principal, with the
account id and then the pairwise subject put into every path parameter, query parameter and
body field that takes text (plus the usual undeclared ones: account_id, sub, token, ...), and
valid values where a field needs one to get past its first check (a legal basis, a CSRF
token, a fresh staff session). No answer may contain the citizen's ID number, name or subject
id, save the reveal's: the set of routes that leak must be exactly ``REVEAL``, which also
proves that the walk can see a leak when there is one.

Every route must be listed in ROUTES with what it serves: a new route fails here until it is
classified, and from then on it is walked like the others.
"""

from __future__ import annotations

import ast
import base64
import json
import secrets
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Form
from fastapi import params as fastapi_params
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import BaseModel
from sqlalchemy import select
from starlette.routing import BaseRoute, Mount, Route

import dinhdanh
from dinhdanh.choices import Environment
from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.disclosure import SYSTEM
from dinhdanh.privacy.roles import Role
from dinhdanh.settings import Settings
from dinhdanh.social.models import Binding
from dinhdanh.staff.service import StaffMember
from dinhdanh.web.browser import CSRF_COOKIE, SESSION_COOKIE, _csrf_for
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.social.conftest import add_platform, bind, sign_in
from tests.staff.factories import grant, person, token
from tests.support import Citizen

ACCOUNT = "acct-7731"
REVEAL = {("POST", "/staff/disclosures/{request_id}/reveal")}

# Every route, by what it serves. Walked whatever it says; the list is here so that nobody
# adds a route without deciding it belongs to one of these.
ROUTES: dict[tuple[str, str], str] = {
    # OpenID Connect provider and OAuth endpoints
    ("POST", "/token"): "oauth",
    ("POST", "/par"): "oauth",
    ("POST", "/revoke"): "oauth",
    ("POST", "/introspect"): "oauth",
    ("GET", "/userinfo"): "oauth",
    ("POST", "/userinfo"): "oauth",
    ("GET", "/.well-known/openid-configuration"): "oidc",
    ("GET", "/jwks"): "oidc",
    ("GET", "/authorize"): "oidc",
    ("POST", "/authorize/consent"): "oidc",
    ("GET", "/logout"): "oidc",
    ("POST", "/logout"): "oidc",
    # officer API over the registry: by ID number or name and birth date, never by account
    ("POST", "/api/v1/citizens:lookup"): "officer api",
    ("POST", "/api/v1/citizens:search"): "officer api",
    ("GET", "/api/v1/citizens"): "officer api (moved)",
    ("GET", "/api/v1/citizens/{rest:path}"): "officer api (moved)",
    # carriers
    ("POST", "/api/v1/carriers"): "carrier api",
    ("POST", "/api/v1/carriers/{carrier}/subscriptions:batch"): "carrier api",
    ("GET", "/api/v1/carriers/{carrier}/uploads/{upload_id}/rejects"): "carrier api",
    ("GET", "/api/v1/carriers/{carrier}/actions"): "carrier api",
    ("POST", "/api/v1/carriers/{carrier}/actions:ack"): "carrier api",
    # platforms: status facts, never who
    ("PUT", "/api/v1/platforms/{code}/accounts/{account_id}"): "platform api",
    ("GET", "/api/v1/platforms/{code}/accounts/{account_id}/status"): "platform api",
    ("POST", "/api/v1/platforms/{code}/accounts:status"): "platform api",
    ("GET", "/api/v1/platforms/{code}/events"): "platform api",
    ("PUT", "/api/v1/platforms/{code}/social-{kind}"): "platform api",
    ("POST", "/api/v1/platforms/{code}/phone-checks"): "platform api",
    ("POST", "/api/v1/platforms/{code}/phone-checks/{check_id}:confirm"): "platform api",
    # registrars
    ("POST", "/api/v1/registrars"): "registrar api",
    ("PUT", "/api/v1/registrars/{registrar}/domains"): "registrar api",
    ("GET", "/api/v1/registrars/{registrar}/uploads/{upload_id}/rejects"): "registrar api",
    # RDAP: public, persons redacted unless an officer with a legal basis asks
    ("GET", "/rdap/help"): "public",
    ("GET", "/rdap/domain/{name}"): "public",
    ("GET", "/rdap/ip/{target:path}"): "public",
    ("GET", "/rdap/autnum/{asn}"): "public",
    ("GET", "/rdap/entity/{handle}"): "public",
    ("GET", "/rdap/domains"): "public",
    ("GET", "/rdap/{_rest:path}"): "public",
    ("GET", "/api/v1/registrars/{registrar}/actions"): "registrar api",
    ("POST", "/api/v1/registrars/{registrar}/actions:ack"): "registrar api",
    # age credentials
    ("GET", "/.well-known/jwt-vc-issuer"): "public",
    ("GET", "/status-lists/{list_id}"): "public",
    ("GET", "/.well-known/openid-credential-issuer"): "public",
    ("POST", "/age/vci/nonce"): "age credentials: wallet (OpenID4VCI)",
    ("POST", "/age/vci/credential"): "age credentials: wallet (OpenID4VCI)",
    ("POST", "/age/vp/responses/{request_id}"): "age credentials: wallet (OpenID4VP)",
    ("POST", "/api/v1/platforms/{code}/age-requests"): "platform api (OpenID4VP)",
    ("GET", "/api/v1/platforms/{code}/age-requests/{request_id}"): "platform api (OpenID4VP)",
    # OIDC clients (admin)
    ("POST", "/api/v1/clients"): "admin api",
    ("GET", "/api/v1/clients"): "admin api",
    ("POST", "/api/v1/clients/{client_id}/disable"): "admin api",
    ("POST", "/api/v1/clients/{client_id}/enable"): "admin api",
    # the citizen's own data, on their own session
    ("GET", "/account/numbers"): "citizen",
    ("POST", "/account/numbers/{msisdn}/{declaration}"): "citizen",
    ("GET", "/account/internet"): "citizen",
    ("GET", "/account/internet/{name}/disown"): "citizen",
    ("POST", "/account/internet/{name}/disown"): "citizen",
    ("GET", "/api/v1/me/numbers"): "citizen",
    ("POST", "/api/v1/me/numbers/{msisdn}:disown"): "citizen",
    ("POST", "/api/v1/me/numbers/{msisdn}:confirm"): "citizen",
    ("GET", "/account/access-log"): "citizen",
    ("GET", "/api/v1/me/access-log"): "citizen",
    ("GET", "/account/platforms"): "citizen",
    ("POST", "/account/platforms/{binding_id}/revoke"): "citizen",
    ("POST", "/account/age-credentials/offer"): "citizen",
    ("POST", "/account/age-credentials/revoke"): "citizen",
    ("GET", "/account/family"): "citizen",
    ("POST", "/api/v1/guardian-links"): "officer api",
    ("GET", "/staff/guardians"): "staff",
    ("POST", "/staff/guardians"): "staff",
    ("POST", "/api/v1/guardian-links:search"): "officer api",
    ("POST", "/api/v1/guardian-links/{link_id}:end"): "officer api",
    ("POST", "/account/family/{link_id}/login"): "citizen",
    ("POST", "/account/family/{link_id}/accounts/{binding_id}/{decision}"): "citizen",
    ("GET", "/account"): "citizen",
    ("GET", "/account/totp"): "citizen",
    ("POST", "/account/totp"): "citizen",
    ("POST", "/account/recovery-codes"): "citizen",
    ("POST", "/account/consents/{client_id}/revoke"): "citizen",
    ("POST", "/account/sessions/{session_id}/revoke"): "citizen",
    ("POST", "/account/logout-everywhere"): "citizen",
    ("POST", "/account/passkeys/options"): "citizen",
    ("POST", "/account/passkeys"): "citizen",
    ("POST", "/account/passkeys/{cred_id}/revoke"): "citizen",
    ("GET", "/account/step-up"): "citizen",
    ("POST", "/account/step-up"): "citizen",
    # logging in and enrolling
    ("GET", "/login"): "login",
    ("POST", "/login"): "login",
    ("GET", "/login/second-factor"): "login",
    ("POST", "/login/second-factor"): "login",
    ("POST", "/login/passkey/options"): "login",
    ("POST", "/login/passkey"): "login",
    ("GET", "/enrol"): "login",
    ("POST", "/enrol"): "login",
    ("POST", "/enrol/code"): "login",
    ("POST", "/enrol/password"): "login",
    ("POST", "/enrol/factor"): "login",
    ("POST", "/enrol/wait"): "login",
    # the officer console
    ("GET", "/staff"): "staff",
    ("GET", "/staff/lookup"): "staff",
    ("POST", "/staff/lookup"): "staff",
    ("GET", "/staff/grants"): "staff",
    ("POST", "/staff/grants"): "staff",
    ("POST", "/staff/grants/{grant_id}/revoke"): "staff",
    ("GET", "/staff/posture"): "staff",
    ("GET", "/staff/posture/agencies/{code}"): "staff",
    ("POST", "/staff/posture/agencies/{code}/systems"): "staff",
    ("POST", "/staff/posture/systems/{system_id}/endpoints"): "staff",
    ("POST", "/staff/posture/findings/{finding_id}/acknowledge"): "staff",
    ("POST", "/staff/posture/findings/{finding_id}/accept"): "staff",
    ("GET", "/api/v1/posture/systems"): "agency admin api",
    ("POST", "/api/v1/posture/systems"): "agency admin api",
    ("GET", "/api/v1/posture/systems/{system_id}"): "agency admin api",
    ("GET", "/api/v1/posture/findings"): "agency admin api",
    ("POST", "/api/v1/posture/findings/{finding_id}:acknowledge"): "agency admin api",
    ("GET", "/staff/reconciliation"): "staff",
    ("GET", "/staff/reconciliation/cases/{case_id}"): "staff",
    ("GET", "/staff/audit"): "staff",
    # re-identification: requests, decisions, and the one reveal
    ("GET", "/staff/disclosures"): "disclosure request",
    ("GET", "/staff/disclosures/new"): "disclosure request",
    ("POST", "/staff/disclosures"): "disclosure request",
    ("GET", "/staff/disclosures/{request_id}/reveal"): "disclosure request",
    ("POST", "/staff/disclosures/{request_id}/reveal"): "REVEAL",
    ("GET", "/staff/disclosures/queue"): "disclosure decision",
    ("POST", "/staff/disclosures/{request_id}/approve"): "disclosure decision",
    ("POST", "/staff/disclosures/{request_id}/refuse"): "disclosure decision",
    ("POST", "/api/v1/disclosure-requests"): "disclosure request",
    ("GET", "/api/v1/disclosure-requests"): "disclosure request",
    # public and operations
    ("GET", "/"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/static"): "public",
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/oauth2-redirect"): "public",
    ("GET", "/redoc"): "public",
    ("GET", "/dev/outbox"): "development only",
    ("GET", "/dev/wallet"): "development only",
    ("POST", "/dev/wallet/offer"): "development only",
    ("POST", "/dev/wallet/answer"): "development only",
}
# Undeclared inputs some handlers read themselves (OAuth forms, hints): offered everywhere.
EXTRA_KEYS = ("account_id", "sub", "token", "client_id", "login_hint", "id_token_hint", "state")


@pytest.fixture
def settings(tmp_path: Path, ring_json: str) -> Settings:
    """SQLite is enough (the walk is about code paths); development mode has every route."""
    return Settings(data_dir=tmp_path / "var", keyring=ring_json, env=Environment.DEV)


@dataclass
class Who:
    """A kind of principal: an API key, a session of this account, or nobody."""

    name: str
    bearer: str | None = None
    account: str | None = None


@dataclass
class World:
    c: Container
    app: FastAPI
    citizen: Citizen
    sub: str
    request_id: str  # approved, filed by the investigator, not yet revealed
    principals: list[Who] = field(default_factory=list)


def _pairwise_sub(id_token: str) -> str:
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


@pytest.fixture
def world(container: Container, app_client: TestClient, citizen: Citizen) -> World:
    c = container
    zalo = add_platform(c, "zalo", "Zalo Việt")
    log_in(app_client, citizen)
    id_token = sign_in(app_client, zalo)
    assert bind(app_client, zalo, ACCOUNT, id_token).status_code == 200
    app_client.cookies.clear()

    investigator, approver, plain = person(c, 1), person(c, 2), person(c, 3)
    # Staff holding every role between them, so that every console page opens to someone.
    grant(c, investigator, "officer")
    for role in ("admin", "auditor"):
        grant(c, approver, role)
    inv_grant = grant(c, investigator, "investigator")
    inv = StaffMember(inv_grant).context("walk")
    appr = StaffMember(grant(c, approver, "approver")).context("walk")
    with c.unit_of_work() as s:
        args = ("zalo", ACCOUNT, "criminal_investigation", "WALK-1", "the walk", None, c.clock())
        filed = c.disclosure.file(s, inv, *args)
        c.disclosure.approve(s, filed.id, appr, "for the walk", c.clock())
        c.disclosure.file(s, inv, *args)  # and one waiting in the approvers' queue
        _, admin_key = create_api_key(s, "walk admin", Role.ADMIN, c.clock(), owner="operator")
    world = World(c, app_client.app, citizen, _pairwise_sub(id_token), filed.id)  # type: ignore[arg-type]
    world.principals = [
        Who("nobody"),
        Who("platform key", bearer=zalo.key),
        Who("admin key", bearer=admin_key),
        Who("officer token", bearer=token(c, inv_grant)),  # the investigator's own
        Who("another citizen", account=plain.account_id),
        Who("investigator", account=investigator.account_id),
        Who("approver", account=approver.account_id),
    ]
    return world


# -- building a call from a route's declared inputs ------------------------------------------


def _fixed(csrf: str) -> dict[str, str]:
    """Fields that need a valid value to get past their first check."""
    return {
        "csrf": csrf,
        "legal_basis": "criminal_investigation",
        "case_ref": "WALK-1",
        "platform": "zalo",
        "reason": "route walk",
        "note": "route walk",
        "next": "/account",
        "delay_days": "",
    }


def _fill(annotation: Any, value: str) -> Any:
    """A value of the annotated type carrying ``value`` where text goes, else None (omit)."""
    origin = typing.get_origin(annotation)
    if annotation is str:
        return value
    if annotation is date:
        return "1990-05-12"
    if origin in (list, tuple) and typing.get_args(annotation)[:1] == (str,):
        return [value]
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            filled = _fill(arg, value)
            if filled is not None:
                return filled
    return None


def _fields(annotation: Any, name: str, value: str, fixed: dict[str, str]) -> dict[str, Any]:
    """The fields of one declared body parameter (a model's fields, or the parameter)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        out = {}
        for key, info in annotation.model_fields.items():
            filled = fixed.get(key) or _fill(info.annotation, value)
            if filled is not None:
                out[key] = filled
        return out
    filled = fixed.get(name) or _fill(annotation, value)
    return {} if filled is None else {name: filled}


@dataclass
class Call:
    method: str
    url: str
    query: dict[str, Any]
    form: dict[str, Any] | None = None
    json: dict[str, Any] | None = None


@dataclass(frozen=True)
class Walked:
    """One registered route as the app serves it (included routers flattened)."""

    path: str  # as registered, e.g. /staff/disclosures/{request_id}/reveal
    path_format: str  # e.g. /api/v1/citizens/{rest} for /api/v1/citizens/{rest:path}
    methods: frozenset[str]
    params: tuple[str, ...]  # path parameters
    route: BaseRoute  # the route as written (an APIRoute has the declared inputs)

    @property
    def keys(self) -> set[tuple[str, str]]:
        return {(m, self.path) for m in self.methods}


def _walked(app: FastAPI) -> list[Walked]:
    out = []
    for rc in iter_route_contexts(app.routes):
        route = rc.original_route
        if isinstance(route, Mount):  # static files: a GET of any path under it
            out.append(
                Walked(route.path, route.path + "/{path}", frozenset({"GET"}), ("path",), route)
            )
            continue
        assert isinstance(route, Route), route
        methods = frozenset(m for m in (rc.methods or {"GET"}) if m != "HEAD")
        params = tuple(rc.param_convertors)
        out.append(Walked(str(rc.path), str(rc.path_format), methods, params, route))
    return out


def _calls(walked: Walked, value: str, w: World, csrf: str) -> Iterator[Call]:
    fixed = _fixed(csrf)
    extras = dict.fromkeys(EXTRA_KEYS, value) | {"lang": "en"}
    paths = [walked.path_format]
    for name in walked.params:
        choices = {"code": ["zalo"], "request_id": [w.request_id, value]}.get(name, [value])
        paths = [p.replace("{" + name + "}", v) for p in paths for v in choices]
    query, form, body = dict(extras), dict(extras), None
    if isinstance(walked.route, APIRoute):
        dep = walked.route.dependant
        for q in dep.query_params:
            filled = fixed.get(q.name) or _fill(q.field_info.annotation, value)
            if filled is not None:
                query[q.alias] = filled
        for b in dep.body_params:
            fields = _fields(b.field_info.annotation, b.alias, value, fixed)
            if isinstance(b.field_info, fastapi_params.Form):
                form |= fields
            else:
                body = (body or {}) | fields
    for method in sorted(walked.methods):
        for path in paths:
            if method == "GET":
                yield Call(method, path, query)
            elif body is not None:
                yield Call(method, path, query, json=body)
            else:
                yield Call(method, path, query, form=form | {"csrf": csrf})


# -- principals --------------------------------------------------------------------------------


def _headers(w: World, who: Who) -> tuple[dict[str, str], str]:
    """Request headers for ``who`` (a freshly minted MFA session for accounts, so a route that
    ends a session does not weaken the calls after it) and the CSRF form value."""
    cookie = secrets.token_urlsafe(16)
    csrf = _csrf_for(w.c, cookie)
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json, text/html"}
    cookies = {CSRF_COOKIE: cookie}
    if who.bearer:
        headers["Authorization"] = f"Bearer {who.bearer}"
    if who.account:
        with w.c.unit_of_work() as s:
            cookies[SESSION_COOKIE] = w.c.auth.sessions.create(
                s,
                account_id=who.account,
                amr=("pwd", "otp", "mfa"),
                acr=1,
                mfa_pending=False,
                ip="127.0.0.1",
                user_agent="route walk",
                now=w.c.clock(),
            )
    headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return headers, csrf


def _leaks(resp: Response, w: World) -> list[str]:
    seen = resp.text + "\n" + "\n".join(f"{k}: {v}" for k, v in resp.headers.items())
    secrets_ = {
        "ID number": w.citizen.id_number,
        "name": w.citizen.full_name,
        "subject id": w.citizen.subject_id,
    }
    found = []
    for what, secret in secrets_.items():
        forms = {secret, json.dumps(secret)[1:-1], secret.casefold()}
        if any(f in seen or f in seen.casefold() for f in forms):
            found.append(what)
    return found


# -- the tests ---------------------------------------------------------------------------------


def test_every_route_is_classified(world: World) -> None:
    registered = {k for r in _walked(world.app) for k in r.keys}
    unclassified = registered - set(ROUTES)
    assert unclassified == set(), (
        f"new routes: classify them in ROUTES (they are walked from then on): {unclassified}"
    )
    assert set(ROUTES) - registered == set(), "routes listed here but gone: remove them"
    assert {k for k, kind in ROUTES.items() if kind == "REVEAL"} == REVEAL


@dataclass
class Walk:
    leaking: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    calls: int = 0
    statuses: set[int] = field(default_factory=set)


def _walk(w: World, routes: list[Walked]) -> Walk:
    """Every call of ``routes`` as every principal with each value; what leaked, where."""
    out = Walk()
    with TestClient(w.app, base_url="https://testserver", raise_server_exceptions=False) as tc:
        for route in routes:
            for who in w.principals:
                for value in (ACCOUNT, w.sub):
                    headers, csrf = _headers(w, who)
                    for call in _calls(route, value, w, csrf):
                        tc.cookies.clear()
                        resp = tc.request(
                            call.method,
                            call.url,
                            params=call.query,
                            data=call.form,
                            json=call.json,
                            headers=headers,
                            follow_redirects=False,
                        )
                        out.calls += 1
                        out.statuses.add(resp.status_code)
                        assert resp.status_code < 500, (call, who.name, resp.text[:300])
                        found = _leaks(resp, w)
                        if found:
                            key = (call.method, route.path)
                            out.leaking.setdefault(key, []).append(f"{who.name}: {found}")
    return out


def test_only_the_reveal_maps_an_account_or_a_pairwise_subject_to_the_citizen(
    world: World,
) -> None:
    # The reveal first, so that every other route is also walked after it has happened.
    walk = _walk(world, sorted(_walked(world.app), key=lambda r: not (r.keys & REVEAL)))
    assert set(walk.leaking) == REVEAL, walk.leaking
    # Only the requester's one call with the approved request's id showed the person.
    assert walk.leaking[next(iter(REVEAL))] == ["investigator: ['ID number', 'name']"]
    assert walk.calls > 1000
    assert {200, 303, 400, 401, 403, 404} <= walk.statuses  # calls got past the first checks


def test_a_route_that_maps_an_account_to_its_citizen_is_caught(world: World) -> None:
    """The control: a route added the way a careless change would add one is unclassified,
    and the walk finds what it leaks, whether it answers the subject id or the name."""
    w = world

    @w.app.get("/api/v1/platforms/{code}/accounts/{account_id}/owner")
    def owner(code: str, account_id: str) -> dict[str, str | None]:
        with w.c.unit_of_work() as s:
            return {"owner": w.c.social.reidentify(s, code, account_id)}

    @w.app.post("/staff/whois")
    def whois(sub: Annotated[str, Form()]) -> HTMLResponse:
        with w.c.unit_of_work() as s:
            b = s.scalars(select(Binding).where(Binding.pairwise_sub == sub)).first()
            held = w.c.social._open(b)["subject"] if b else None
            found = held and w.c.registry.open_subject(s, held, ("full_name",), SYSTEM, w.c.clock())
        return HTMLResponse(found.full_name if found else "nobody")

    added = {
        ("GET", "/api/v1/platforms/{code}/accounts/{account_id}/owner"),
        ("POST", "/staff/whois"),
    }
    registered = {k for r in _walked(w.app) for k in r.keys}
    assert registered - set(ROUTES) == added
    walk = _walk(w, [r for r in _walked(w.app) if r.keys & added])
    assert set(walk.leaking) == added
    assert walk.leaking[("POST", "/staff/whois")][0].endswith("['name']")


def test_only_the_disclosure_service_reaches_the_bindings_holder() -> None:
    """The one function that opens a binding for its person (``Social.reidentify``) is handed
    to privacy.disclosure by the wiring and called nowhere else."""
    src = Path(dinhdanh.__file__).parent
    users = {
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "reidentify"
    }
    assert users == {"wiring.py"}


def test_the_walk_fills_inputs_where_text_goes() -> None:
    assert _fill(str, "v") == "v"
    assert _fill(str | None, "v") == "v"
    assert _fill(list[str], "v") == ["v"]
    assert _fill(int, "v") is None
    assert _fill(int | None, "v") is None
