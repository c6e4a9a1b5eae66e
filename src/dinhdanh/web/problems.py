"""RFC 9457 problem details: every error the API returns has this shape and a stable code."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from dinhdanh.auth.oidc import dpop
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.errors import DomainError

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:dinhdanh:problem:"

# What the OpenAPI document says of errors (components.schemas): every status an operation can
# answer is declared with its content type and schema, so clients and fuzzers can rely on it.
_STRING = {"type": "string"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details; `code` is stable, `title` is not.",
        "type": "object",
        "required": ["type", "title", "status", "code", "instance"],
        "properties": {
            "type": _STRING,
            "title": _STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "code": _STRING,
            "instance": _STRING,
            "detail": _STRING,
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": _STRING, "message": _STRING},
                },
            },
        },
    },
    "OAuthError": {
        "title": "OAuthError",
        "description": "RFC 6749 section 5.2 error response.",
        "type": "object",
        "required": ["error"],
        "properties": {"error": _STRING, "error_description": _STRING, "error_uri": _STRING},
    },
}


Responses = dict[int | str, dict[str, Any]]  # what a route takes as ``responses=``


def _described(status: int, media_type: str, schema: str) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def problem_responses(*statuses: int) -> Responses:
    """``responses=`` of a route: these statuses answer problem details."""
    return {status: _described(status, MEDIA_TYPE, "Problem") for status in statuses}


def oauth_error_responses(*statuses: int) -> Responses:
    """``responses=`` of an OAuth endpoint: these statuses answer RFC 6749 errors."""
    return {status: _described(status, "application/json", "OAuthError") for status in statuses}


class Problem(DomainError):
    """An error of the web layer itself (no key, no CSRF token, ...), or one built here from a
    framework's exception: the same handler answers it as any domain error."""

    def __init__(
        self, status: int, code: str, title: str, detail: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        self.status, self.code, self.title = status, code, title


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


# -- wire formats: how a DomainError goes out ----------------------------------------------
# A route names its format with ``APIRouter(route_class=errors_as(NAME))``; otherwise the
# error's family does (``DomainError.wire_format``); otherwise it is a problem. A format is a
# function of the request, the error and the headers so far; ``add_format`` adds one to an app.

Render = Callable[[Request, DomainError, dict[str, str]], Response]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
DPOP_ALGS = f'algs="{" ".join(dpop.ALGORITHMS)}"'


def render_problem(request: Request, exc: DomainError, headers: dict[str, str]) -> Response:
    """RFC 9457 problem details, ``application/problem+json``."""
    if exc.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem_response(
        request, exc.status, exc.code, exc.title, exc.detail, headers, **exc.extra
    )


def render_oauth(_request: Request, exc: DomainError, headers: dict[str, str]) -> Response:
    """RFC 6749 section 5.2 (and RFC 6750 section 3 for a 401's challenge). An error of
    another family keeps its status and becomes ``invalid_request`` (``server_error``)."""
    if isinstance(exc, OAuthError):
        error, description, scheme = exc.error, exc.description, exc.scheme
    else:
        error = "invalid_request" if exc.status < 500 else "server_error"
        description, scheme = exc.detail or exc.title, None
    headers |= NO_STORE
    if exc.status == 401:
        scheme = scheme or ("Bearer" if error == "invalid_token" else "Basic")
        challenge = f'{scheme} error="{error}"'
        if scheme == "DPoP":
            challenge += ", " + DPOP_ALGS
        headers["WWW-Authenticate"] = challenge
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=exc.status, headers=headers)


FORMATS: dict[str, Render] = {"problem": render_problem, "oauth": render_oauth}


def errors_as(name: str) -> type[APIRoute]:
    """The route class of a router whose errors all answer in format ``name``."""

    class Route(APIRoute):
        error_format = name

    return Route


def add_format(app: FastAPI, name: str, render: Render) -> None:
    app.state.error_formats[name] = render


def answer(request: Request, exc: DomainError, headers: dict[str, str] | None = None) -> Response:
    """The response to ``exc`` in the format of the route, else of the error's family."""
    route = request.scope.get("route")
    name = getattr(route, "error_format", None) or exc.wire_format or "problem"
    render: Render = request.app.state.error_formats[name]
    return render(request, exc, dict(headers or {}))


_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(request: Request) -> str:
    """Every method of the path (RFC 9110 section 15.5.6). Starlette names only those of the
    first route that matched the path, and a path may have one route per method."""
    routes = request.app.router.routes
    return ", ".join(
        m
        for m in _METHODS
        if any(r.matches({**request.scope, "method": m})[0] is Match.FULL for r in routes)
    )


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in document.get("paths", {}).values() for op in item.values()]


def _document(app: FastAPI) -> None:
    """Add the error schemas that ``problem_responses`` refers to, once, to the document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        document = build()  # built once, then kept in app.openapi_schema
        if first:
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(SCHEMAS)
            # FastAPI documents its own 422 body; ours is a problem (the handler below). A JSON
            # body that does not parse is FastAPI's 400, a problem too; one over the route's
            # limit a 413.
            for operation in _operations(document):
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = _described(422, MEDIA_TYPE, "Problem")
                body = operation.get("requestBody", {}).get("content", {})
                if "application/json" in body:
                    responses.setdefault("400", _described(400, MEDIA_TYPE, "Problem"))
                if body:  # web/limits.py; the OAuth endpoints declare their own format
                    responses.setdefault("413", _described(413, MEDIA_TYPE, "Problem"))
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _document(app)
    app.state.error_formats = dict(FORMATS)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return answer(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]}
            for e in exc.errors()
        ]
        problem = Problem(
            422, "validation_failed", "Invalid request", errors[0]["message"], errors=errors
        )
        return answer(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # Routing's own answers (no such path, wrong method) come before any route's code:
        # always problems.
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(request)
        return render_problem(request, Problem(exc.status_code, code, str(exc.detail)), headers)

    @app.exception_handler(DataError)
    async def _data(request: Request, _exc: DataError) -> Response:
        # A value the database refuses: on PostgreSQL a NUL in a text value, which SQLite stores.
        from dinhdanh.web.limits import OAUTH_PATHS  # limits imports this module

        detail = "the request holds a value the database cannot store"
        exc = Problem(400, "invalid_data", "Invalid data", detail)
        if request.url.path in OAUTH_PATHS | {"/authorize"}:  # the OAuth flow's pages too
            return render_oauth(request, exc, {})
        return answer(request, exc)

    @app.exception_handler(Exception)
    async def _internal(request: Request, _exc: Exception) -> JSONResponse:
        # Never echo internals: they may carry personal data or key material.
        return problem_response(request, 500, "internal_error", "Internal server error")
