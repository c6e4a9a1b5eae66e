"""The registrars' action feed over the API: a reconciliation's flagged names reach their own
registrar only; a key never lists nor acknowledges another registrar's actions."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dinhdanh.wiring import Container
from tests.internet.factories import ORG2, company
from tests.internet.test_reconcile import run
from tests.internet.test_registrar_api import CSV, client, csv_bytes, keys  # noqa: F401

Keys = dict[str, dict[str, str]]


def _actions(tc: TestClient, code: str, headers: dict[str, str]) -> list[dict[str, object]]:
    resp = tc.get(f"/api/v1/registrars/{code}/actions", headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


def test_each_registrar_sees_and_acknowledges_its_own_actions(
    client: TestClient,  # noqa: F811
    keys: Keys,  # noqa: F811
    container: Container,
    tmp_path: Path,
) -> None:
    for code, rows in (
        ("PAVN", [company("mot.vn"), company("hai.vn", ORG2)]),
        ("MATBAO", [company("ba.vn", ORG2)]),
    ):
        resp = client.put(
            f"/api/v1/registrars/{code}/domains", content=csv_bytes(rows), headers=keys[code] | CSV
        )
        assert resp.status_code == 200, resp.text
    run(container, tmp_path / "out")  # no organisation is listed: every name is flagged

    pavn = _actions(client, "PAVN", keys["PAVN"])
    assert [(a["domain"], a["action"], a["reasons"]) for a in pavn] == [
        ("hai.vn", "verify", ["ORG_NOT_FOUND"]),
        ("mot.vn", "verify", ["ORG_NOT_FOUND"]),
    ]
    matbao = _actions(client, "MATBAO", keys["MATBAO"])
    assert [(a["domain"], a["action"]) for a in matbao] == [("ba.vn", "verify")]
    assert len(_actions(client, "MATBAO", keys["admin"])) == 1

    # Another registrar's feed is out of reach, and so are its ids.
    denied = client.get("/api/v1/registrars/MATBAO/actions", headers=keys["PAVN"])
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    ids = [a["id"] for a in matbao]
    theirs = client.post(
        "/api/v1/registrars/PAVN/actions:ack", json={"ids": ids}, headers=keys["PAVN"]
    )
    assert theirs.json() == {"acknowledged": 0}
    assert (
        client.post(
            "/api/v1/registrars/MATBAO/actions:ack", json={"ids": ids}, headers=keys["PAVN"]
        ).status_code
        == 403
    )
    assert len(_actions(client, "MATBAO", keys["MATBAO"])) == 1
    mine = client.post(
        "/api/v1/registrars/PAVN/actions:ack",
        json={"ids": [a["id"] for a in pavn]},
        headers=keys["PAVN"],
    )
    assert mine.json() == {"acknowledged": 2}
    assert _actions(client, "PAVN", keys["PAVN"]) == []
    assert client.get("/api/v1/registrars/PAVN/actions").status_code == 401
