"""Carrier API: uploads with the batch guarantees, actions, and carriers kept apart."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.telecom.models import Subscription, UploadReject
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.telecom.factories import csv_bytes, sub

CSV = {"Content-Type": "text/csv"}


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as tc:
        yield tc


def bearer(c: Container, role: Role, scope: str | None = None) -> dict[str, str]:
    with c.unit_of_work() as s:
        _, token = create_api_key(
            s, f"test {role}", role, datetime.now(UTC), scope=scope, owner="test org"
        )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def keys(client: TestClient, container: Container) -> dict[str, dict[str, str]]:
    admin = bearer(container, Role.ADMIN)
    out = {"admin": admin}
    for code, name in (("VTL", "Viettel"), ("VNP", "Vinaphone")):
        resp = client.post("/api/v1/carriers", json={"code": code, "name": name}, headers=admin)
        assert resp.status_code == 201, resp.text
        out[code] = {"Authorization": f"Bearer {resp.json()['api_key']}"}
    return out


def count(c: Container, carrier: str) -> int:
    with c.unit_of_work() as s:
        stmt = select(func.count()).select_from(Subscription).where(Subscription.carrier == carrier)
        return s.scalar(stmt) or 0


ROWS = [sub("0962345678"), sub("0962345679", activation_date="2025-03-02T08:30:00")]  # VTL's
VNP_ROWS = [sub("0912345678"), sub("0912345679")]


def test_upload_is_idempotent_and_reports_rejects(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    body = csv_bytes([*ROWS, sub("0212345678"), sub("0962345670", channel="kiosk")])
    url = "/api/v1/carriers/VTL/subscriptions:batch"
    first = client.post(url, content=body, headers=keys["VTL"] | CSV)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["rejected"]) == (2, 2)
    # Loaded into an empty table, so its secondary indexes were built after the rows: here.
    indexes = {ix["name"] for ix in inspect(container.engine).get_indexes("subscriptions")}
    assert {"ix_subscriptions_id_bidx", "uq_subscriptions_msisdn_carrier"} <= indexes
    assert [(r["line"], r["reason"].split(" ")[0]) for r in report["rejected_rows"]] == [
        (4, "msisdn_invalid"),
        (5, "invalid_channel"),
    ]
    again = client.post(url, content=body, headers=keys["VTL"] | CSV).json()
    assert (again["created"], again["unchanged"]) == (0, 2)
    assert count(container, "VTL") == 2


def test_strict_upload_applies_nothing(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    body = csv_bytes([*ROWS, sub("0962345670", date_of_birth="1990-02-30")])
    resp = client.post(
        "/api/v1/carriers/VTL/subscriptions:batch?strict=true",
        content=body,
        headers=keys["VTL"] | CSV,
    )
    assert resp.json()["aborted"] is True
    assert count(container, "VTL") == 0


def test_parquet_upload(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    table = pa.Table.from_pylist(VNP_ROWS)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    resp = client.post(
        "/api/v1/carriers/VNP/subscriptions:batch",
        content=buf.getvalue(),
        headers=keys["VNP"] | {"Content-Type": "application/vnd.apache.parquet"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] == 2
    assert count(container, "VNP") == 2


def test_a_carrier_cannot_touch_another_carriers_data(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    body = csv_bytes(ROWS)
    denied = client.post(
        "/api/v1/carriers/VNP/subscriptions:batch", content=body, headers=keys["VTL"] | CSV
    )
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"
    assert count(container, "VNP") == 0
    assert client.get("/api/v1/carriers/VNP/actions", headers=keys["VTL"]).status_code == 403
    officer = bearer(container, Role.OFFICER)
    assert client.get("/api/v1/carriers/VTL/actions", headers=officer).status_code == 403
    assert client.get("/api/v1/carriers/VTL/actions", headers=keys["admin"]).status_code == 200
    # A carrier key cannot register carriers either.
    resp = client.post("/api/v1/carriers", json={"code": "XX", "name": "x"}, headers=keys["VTL"])
    assert resp.status_code == 403


def test_bad_uploads_are_problems(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    url = "/api/v1/carriers/VTL/subscriptions:batch"
    resp = client.post(url, content=b"x", headers=keys["VTL"] | {"Content-Type": "text/plain"})
    assert (resp.status_code, resp.json()["code"]) == (415, "unsupported_media_type")
    resp = client.post(url, content=b"a,b\n1,2\n", headers=keys["VTL"] | CSV)
    assert (resp.status_code, resp.json()["code"]) == (422, "unreadable_file")
    assert "missing column" in resp.json()["detail"]
    resp = client.post(
        "/api/v1/carriers",
        json={"code": "VTL", "name": "again"},
        headers=keys["admin"],
    )
    assert (resp.status_code, resp.json()["code"]) == (409, "carrier_exists")


@pytest.mark.parametrize("ids", [[False], [True], ["1"], [1.0], [2**31], [2**70], [0]])
def test_ack_ids_are_action_ids_not_coerced(
    client: TestClient, keys: dict[str, dict[str, str]], ids: list[object]
) -> None:
    """The OpenAPI document says integers: a boolean, a string or a float is refused, not
    read as action 0 or 1; an id beyond the column's range is refused, not a database error
    (500). Found by Schemathesis (tests/web/test_fuzz.py)."""
    resp = client.post("/api/v1/carriers/VTL/actions:ack", json={"ids": ids}, headers=keys["VTL"])
    assert (resp.status_code, resp.json()["code"]) == (422, "validation_failed")


def test_an_upload_of_junk_rows_gets_a_bounded_answer(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    # Hardening finding 4: 1.8 MB of empty rows answered with 81 MB, every reject echoed.
    n = 5_000
    body = csv_bytes([dict.fromkeys(ROWS[0], "")] * n + ROWS)
    resp = client.post(
        "/api/v1/carriers/VTL/subscriptions:batch", content=body, headers=keys["VTL"] | CSV
    )
    assert resp.status_code == 200, resp.text[:500]
    report = resp.json()
    assert (report["created"], report["rejected"]) == (2, n)
    assert len(report["rejected_rows"]) == 100
    assert report["rejected_rows_truncated"] is True
    assert [r["line"] for r in report["rejected_rows"]] == list(range(2, 102))
    assert len(resp.content) < 100_000  # 5,000 rejects echoed made 2 MB


JUNK_ID = "079301234567"  # an ID number on every rejected row: never stored in clear


def junk(n: int) -> list[dict[str, str]]:
    return [sub(f"021{i:07d}", id_number=JUNK_ID) for i in range(n)]  # not a mobile number


def sealed_bytes(c: Container) -> bytes:
    with c.unit_of_work() as s:
        return b"".join(s.scalars(select(UploadReject.sealed)))


def test_every_reject_of_an_upload_downloads_from_its_link(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    # Hardening finding 4: the answer lists the first 100; the link gives all the rest.
    n = 5_000
    resp = client.post(
        "/api/v1/carriers/VTL/subscriptions:batch",
        content=csv_bytes(junk(n) + ROWS),
        headers=keys["VTL"] | CSV,
    )
    assert resp.status_code == 200, resp.text[:500]
    report = resp.json()
    assert (report["created"], report["rejected"], len(report["rejected_rows"])) == (2, n, 100)
    url = report["rejected_rows_url"]
    assert url.startswith("/api/v1/carriers/VTL/uploads/")

    got = client.get(url, headers=keys["VTL"])
    assert got.status_code == 200, got.text[:500]
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [int(r["line"]) for r in rows] == list(range(2, n + 2))
    assert {r["reason"].split(" ")[0] for r in rows} == {"msisdn_invalid"}
    assert [r["key"] for r in rows] == [f"021{i:07d}" for i in range(n)]
    assert JUNK_ID not in got.text  # the key only, never the row

    lines = client.get(url, params={"format": "jsonl"}, headers=keys["admin"]).text.splitlines()
    assert [json.loads(x)["line"] for x in lines] == list(range(2, n + 2))

    # Another carrier: not found, as for an upload that never was.
    assert client.get(url, headers=keys["VNP"]).status_code == 404
    assert client.get(url.replace("VTL", "VNP"), headers=keys["VNP"]).status_code == 404
    # Stored sealed: neither a rejected number nor the ID number is in the table's bytes.
    raw = sealed_bytes(container)
    assert len(raw) > 10_000
    assert b"0210000042" not in raw
    assert JUNK_ID.encode() not in raw


def test_a_strict_upload_refused_for_rejects_still_links_them(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    resp = client.post(
        "/api/v1/carriers/VTL/subscriptions:batch",
        params={"strict": "true"},
        content=csv_bytes(ROWS + junk(3)),
        headers=keys["VTL"] | CSV,
    )
    report = resp.json()
    assert report["aborted"] is True
    assert report["rejected_rows_truncated"] is False
    assert count(container, "VTL") == 0
    got = client.get(report["rejected_rows_url"], headers=keys["VTL"])
    assert [r["line"] for r in csv.DictReader(io.StringIO(got.text))] == ["4", "5", "6"]


def test_rejects_expire_and_are_purged_at_the_next_upload(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    url = "/api/v1/carriers/VTL/subscriptions:batch"
    first = client.post(url, content=csv_bytes(junk(2)), headers=keys["VTL"] | CSV).json()
    assert client.get(first["rejected_rows_url"], headers=keys["VTL"]).status_code == 200
    clean = client.post(url, content=csv_bytes(ROWS), headers=keys["VTL"] | CSV).json()
    assert clean["rejected_rows_url"] is None
    later = datetime.now(UTC) + timedelta(days=container.settings.upload_rejects_days, hours=1)
    container.clock = lambda: later
    assert client.get(first["rejected_rows_url"], headers=keys["VTL"]).status_code == 404
    assert sealed_bytes(container) != b""  # expired, not yet purged
    client.post(url, content=csv_bytes(junk(1)), headers=keys["VTL"] | CSV)
    with container.unit_of_work() as s:
        upload_ids = set(s.scalars(select(UploadReject.upload_id)))
    assert first["rejected_rows_url"].split("/")[-2] not in upload_ids
    assert len(upload_ids) == 1


def test_upload_bodies_go_to_a_private_spill(
    client: TestClient, container: Container, keys: dict[str, dict[str, str]]
) -> None:
    # Hardening finding 9: the plaintext body was a temp file in the data directory itself.
    resp = client.post(
        "/api/v1/carriers/VTL/subscriptions:batch",
        content=csv_bytes(ROWS),
        headers=keys["VTL"] | CSV,
    )
    assert resp.status_code == 200
    data_dir = container.settings.data_dir
    spill = data_dir / "spill" / str(os.getpid())
    assert stat.S_IMODE(spill.stat().st_mode) == 0o700
    assert stat.S_IMODE(spill.parent.stat().st_mode) == 0o700
    assert list(spill.iterdir()) == []  # removed once imported
    assert not list(data_dir.glob("upload-*"))


def test_a_leftover_spill_is_removed_at_start_up(container: Container) -> None:
    data_dir = container.settings.data_dir
    gone = subprocess.Popen(["true"])
    gone.wait()
    leftovers = [
        data_dir / "spill" / str(gone.pid) / "upload-abc.csv",  # a killed server's body
        data_dir / "upload-old.csv",  # an older version's, in the data directory
    ]
    live = data_dir / "spill" / str(os.getppid()) / "upload-live.csv"  # a running process
    for f in (*leftovers, live):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("msisdn,id_number\n0962345678,001090012345\n")
    with TestClient(create_app(container)):
        assert [f.exists() for f in leftovers] == [False, False]
        assert live.exists()
