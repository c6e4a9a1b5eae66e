"""One handler answers every DomainError, in the format of the route, else of the error's
family, else as an RFC 9457 problem; a router can bring a format of its own (RDAP's here)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.requests import Request

import dinhdanh
from dinhdanh.auth.oidc.errors import OAuthError, invalid_client
from dinhdanh.errors import DomainError
from dinhdanh.web import problems
from dinhdanh.web.limits import OAUTH_PATHS
from dinhdanh.web.problems import add_format, errors_as
from dinhdanh.web.routers import oidc

DOCS = Path(__file__).parents[2] / "docs" / "architecture.md"


class NoSuchDomain(DomainError):
    code, status, title = "domain_not_found", 404, "No such domain"


def render_rdap(_request: Request, exc: DomainError, headers: dict[str, str]) -> Response:
    """RFC 9083 section 6: an error is an object with errorCode, title and description."""
    body = {
        "rdapConformance": ["rdap_level_0"],
        "errorCode": exc.status,
        "title": exc.title,
        "description": [exc.detail] if exc.detail else [],
    }
    return JSONResponse(
        body, status_code=exc.status, media_type="application/rdap+json", headers=headers
    )


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)
    add_format(app, "rdap", render_rdap)
    rdap = APIRouter(prefix="/rdap", route_class=errors_as("rdap"))
    plain = APIRouter(prefix="/api")
    for router in (rdap, plain):

        @router.get("/domain/{name}")
        def domain(name: str) -> None:
            raise NoSuchDomain(f"{name} is not registered")

        @router.get("/oauth")
        def oauth() -> None:
            raise invalid_client("unknown client")

        @router.get("/count")
        def count(n: int) -> int:
            return n

    app.include_router(rdap)
    app.include_router(plain)
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_app()) as tc:
        yield tc


def test_a_router_with_its_own_format_answers_in_it(client: TestClient) -> None:
    resp = client.get("/rdap/domain/example.vn")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/rdap+json"
    assert resp.json() == {
        "rdapConformance": ["rdap_level_0"],
        "errorCode": 404,
        "title": "No such domain",
        "description": ["example.vn is not registered"],
    }


def test_the_same_error_elsewhere_is_a_problem(client: TestClient) -> None:
    resp = client.get("/api/domain/example.vn")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json() == {
        "type": "urn:dinhdanh:problem:domain_not_found",
        "title": "No such domain",
        "status": 404,
        "code": "domain_not_found",
        "instance": "/api/domain/example.vn",
        "detail": "example.vn is not registered",
    }


def test_an_oauth_error_keeps_its_family_format_unless_the_route_names_one(
    client: TestClient,
) -> None:
    plain = client.get("/api/oauth")
    assert plain.status_code == 401
    assert plain.json() == {"error": "invalid_client", "error_description": "unknown client"}
    assert plain.headers["www-authenticate"] == 'Basic error="invalid_client"'
    assert plain.headers["cache-control"] == "no-store"
    routed = client.get("/rdap/oauth")
    assert routed.headers["content-type"] == "application/rdap+json"
    assert routed.json()["errorCode"] == 401


def test_a_validation_error_follows_the_route_format(client: TestClient) -> None:
    """FastAPI's own 422 goes through the same dispatch. A path no route matches does not:
    routing answers before any route's format applies."""
    routed = client.get("/rdap/count", params={"n": "x"})
    assert (routed.status_code, routed.headers["content-type"]) == (422, "application/rdap+json")
    assert routed.json()["errorCode"] == 422
    plain = client.get("/api/count", params={"n": "x"})
    assert plain.headers["content-type"] == "application/problem+json"
    assert plain.json()["code"] == "validation_failed"
    assert plain.json()["errors"][0]["field"] == "n"
    assert client.get("/rdap/nothing").headers["content-type"] == "application/problem+json"


def _domain_errors() -> list[type[DomainError]]:
    for info in pkgutil.walk_packages(dinhdanh.__path__, "dinhdanh."):
        if ".migrations." not in info.name:
            importlib.import_module(info.name)
    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith("dinhdanh.")]


def test_every_domain_error_has_a_stable_code_a_status_and_a_title() -> None:
    errors = _domain_errors()
    assert {"IdNumberError", "PurposeRequired", "TelecomError", "OAuthError"} <= {
        c.__name__ for c in errors
    }
    for cls in errors:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.code), cls
        assert 400 <= cls.status < 600, cls
        assert cls.title, cls


def test_the_docs_list_every_code() -> None:
    """docs/architecture.md's table of codes names each error class's code (instance codes,
    such as an ID number's reasons, are listed by their class)."""
    cells = re.findall(r"^\| (`[^|]+) \|", DOCS.read_text(encoding="utf-8"), re.MULTILINE)
    documented = {code for cell in cells for code in re.findall(r"`([a-z0-9_]+)`", cell)}
    assert {"csrf_failed", "id_format", "number_not_found"} <= documented
    codes = {c.code for c in _domain_errors() if c not in (OAuthError,)}
    assert codes - documented == set()


def test_the_oauth_endpoints_answer_any_error_in_rfc_6749_format() -> None:
    """The client-facing OAuth endpoints sit on the router whose format is ``oauth``: a
    DomainError of any family raised there is an RFC 6749 error (the route's format wins,
    as the RDAP router above shows)."""
    routes = [r for r in oidc.oauth.routes if isinstance(r, APIRoute)]
    assert {r.path for r in routes} == OAUTH_PATHS - {"/logout"}
    assert {getattr(r, "error_format", None) for r in routes} == {"oauth"}
