"""`dinhdanh serve` as a real process: answers /healthz, signs the audit tip when stopped."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from dinhdanh.settings import Settings
from tests.cli.helpers import cli, cli_json, serving


def test_serve_answers_and_checkpoints_on_shutdown(settings: Settings, tmp_path: Path) -> None:
    if settings.database_url:
        pytest.skip("one real server run is enough; storage is covered on both databases")
    s = Settings(data_dir=settings.data_dir)
    demo = cli_json(s, "demo", "--count", "200")
    seeded = cli_json(s, "audit", "verify")["entries"]
    assert seeded >= 200  # one entry per citizen created, at least
    with serving(s, tmp_path / "serve.log", workers=2) as base:
        resp = httpx.post(
            f"{base}/api/v1/citizens:lookup",
            json={
                "id_number": "001090999999",
                "legal_basis": "administrative_procedure",
                "case_ref": "serve smoke test",
            },
            headers={"Authorization": f"Bearer {demo['officer_api_key']}"},
        )
        assert resp.status_code == 404
        assert resp.json()["code"] == "citizen_not_found"
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


def test_a_grant_waiting_for_the_database_does_not_stall_the_others(
    settings: Settings, tmp_path: Path
) -> None:
    """One worker: a refresh-token grant blocked on SQLite's write lock, a client_credentials
    grant beside it. On the event loop the first would hold up the second until the lock
    went; in the thread pool it does not."""
    if settings.database_url:
        pytest.skip("SQLite's write lock is what this holds; PostgreSQL locks rows")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    m2m = cli_json(s, "clients", "add", "--name", "m2m", "--grant", "client_credentials", "--json")
    web = cli_json(
        s, "clients", "add", "--name", "web", "--redirect-uri", "https://rp.example/cb", "--json"
    )
    grants = {
        "m2m": {"grant_type": "client_credentials"},
        "web": {"grant_type": "refresh_token", "refresh_token": "not-a-token"},
    }

    def grant(base: str, who: str, client: dict[str, str]) -> httpx.Response:
        auth = (client["client_id"], client["client_secret"])
        return httpx.post(f"{base}/token", data=grants[who], auth=auth, timeout=20)

    with serving(s, tmp_path / "serve.log", workers=1) as base:
        assert grant(base, "m2m", m2m).status_code == 200  # both clients now cached
        assert grant(base, "web", web).json()["error"] == "invalid_grant"
        lock = sqlite3.connect(s.data_dir / "dinhdanh.db", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        blocked: list[httpx.Response] = []
        waiter = threading.Thread(target=lambda: blocked.append(grant(base, "web", web)))
        try:
            waiter.start()
            time.sleep(0.5)  # let the refresh grant reach the lock first
            assert not blocked  # still waiting for the lock
            assert grant(base, "m2m", m2m).status_code == 200
            assert not blocked  # answered while the other still waited
        finally:
            lock.execute("ROLLBACK")
            lock.close()
            waiter.join()
        assert blocked[0].json()["error"] == "invalid_grant"
