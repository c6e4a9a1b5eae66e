"""Run the real `dinhdanh` command in a subprocess, configured only through the environment."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from dinhdanh.settings import Settings
from tests.support import free_port

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


@contextmanager
def serving(
    s: Settings,
    log: Path,
    workers: int,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`dinhdanh serve` on a free port until the block ends (SIGTERM); yields its base URL.

    ``env`` adds variables to the settings' environment (the browser tests' issuer, say)."""
    port = port or free_port()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [EXE, "serve", "--port", str(port), "--workers", str(workers)],
            env=env_of(s) | (env or {}),
            stdout=fh,
            stderr=fh,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no /healthz answer within 60 s"
            time.sleep(0.2)
        # granian (2.x; --workers 1 is uvicorn) hangs when told to stop while a worker is
        # still starting: wait for all, as an operator would, before the SIGTERM below.
        while workers > 1 and log.read_text().count("Started worker-") < workers:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
