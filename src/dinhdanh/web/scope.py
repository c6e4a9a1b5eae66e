"""Reading an ASGI scope directly, for the middleware that answers ahead of Starlette."""

from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case), as Starlette's ``Headers.get``
    finds it, without building a ``Headers``."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None
