"""The base of every error a caller can act on. Nothing here knows HTTP frameworks: the web
layer (``web/problems.py``) turns any ``DomainError`` into a response in one place.

``code`` is stable: clients and docs rely on it, so it is never renamed. ``title`` is a
short summary for people and may change. The message is the ``detail``; it never echoes
personal data (errors end up in logs). ``status`` is the HTTP status the error answers with.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: str = "invalid_request"
    status: int = 400
    title: str = "Invalid request"
    # The wire format the family answers in where its route names none (``web/problems.py``):
    # None is the default, RFC 9457 problem details.
    wire_format: ClassVar[str | None] = None

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(*(() if detail is None else (detail,)))
        self.extra: dict[str, Any] = extra  # extension members (``errors``, ``step_up``, ...)

    @property
    def detail(self) -> str | None:
        return str(self) if self.args else None
