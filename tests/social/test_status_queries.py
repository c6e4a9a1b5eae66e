"""The status read's one statement on PostgreSQL (sent by psycopg itself) finds what the two
statements through SQLAlchemy find (the bindings with their per-person counts; risk and
first reports), on the same rows: bound and unbound, ranked and not, reported before and not,
a person with two accounts, another platform's account of the same id."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dinhdanh.social import status_queries
from dinhdanh.social.signals import lookup
from dinhdanh.store.db import BinaryList
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.social.conftest import add_platform, bind, sign_in
from tests.social.test_risk import ranked
from tests.support import Citizen

# Every column a status read loads (the per-person count among them).
COLUMNS = status_queries.STATUS_COLUMNS


def plain(rows: dict[bytes, Any]) -> dict[bytes, dict[str, Any]]:
    return {k: {c: getattr(r, c) for c in COLUMNS} for k, r in rows.items()}


def test_one_statement_finds_what_two_find(
    container: Container, app_client: TestClient, citizen: Citizen, tmp_path: Path
) -> None:
    zalo = add_platform(container, "zalo")
    other = add_platform(container, "other")
    ranked(container, tmp_path)  # accounts a, b, c, d, x, y, z ranked at zalo
    log_in(app_client, citizen)
    for account in ("a", "q"):  # one person, two accounts; a is also ranked
        assert bind(app_client, zalo, account, sign_in(app_client, zalo)).status_code == 200
    assert bind(app_client, other, "q", sign_in(app_client, other)).status_code == 200
    c = container
    with c.unit_of_work() as s:  # r reported now: its grace starts
        c.social.status(s, "zalo", ["r", "y"], c.clock())
    ids = ["a", "q", "y", "r", "never", "b"]
    key = c.social._account_key
    wanted = sorted({key("zalo", i) for i in ids})
    for due in (c.clock() - timedelta(days=1), c.clock() + timedelta(days=1)):
        with c.unit_of_work() as s:
            bound, risk, late = status_queries.read(s, "zalo", wanted, due)
            two_bound = {b.account_key: b for b in status_queries.bindings(s, wanted)}
            two_risk, two_late = lookup(s, "zalo", wanted, due)
        assert plain(bound) == plain(two_bound)
        assert risk == two_risk
        unbound = set(wanted) - set(bound)  # only these can be UNVERIFIED
        assert {k: v for k, v in late.items() if k in unbound} == {
            k: v for k, v in two_late.items() if k in unbound
        }
        for k in wanted:  # one key alone (a single lookup's own statement) finds the same
            with c.unit_of_work() as s:
                one_bound, one_risk, one_late = status_queries.read(s, "zalo", [k], due)
            assert plain(one_bound) == plain({k: bound[k]} if k in bound else {})
            assert one_risk == ({k: risk[k]} if k in risk else {})
            assert one_late == ({k: late[k]} if k in late else {})
            if k in bound:
                assert not one_late or c.engine.dialect.name == "sqlite"
        assert set(bound) == {key("zalo", "a"), key("zalo", "q")}
        assert {b.accounts for b in bound.values()} == {2}
        assert set(risk) == {key("zalo", i) for i in ("a", "y", "b")}
        # Reported: the graph's accounts at its upload, r and y by the read above (a is
        # bound: PostgreSQL does not look).
        assert set(late) - {key("zalo", "a")} == {key("zalo", i) for i in ("y", "b", "r")}
        assert set(late.values()) == {due > c.clock() - timedelta(seconds=1)}


def test_risk_and_first_reports_are_probed_by_key(container: Container) -> None:
    """Risk and first reports are read one primary-key probe per asked key (a scalar
    subquery, a LATERAL with LIMIT), not joined: as joins, a plan made while a table was
    small read it whole for every key once it had filled (docs/performance.md)."""
    c = container
    if c.engine.dialect.name != "postgresql":
        pytest.skip("the statement sent by psycopg is PostgreSQL's")
    add_platform(c, "zalo")
    keys = [c.social._account_key("zalo", f"acct-{i}") for i in range(2000)]
    with c.engine.connect() as conn:
        for table, extra in (("platform_first_reports", "now()"), ("platform_risk", "0.5, ''")):
            conn.exec_driver_sql(
                f"INSERT INTO {table} SELECT 'zalo', k, {extra} FROM unnest(%(k)s) AS k",
                {"k": BinaryList(keys[::2])},
            )
            conn.exec_driver_sql(f"ANALYZE {table}")
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        driver = conn.connection.driver_connection
        assert driver is not None
        params = {"keys": BinaryList(keys[:1000]), "p": "zalo", "due": c.clock()}
        row = driver.execute("EXPLAIN (FORMAT JSON) " + status_queries._READ_PG, params)
        plan = row.fetchone()[0][0]["Plan"]
        conn.rollback()
    scans = [n for n in _nodes(plan) if n.get("Relation Name") in READ_BY_KEY]
    assert {n["Relation Name"] for n in scans} == READ_BY_KEY
    for node in scans:
        assert node["Node Type"] in {"Index Scan", "Index Only Scan"}, node
        assert "account_key = k.key" in node["Index Cond"], node


READ_BY_KEY = {"platform_first_reports", "platform_risk"}


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _nodes(child))]
