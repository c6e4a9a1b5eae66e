"""Shared plumbing of CLI commands: settings from options, one-line failures, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

from dinhdanh.crypto import CryptoError
from dinhdanh.settings import Settings, SettingsError, load_settings
from dinhdanh.wiring import Container, NotInitialized, build

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def settings_from(ctx: typer.Context) -> Settings:
    overrides: dict[str, Any] = ctx.obj or {}
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc))


@contextmanager
def container_from(ctx: typer.Context) -> Iterator[Container]:
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
