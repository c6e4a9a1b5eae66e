"""`dinhdanh serve` as a real process: answers /healthz, signs the audit tip when stopped."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from dinhdanh.settings import Settings
from tests.cli.helpers import EXE, cli, cli_json, env_of


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_and_checkpoints_on_shutdown(settings: Settings, tmp_path: Path) -> None:
    if settings.database_url:
        pytest.skip("one real server run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    demo = cli_json(s, "demo", "--count", "200")
    seeded = cli_json(s, "audit", "verify")["entries"]
    assert seeded >= 200  # one entry per citizen created, at least
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [EXE, "serve", "--port", str(port), "--workers", "2"],
            env=env_of(s),
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
        # granian (2.x) hangs when told to stop while a worker is still starting: wait for
        # both, as an operator would, before the SIGTERM below.
        while log.read_text().count("Started worker-") < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        resp = httpx.get(
            f"{base}/api/v1/citizens/001090999999",
            params={"purpose": "serve smoke test"},
            headers={"Authorization": f"Bearer {demo['officer_api_key']}"},
        )
        assert resp.status_code == 404
        assert resp.json()["code"] == "citizen_not_found"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    before = cli_json(s, "audit", "verify")
    assert before["ok"] is True
    # The miss was the one entry the server added; it signed it on the way out.
    assert before["entries"] == seeded + 1
    from dinhdanh.wiring import build

    c = build(s)
    try:
        with c.unit_of_work() as session:
            assert not c.audit.checkpoint(session, c.clock())  # nothing left unsigned
    finally:
        c.close()
    assert cli(s, "audit", "verify").returncode == 0
