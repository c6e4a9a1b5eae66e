"""What every demo seeder gets and gives back."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from dinhdanh.settings import Settings

DEMO_SEED = 20250101


@dataclass(frozen=True)
class Demo:
    """One run of `dinhdanh demo`: its options and where its files go."""

    ctx: typer.Context
    settings: Settings
    count: int
    seed: int
    quiet: bool  # --json: no progress bars

    @property
    def dir(self) -> Path:
        return self.settings.data_dir / "demo"


@dataclass
class Seeded:
    """A seeder's part of the JSON result and of the printed summary."""

    result: dict[str, Any]
    lines: list[str] = field(default_factory=list)


Seeder = Callable[[Demo], Seeded]


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 (never overwrite: the first secret is the secret)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
