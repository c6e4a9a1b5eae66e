"""Several server nodes: two real `dinhdanh serve` processes on one PostgreSQL, with Redis,
behind a round-robin load balancer. Wrong passwords spread over both nodes still stop at
the throttle's limit (the counters live in Redis, not in a database row per attempt), and the
audit log written by both nodes at once over several chains verifies with `dinhdanh audit
verify`, until one entry is edited."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, text

from dinhdanh.auth.models import Throttle
from dinhdanh.identity.rules import check_citizen
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.wiring import Container
from tests.cli.helpers import cli, env_of, serving
from tests.identity.factories import GOOD
from tests.lb import round_robin
from tests.parallel import BURST, burst, only
from tests.staff.factories import officer_headers
from tests.support import make_citizen

FREE = 3  # DINHDANH_THROTTLE_FREE_FAILURES: the 4th failure blocks
LOOKUP = "/api/v1/citizens:lookup"
LAWFUL = {"legal_basis": "criminal_investigation", "case_ref": "investigation 2026/042"}
CSRF_COOKIE = "__Host-dd_csrf"


def _audited(c: Container, action: str) -> int:
    with c.unit_of_work() as s:
        counted = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        return int(s.scalar(counted) or 0)


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_throttle_and_audit_hold_across_nodes(
    container: Container, redis_url: str, tmp_path: Path, backend: str
) -> None:
    c, s = container, container.settings
    citizen = make_citizen(c)
    today = datetime.now(UTC)
    with c.unit_of_work() as session:
        records = [check_citizen(r, today.date()) for r in GOOD]
        c.registry.upsert(session, records, AccessContext("test", "registry_import", "seed"), today)  # type: ignore[arg-type]
    ids = [str(r["id_number"]) for r in GOOD]
    officer = officer_headers(c)
    env = {
        "DINHDANH_KEYRING": s.keyring or "",
        "DINHDANH_REDIS_URL": redis_url,
        "DINHDANH_REDIS_PREFIX": f"dinhdanh:test:{secrets.token_hex(4)}:",
        "DINHDANH_AUDIT_CHAINS": "8",
        "DINHDANH_AUDIT_CHECKPOINT_EVERY": "16",
    }
    with (
        serving(s, tmp_path / "a.log", 1, env=env) as node_a,
        serving(s, tmp_path / "b.log", 1, env=env) as node_b,
        round_robin([int(urlsplit(u).port or 0) for u in (node_a, node_b)]) as lb,
    ):
        base = f"http://127.0.0.1:{lb.port}"
        page = httpx.get(f"{base}/login")
        csrf = page.cookies[CSRF_COOKIE]
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = {"id_number": citizen.id_number, "password": "wrong!", "csrf": token}

        def guess(_: int) -> int:  # a connection of its own: the balancer's next node
            headers = {"Cookie": f"{CSRF_COOKIE}={csrf}"}
            return httpx.post(f"{base}/login", data=form, headers=headers, timeout=60).status_code

        statuses = burst(guess)
        only(statuses)
        assert statuses == [401] * BURST
        assert min(lb.connections.values()) >= BURST // 2  # both nodes took guesses

        def lookup(i: int) -> int:
            body = {"id_number": ids[i % len(ids)], **LAWFUL}
            return httpx.post(f"{base}{LOOKUP}", json=body, headers=officer, timeout=60).status_code

        for _ in range(3):
            answers = burst(lookup)
            only(answers)
            assert answers == [200] * BURST

    # Evaluated guesses are audited one by one: the limit held across the two nodes.
    assert _audited(c, "password:failed") == FREE + 1
    assert _audited(c, "password:throttled") == BURST - FREE - 1
    with c.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Throttle)) == 0  # all in Redis
        chains = session.scalars(select(AuditEntry.chain).distinct()).all()
    assert len(chains) > 1

    verify_env = env_of(s) | {"DINHDANH_KEYRING": s.keyring or ""}
    ok = cli(s, "audit", "verify", "--json", env=verify_env, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with c.engine.begin() as conn:
        victim = conn.scalar(
            text("SELECT max(seq) FROM audit_entries WHERE chain = :c"),
            {"c": max(chains)},
        )
        conn.execute(text("UPDATE audit_entries SET fields = '' WHERE seq = :s"), {"s": victim})
    bad = cli(s, "audit", "verify", env=verify_env, check=False)
    assert bad.returncode == 1
    assert f"entry {victim}" in bad.stderr
