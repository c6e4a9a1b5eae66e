"""Request body limits per route, enforced while the body streams in (pure ASGI middleware).

A declared ``Content-Length`` over the limit is answered 413 before a byte is read; a
chunked body is counted as it arrives and refused at the first chunk past the limit, so no
handler ever holds more than the limit (plus one chunk) in memory. OAuth endpoints answer
in RFC 6749's error format, everything else as an RFC 9457 problem (``payload_too_large``).
Not BaseHTTPMiddleware: that wraps every request in a task and buffers nothing we need.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dinhdanh.web.problems import Problem, render_oauth, render_problem
from dinhdanh.web.scope import header

KIB = 1024
FORM_BYTES = 16 * KIB  # OAuth forms, HTML forms, passkey JSON: a few KiB is plenty
API_BYTES = 64 * KIB  # officer and admin JSON; a client's JWKS of ML-DSA keys fits
ACK_BYTES = 256 * KIB  # actions:ack takes up to 10,000 ids
OAUTH_PATHS = frozenset({"/token", "/par", "/revoke", "/introspect", "/userinfo", "/logout"})
CARRIERS = "/api/v1/carriers/"
REGISTRARS = "/api/v1/registrars/"
# A platform's batch status: 10,000 account ids of up to 200 characters, quoted.
PLATFORMS, STATUS_BATCH_BYTES = "/api/v1/platforms/", 2 * KIB * KIB + 64 * KIB
PLATFORM_UPLOADS = ("social-graph", "social-labels")  # a platform's graph and labels
# OpenID4VCI: one proof JWT (about 600 bytes with its jwk) per credential, up to the largest
# DINHDANH_AGE_BATCH_SIZE (50); answered in OAuth's format, as the endpoint's other errors.
AGE_CREDENTIAL = "/age/vci/credential"


@dataclass(frozen=True, slots=True)
class Limit:
    max_bytes: int
    oauth: bool = False  # answer in RFC 6749's format, as the endpoint's other errors


def limit_for(path: str, upload_bytes: int) -> Limit:
    """The body limit of a route, by its path (the middleware runs before routing)."""
    if path in OAUTH_PATHS:
        return Limit(FORM_BYTES, oauth=True)
    if path == AGE_CREDENTIAL:
        return Limit(API_BYTES, oauth=True)
    if path.startswith(CARRIERS):
        if path.endswith("/subscriptions:batch"):
            return Limit(upload_bytes)
        if path.endswith("/actions:ack"):
            return Limit(ACK_BYTES)
    if path.startswith(REGISTRARS) and path.endswith("/domains"):
        return Limit(upload_bytes)
    if path.startswith(REGISTRARS) and path.endswith("/actions:ack"):
        return Limit(ACK_BYTES)
    if path.startswith(PLATFORMS):
        # By the whole shape {code}/{route}: a suffix alone would also match an account id
        # (PUT .../accounts/social-graph is a JSON binding, capped as the API).
        route = path[len(PLATFORMS) :].split("/")
        if len(route) == 2 and route[1] == "accounts:status":
            return Limit(STATUS_BATCH_BYTES)
        if len(route) == 2 and route[1] in PLATFORM_UPLOADS:
            return Limit(upload_bytes)
    if path.startswith("/api/"):
        return Limit(API_BYTES)
    return Limit(FORM_BYTES)


class BodyTooLarge(HTTPException):
    """Raised from ``receive``. An HTTPException, so FastAPI's body parsing lets it through
    instead of turning it into a 400; the middleware answers in its place."""

    def __init__(self) -> None:
        super().__init__(413)


def too_large(request: Request, limit: Limit) -> Response:
    detail = f"the request body is limited to {limit.max_bytes} bytes here"
    exc = Problem(413, "payload_too_large", "Request body too large", detail)
    headers = {"Connection": "close"}  # the rest of the body is not read
    # Before routing: the format goes by the path (answer() needs the matched route).
    return (render_oauth if limit.oauth else render_problem)(request, exc, headers)


class BodyLimit:
    def __init__(self, app: ASGIApp, upload_bytes: int) -> None:
        self.app = app
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], self.upload_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await too_large(Request(scope), limit)(scope, receive, send)
            return
        received = 0
        exceeded = started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app made of BodyTooLarge: ours goes out instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        with suppress(BodyTooLarge):  # the app did not catch it: answered below
            await self.app(scope, counted, guarded)
        if exceeded and not started:
            await too_large(Request(scope), limit)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None  # the server refuses a malformed length itself
