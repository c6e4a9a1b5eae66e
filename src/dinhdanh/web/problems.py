"""RFC 9457 problem details: every error the API returns has this shape and a stable code."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from dinhdanh.identity.idnumber import IdNumberError
from dinhdanh.privacy.access import PurposeRequired

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


class Problem(Exception):
    def __init__(
        self, status: int, code: str, title: str, detail: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail, self.extra = (
            status,
            code,
            title,
            detail,
            extra,
        )


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

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            request, exc.status, exc.code, exc.title, exc.detail, headers, **exc.extra
        )

    @app.exception_handler(IdNumberError)
    async def _id_number(request: Request, exc: IdNumberError) -> JSONResponse:
        return problem_response(request, 422, exc.code, "Invalid ID number", str(exc))

    @app.exception_handler(PurposeRequired)
    async def _purpose(request: Request, exc: PurposeRequired) -> JSONResponse:
        return problem_response(request, 400, exc.code, exc.title, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]}
            for e in exc.errors()
        ]
        return problem_response(
            request,
            422,
            "validation_failed",
            "Invalid request",
            errors[0]["message"],
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(request)
        return problem_response(request, exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(DataError)
    async def _data(request: Request, _exc: DataError) -> JSONResponse:
        # A value the database refuses: on PostgreSQL a NUL in a text value, which SQLite stores.
        from dinhdanh.web.limits import OAUTH_PATHS  # limits imports this module

        detail = "the request holds a value the database cannot store"
        if request.url.path in OAUTH_PATHS | {"/authorize"}:
            body = {"error": "invalid_request", "error_description": detail}
            return JSONResponse(body, status_code=400, headers={"Cache-Control": "no-store"})
        return problem_response(request, 400, "invalid_data", "Invalid data", detail)

    @app.exception_handler(Exception)
    async def _internal(request: Request, _exc: Exception) -> JSONResponse:
        # Never echo internals: they may carry personal data or key material.
        return problem_response(request, 500, "internal_error", "Internal server error")
