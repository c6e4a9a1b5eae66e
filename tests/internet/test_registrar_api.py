"""Registrar API: admin registers registrars; a registrar key uploads only its own names
(PUT .../domains, CSV, JSON lines or Parquet), gets rejects with lines and reasons and
downloads all of them; another registrar's uploads and rejects are out of reach."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from dinhdanh.internet.domains import COLUMNS
from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.web.app import create_app
from dinhdanh.web.limits import limit_for
from dinhdanh.wiring import Container
from tests.internet.factories import company, person

CSV = {"Content-Type": "text/csv"}


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as tc:
        yield tc


@pytest.fixture
def keys(client: TestClient, container: Container) -> dict[str, dict[str, str]]:
    with container.unit_of_work() as s:
        _, admin = create_api_key(s, "admin", Role.ADMIN, datetime.now(UTC), owner="test org")
    out = {"admin": {"Authorization": f"Bearer {admin}"}}
    for code in ("PAVN", "MATBAO"):
        resp = client.post(
            "/api/v1/registrars", json={"code": code, "name": code}, headers=out["admin"]
        )
        assert resp.status_code == 201, resp.text
        out[code] = {"Authorization": f"Bearer {resp.json()['api_key']}"}
    return out


def test_upload_is_idempotent_and_reports_rejects(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    body = csv_bytes(
        [person("phở-ngon.vn"), company("a.com.vn"), person("com.vn"), person("x.com")]
    )
    url = "/api/v1/registrars/PAVN/domains"
    first = client.put(url, content=body, headers=keys["PAVN"] | CSV)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["rejected"]) == (2, 2)
    assert [
        (r["line"], r["domain"], r["reason"].split(" ")[0]) for r in report["rejected_rows"]
    ] == [
        (4, "com.vn", "domain_is_public_suffix"),
        (5, "x.com", "domain_not_vn"),
    ]
    rejects = client.get(report["rejected_rows_url"], headers=keys["PAVN"])
    assert rejects.status_code == 200
    assert rejects.text.splitlines()[1].startswith("4,domain_is_public_suffix")
    jsonl = client.get(report["rejected_rows_url"] + "?format=jsonl", headers=keys["PAVN"])
    assert jsonl.text.count("\n") == 2
    again = client.put(url, content=body, headers=keys["PAVN"] | CSV).json()
    assert (again["created"], again["unchanged"]) == (0, 2)


def test_registrars_are_kept_apart(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    body = csv_bytes([person("phở-ngon.vn")])
    denied = client.put(
        "/api/v1/registrars/MATBAO/domains", content=body, headers=keys["PAVN"] | CSV
    )
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"
    ok = client.put("/api/v1/registrars/PAVN/domains", content=body, headers=keys["PAVN"] | CSV)
    assert ok.json()["created"] == 1
    held = client.put(
        "/api/v1/registrars/MATBAO/domains?strict=true", content=body, headers=keys["MATBAO"] | CSV
    ).json()
    assert held["aborted"] is True
    assert held["rejected_rows"][0]["reason"].startswith("domain_held_elsewhere")
    url = held["rejected_rows_url"]
    assert client.get(url, headers=keys["MATBAO"]).status_code == 200  # kept after strict, too
    assert client.get(url, headers=keys["PAVN"]).status_code == 404  # not yours: not found
    admin = client.put("/api/v1/registrars/PAVN/domains", content=body, headers=keys["admin"] | CSV)
    assert admin.status_code == 200  # an admin may act for any registrar


def test_parquet_and_wrong_media_and_unknown_registrar(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([person("a.vn"), person("b.vn")]), buf)
    media = {"Content-Type": "application/vnd.apache.parquet"}
    resp = client.put(
        "/api/v1/registrars/PAVN/domains", content=buf.getvalue(), headers=keys["PAVN"] | media
    )
    assert resp.json()["created"] == 2
    wrong = client.put(
        "/api/v1/registrars/PAVN/domains",
        content=b"{}",
        headers=keys["PAVN"] | {"Content-Type": "application/json"},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (415, "unsupported_media_type")
    gone = client.put(
        "/api/v1/registrars/NOPE/domains",
        content=csv_bytes([person("a.vn")]),
        headers=keys["admin"] | CSV,
    )
    assert (gone.status_code, gone.json()["code"]) == (404, "registrar_not_found")


def test_registering_needs_an_admin_and_a_new_code(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    body = {"code": "NEW", "name": "New"}
    assert client.post("/api/v1/registrars", json=body, headers=keys["PAVN"]).status_code == 403
    again = client.post(
        "/api/v1/registrars", json={"code": "pavn", "name": "x"}, headers=keys["admin"]
    )
    assert (again.status_code, again.json()["code"]) == (409, "registrar_exists")
    bad = client.post(
        "/api/v1/registrars", json={"code": "a b", "name": "x"}, headers=keys["admin"]
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "internet_error")


def test_uploads_get_the_upload_body_limit() -> None:
    assert limit_for("/api/v1/registrars/PAVN/domains", 123).max_bytes == 123
