"""Browser tests: real headless Chromium (Debian's, never downloaded) against a real
`dinhdanh serve` on http://localhost:PORT (WebAuthn refuses IP-address origins)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dinhdanh.settings import Settings
from tests.cli.helpers import cli_json, serving
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
    env = {"DINHDANH_ENV": "dev", "DINHDANH_ISSUER": base}
    demo = cli_json(settings, "demo", "--count", "200")
    with serving(settings, data / "serve.log", 1, port=port, env=env):
        yield Server(base, settings, demo)
