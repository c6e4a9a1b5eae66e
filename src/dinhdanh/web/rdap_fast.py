"""Anonymous RDAP lookups ahead of FastAPI (docs/adr/0021-rdap-fast-path.md).

``GET /rdap/domain/{name}`` and ``GET /rdap/ip/{target}`` without an ``Authorization``
header are most of RDAP's traffic, and FastAPI's routing, dependency solving and request
objects cost more CPU than the answer itself. This pure ASGI middleware answers them from an
exact prefix match with the very functions the routes use (``routers/rdap.py``: the key's
parsing, ``anonymous_answer`` with the shared rate limit and the answer cache of ADR 0015,
the read, and ``render_error`` for every error object), so both paths answer alike
(tests/internet/test_rdap_fast.py). Anything else, an officer's audited read included, goes
on to the app unchanged.
"""

from __future__ import annotations

from typing import Any

from anyio import CapacityLimiter
from anyio.to_thread import run_sync
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from dinhdanh.errors import DomainError
from dinhdanh.internet import rdap
from dinhdanh.web.routers.rdap import (
    DOMAIN,
    IP,
    Lookup,
    anonymous_answer,
    base_url,
    client_of,
    kept_answer,
    render_error,
)
from dinhdanh.web.scope import header
from dinhdanh.wiring import Container

_DOMAIN, _IP = "/rdap/domain/", "/rdap/ip/"
_CONTENT_TYPE = (b"content-type", rdap.MEDIA_TYPE.encode())
_BASES_KEPT = 64  # base URLs by Host header: a few in practice, any number if clients lie


class RdapFastPath:
    def __init__(self, app: ASGIApp, container: Container, db_limiter: CapacityLimiter) -> None:
        self.app = app
        self._c = container
        self._db = db_limiter
        self._bases: dict[tuple[Any, ...], str] = {}

    def _route(self, scope: Scope) -> tuple[Lookup[Any], str] | None:
        """The lookup and its raw key when this request is one the routes would answer
        anonymously (the routes' own path patterns: a domain name has no ``/``)."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        lookup: Lookup[Any]
        if path.startswith(_DOMAIN):
            raw, lookup = path[len(_DOMAIN) :], DOMAIN
            if "/" in raw:
                return None
        elif path.startswith(_IP):
            raw, lookup = path[len(_IP) :], IP
        else:
            return None
        if not raw or header(scope, b"authorization") is not None:
            return None
        return lookup, raw

    def _base(self, scope: Scope) -> str:
        """``str(request.base_url)`` without its last ``/``, as the routes give links."""
        host = header(scope, b"host")
        server = scope.get("server")
        key = (scope.get("scheme"), host, tuple(server) if server else None)
        base = self._bases.get(key)
        if base is None:
            base = base_url(Request(scope))
            if len(self._bases) < _BASES_KEPT:
                self._bases[key] = base
        return base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._route(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        lookup, raw = found
        c = self._c
        try:
            key = lookup.parse(raw)
            base = self._base(scope)
            client, cache_key = client_of(scope), lookup.cache_key(key, base)
            # A kept answer with nothing to read or write is answered on the loop: the
            # thread hop cost more than the rest of it (docs/adr/0025-*.md).
            body = kept_answer(c, client, cache_key)
            if body is None:
                body = await run_sync(
                    anonymous_answer,
                    c,
                    client,
                    lookup.build(c, key, base),
                    cache_key,
                    limiter=self._db,
                )
        except DomainError as exc:
            response = render_error(Request(scope), exc, {})
            await response(scope, receive, send)
            return
        headers = [(b"content-length", str(len(body)).encode()), _CONTENT_TYPE]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
