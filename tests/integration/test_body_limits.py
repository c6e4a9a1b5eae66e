"""Body limits on a real server (uvicorn and granian), with real chunked bodies: refused with
413 part-way, and the server's memory does not grow with what the client offers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dinhdanh.settings import Settings
from tests.cli.helpers import cli, serving

OFFERED = 256 << 20  # 256 MiB offered in chunks; the limit of /token is 16 KiB


def _chunks(total: int, size: int = 64 << 10) -> Iterator[bytes]:
    block = b"a" * size
    for _ in range(total // size):
        yield block


def _server_pid(port: int) -> int:
    """The `dinhdanh serve --port PORT` process (uvicorn serves inside it)."""
    wanted = f"serve\0--port\0{port}\0".encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and wanted in (proc / "cmdline").read_bytes():
                return int(proc.name)
        except OSError:
            continue
    raise AssertionError(f"no server on port {port}")


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize("workers", [1, 2], ids=["uvicorn", "granian"])
def test_chunked_bodies_past_the_limit_are_refused_while_streaming(
    settings: Settings, tmp_path: Path, workers: int
) -> None:
    if settings.database_url:
        pytest.skip("the limits are in the web layer; one database is enough")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    form = {"content-type": "application/x-www-form-urlencoded"}
    with serving(s, tmp_path / "serve.log", workers=workers) as base:
        pid = _server_pid(int(base.rsplit(":", 1)[1]))
        small = httpx.post(f"{base}/token", content=_chunks(1 << 20), headers=form, timeout=60)
        assert small.status_code == 413  # warmed up: the peak below is the big one's
        before = _peak_rss_kib(pid)
        for path in ("/token", "/par", "/revoke", "/introspect", "/logout"):
            resp = httpx.post(f"{base}{path}", content=_chunks(OFFERED), headers=form, timeout=60)
            assert resp.status_code == 413, (path, resp.text)
            assert resp.json()["error"] == "invalid_request"
        for path, headers in [
            ("/login", form),
            ("/api/v1/clients", {"content-type": "application/json"}),
        ]:
            resp = httpx.post(f"{base}{path}", content=_chunks(4 << 20), headers=headers)
            assert resp.status_code == 413, (path, resp.text)
            assert resp.json()["code"] == "payload_too_large"
        # Passkey JSON: the CSRF header is checked before any of the body is read.
        resp = httpx.post(
            f"{base}/login/passkey",
            content=_chunks(4 << 20),
            headers={"content-type": "application/json"},
        )
        assert resp.status_code == 403
        assert resp.json()["code"] == "csrf"
        if workers == 1:  # uvicorn serves in this very process: its peak is the server's
            assert _peak_rss_kib(pid) - before < 64 << 10  # far below the 1.25 GiB offered
