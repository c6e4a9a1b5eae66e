"""Shared plumbing of CLI commands: settings from options, one-line failures, JSON output."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

# The settings (pydantic), the container (SQLAlchemy, the key ring) and the audit log are
# imported by the functions that use them: a command's --help, and `dinhdanh --help`, need
# none of them.
if TYPE_CHECKING:
    from dinhdanh.privacy.audit import AccessContext
    from dinhdanh.settings import Settings
    from dinhdanh.wiring import Container


class BatchEngine(StrEnum):
    """Where a batch command's rules run (ADR 0019)."""

    DUCKDB = "duckdb"
    SPARK = "spark"


EngineOpt = Annotated[
    BatchEngine,
    typer.Option(
        "--engine",
        help="duckdb (this machine) or spark (on DINHDANH_SPARK_MASTER, default local[*]; "
        "needs a Java runtime).",
    ),
]

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def settings_from(ctx: typer.Context) -> Settings:
    from dinhdanh.settings import SettingsError, load_settings

    overrides: dict[str, Any] = ctx.obj or {}
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc))


@contextmanager
def container_from(ctx: typer.Context) -> Iterator[Container]:
    from dinhdanh.crypto import CryptoError
    from dinhdanh.wiring import NotInitialized, build

    settings = settings_from(ctx)
    try:
        c = build(settings)
    except (NotInitialized, CryptoError) as exc:
        fail(str(exc))
    try:
        yield c
    finally:
        c.close()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def parse_expiry(value: str, now: datetime, option: str = "--expires") -> datetime:
    """``90d`` (days from now) or an ISO 8601 date or time (UTC unless it says otherwise)."""
    text = value.strip()
    try:
        if text.endswith("d") and text[:-1].isdigit():
            at = now + timedelta(days=int(text[:-1]))
        else:
            at = datetime.fromisoformat(text)
            at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    except ValueError:
        fail(f"{option} {value!r}: give a number of days (90d) or an ISO 8601 date")
    if at <= now:
        fail(f"{option} {value!r} is not in the future")
    return at


def operator() -> str:
    """The audit actor of a CLI command: the operating-system user who ran it.

    The CLI has no login: whoever runs it already holds the database and the key ring, so
    the person accountable is the operator of the server account, not a staff grant."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = f"uid{os.getuid()}"
    return f"operator:{user}"


def operator_context(purpose: str) -> AccessContext:
    from dinhdanh.privacy.audit import AccessContext

    return AccessContext(operator(), "operator", purpose)
