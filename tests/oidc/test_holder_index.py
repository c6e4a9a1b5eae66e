"""Binding by login finds the code an ID token came from by (client, nonce): the statement
``holder_of`` sends is one PostgreSQL answers from ``ix_oidc_codes_client_nonce``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from dinhdanh.auth.oidc.holder import holder_of
from dinhdanh.wiring import Container
from tests.social.conftest import add_platform


def test_the_holder_lookup_can_use_the_client_nonce_index(
    container: Container, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("the plan is PostgreSQL's; SQLite builds the same index from the migration")
    plat = add_platform(container, "zalo")
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        if "oidc_codes" in statement:
            sent.append((statement, params))

    event.listen(container.engine, "before_cursor_execute", capture)
    try:
        with container.unit_of_work() as s:
            client = container.auth.clients.get(s, plat.client_id)
            assert client is not None
            assert holder_of(s, container.auth.provider, client, "sub", "a-nonce") is None
    finally:
        event.remove(container.engine, "before_cursor_execute", capture)
    ((statement, params),) = sent
    with container.engine.connect() as conn:
        # A near-empty table is cheaper to scan; forbid that to see which index fits.
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, params))
    assert "Index Scan using ix_oidc_codes_client_nonce on oidc_codes" in plan, plan
