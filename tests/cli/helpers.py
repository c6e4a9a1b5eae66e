"""Run the real `dinhdanh` command in a subprocess, configured only through the environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from dinhdanh.settings import Settings

EXE = shutil.which("dinhdanh", path=str(Path(sys.executable).parent)) or "dinhdanh"


def env_of(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINHDANH_")}
    env["DINHDANH_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["DINHDANH_DATABASE_URL"] = settings.database_url
    env["COLUMNS"] = "200"
    return env


def cli(
    settings: Settings, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [EXE, *args],
        env=env or env_of(settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"dinhdanh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def cli_json(settings: Settings, *args: str) -> Any:
    return json.loads(cli(settings, *args, "--json").stdout)
