"""The platforms' status reads ahead of FastAPI (docs/adr/0024-status-fast-path.md).

``GET /api/v1/platforms/{code}/accounts/{account_id}/status`` and
``POST /api/v1/platforms/{code}/accounts:status`` are the API's busiest routes (issue 10: 2,000
single lookups and 100 batch calls of 1,000 ids a second), and Starlette's routing and
middleware, FastAPI's request handling and body parsing cost a good part of a lookup's CPU.
This pure ASGI middleware answers them from an exact match of the path with the very
functions the routes call (``routers/platforms.py``: ``read``, which checks the platform key
and reads in one hop to the database thread pool, and ``single_body`` / ``batch_body``), and
renders a domain error (no key, a wrong or revoked key, another platform's code, no such
platform) with the app's own ``problems.answer``, so both paths answer alike
(tests/social/test_status_fast.py).

What it does not answer goes on to the app unchanged, and the app then answers it exactly as
it would have: a batch body that is not an ``application/json`` object FastAPI's ``BatchIn``
accepts (bad JSON, a wrong type, more than 10,000 ids: FastAPI's 400 and 422 problems), any
other method or path, and an unexpected error (a value PostgreSQL refuses, say): the request
is then handled once more by the app, the body it read given back to it.
"""

from __future__ import annotations

import json
from typing import Any

from anyio import CapacityLimiter
from anyio.to_thread import run_sync
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dinhdanh.errors import DomainError
from dinhdanh.web import problems
from dinhdanh.web.routers import platforms
from dinhdanh.web.scope import header
from dinhdanh.wiring import Container

_PREFIX = "/api/v1/platforms/"
_JSON = (b"content-type", b"application/json")


def route(scope: Scope) -> tuple[str, str | None] | None:
    """(platform code, account id) of a single lookup, (code, None) of a batch call, or None
    for any request the routes' own patterns (``{code}`` and ``{account_id}``: one path
    segment each, not empty) would not give to them."""
    if scope["type"] != "http" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    if not path.startswith(_PREFIX):
        return None
    parts = path[len(_PREFIX) :].split("/")
    method = scope["method"]
    if method == "GET" and len(parts) == 4 and parts[1] == "accounts" and parts[3] == "status":
        if parts[0] and parts[2]:
            return parts[0], parts[2]
    elif method == "POST" and len(parts) == 2 and parts[1] == "accounts:status" and parts[0]:
        return parts[0], None
    return None


class StatusFastPath:
    def __init__(self, app: ASGIApp, container: Container, db_limiter: CapacityLimiter) -> None:
        self.app = app
        self._c = container
        self._db = db_limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = route(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        code, account_id = found
        if account_id is not None:
            ids = [account_id]
        else:
            body, more = await _read_body(receive)
            receive = _replay(body, more, receive)  # the body, for the app if it answers
            taken = _batch_ids(scope, body)
            if taken is None:  # FastAPI's own 400 or 422, or its answer to another type
                await self.app(scope, receive, send)
                return
            ids = taken
        authorization = header(scope, b"authorization")
        c = self._c
        try:
            items = await run_sync(
                platforms.read,
                c,
                None if authorization is None else authorization.decode("latin-1"),
                code,
                ids,
                limiter=self._db,
            )
        except DomainError as exc:
            await problems.answer(Request(scope), exc)(scope, receive, send)
            return
        except Exception:  # the app answers it as it does (and logs it)
            await self.app(scope, receive, send)
            return
        answer = (
            platforms.single_body(items[0])
            if account_id is not None
            else platforms.batch_body(items)
        )
        headers = [(b"content-length", str(len(answer)).encode()), _JSON]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The request body; and any message past it (a disconnect) to give back."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, after: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives the body read already, then what was read past it, then
    whatever the server sends next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *after]

    async def again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return again


def _batch_ids(scope: Scope, body: bytes) -> list[str] | None:
    """The ids of a batch body as FastAPI would take them (``json.loads`` of an
    ``application/json`` body, then ``BatchIn``), or None to leave the body to FastAPI."""
    if not body or header(scope, b"content-type") != b"application/json":
        return None
    try:
        parsed: Any = json.loads(body)
        return platforms.BatchIn.model_validate(parsed).account_ids
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError too
        return None
