"""Browser tests: real headless Chromium (Debian's, never downloaded) against a real
`dinhdanh serve` on http://localhost:PORT (WebAuthn refuses IP-address origins)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dinhdanh.settings import Settings
from tests.cli.helpers import EXE, cli_json, env_of
from tests.support import free_port

CHROMIUM = Path("/usr/bin/chromium")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives real headless Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{CHROMIUM} is missing and CI is set: install chromium")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """Replaces pytest-base-url's fixture (an instance method pytest now warns about)."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@dataclass
class Server:
    base: str
    settings: Settings
    demo: dict[str, Any]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("browser") / "var"
    port = free_port()
    base = f"http://localhost:{port}"
    settings = Settings(data_dir=data)
    env = env_of(settings) | {"DINHDANH_ENV": "dev", "DINHDANH_ISSUER": base}
    demo = cli_json(settings, "demo", "--count", "200")
    log = data / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [EXE, "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=fh,
            stderr=fh,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no /healthz answer within 60 s"
            time.sleep(0.2)
        yield Server(base, settings, demo)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
