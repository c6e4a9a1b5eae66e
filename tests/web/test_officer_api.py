"""Officer API: authenticated, purpose-bound, audited, with RFC 9457 errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.identity.rules import check_citizen
from dinhdanh.privacy.access import Role, create_api_key
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD

PURPOSE = "investigation 2026/042"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    records = [check_citizen(r, now.date()) for r in GOOD]
    with container.unit_of_work() as s:
        container.registry.upsert(
            s,
            records,
            AccessContext("test", "registry_import", "seed"),
            now,  # type: ignore[arg-type]
        )
    with TestClient(create_app(container)) as tc:
        yield tc


def key(c: Container, role: Role) -> dict[str, str]:
    with c.unit_of_work() as s:
        _, token = create_api_key(s, f"test {role}", role, c.clock())
    return {"Authorization": f"Bearer {token}"}


def assert_problem(resp: object, status: int, code: str) -> dict[str, object]:
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = resp.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:dinhdanh:problem:{code}"
    assert body["title"]
    return body


def test_officer_reads_a_citizen_and_it_is_audited(
    client: TestClient, container: Container
) -> None:
    resp = client.get(
        "/api/v1/citizens/079195000001",
        params={"purpose": PURPOSE},
        headers=key(container, Role.OFFICER),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["full_name"] == "Trần Thị Bình"
    assert body["date_of_birth"] == "1995-02-28"
    assert body["province"] == {"code": "079", "name": "Hồ Chí Minh"}
    with container.unit_of_work() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.subject == body["subject_id"])
        ).all()
    reads = [e for e in entries if e.action == "read"]
    assert len(reads) == 1
    assert reads[0].purpose == PURPOSE
    assert reads[0].role == "officer"
    assert "full_name" in reads[0].fields


def test_search_by_name_and_birth_date(client: TestClient, container: Container) -> None:
    resp = client.get(
        "/api/v1/citizens",
        params={"full_name": "nguyễn văn an", "date_of_birth": "1990-05-12", "purpose": PURPOSE},
        headers=key(container, Role.OFFICER),
    )
    assert resp.status_code == 200, resp.text
    assert [c["id_number"] for c in resp.json()["items"]] == ["001090012345"]
    resp = client.get(
        "/api/v1/citizens",
        params={"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-13", "purpose": PURPOSE},
        headers=key(container, Role.OFFICER),
    )
    assert resp.json()["items"] == []


def test_errors_are_problem_details(client: TestClient, container: Container) -> None:
    officer = key(container, Role.OFFICER)
    url = "/api/v1/citizens/079195000001"
    assert_problem(client.get(url, params={"purpose": PURPOSE}), 401, "unauthenticated")
    assert_problem(
        client.get(url, params={"purpose": PURPOSE}, headers={"Authorization": "Bearer dd_x_y"}),
        401,
        "unauthenticated",
    )
    assert_problem(
        client.get(url, params={"purpose": PURPOSE}, headers=key(container, Role.ADMIN)),
        403,
        "forbidden",
    )
    assert_problem(client.get(url, headers=officer), 400, "purpose_required")
    assert_problem(
        client.get(url, params={"purpose": "  "}, headers=officer), 400, "purpose_required"
    )
    assert_problem(
        client.get("/api/v1/citizens/12345", params={"purpose": PURPOSE}, headers=officer),
        422,
        "id_format",
    )
    assert_problem(
        client.get("/api/v1/citizens/001090999999", params={"purpose": PURPOSE}, headers=officer),
        404,
        "citizen_not_found",
    )
    body = assert_problem(
        client.get(
            "/api/v1/citizens",
            params={"full_name": "A", "date_of_birth": "1990-02-30", "purpose": PURPOSE},
            headers=officer,
        ),
        422,
        "validation_failed",
    )
    assert body["errors"][0]["field"] == "date_of_birth"  # type: ignore[index]
    assert_problem(client.get("/nope"), 404, "not_found")


def test_a_miss_is_audited_too(client: TestClient, container: Container) -> None:
    client.get(
        "/api/v1/citizens/001090999999",
        params={"purpose": PURPOSE},
        headers=key(container, Role.OFFICER),
    )
    with container.unit_of_work() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last is not None
    assert (last.action, last.subject, last.purpose) == ("lookup_miss", None, PURPOSE)


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/citizens/{id_number}" in spec["paths"]
    assert "/api/v1/citizens" in spec["paths"]


def test_shutdown_signs_the_audit_tip(container: Container) -> None:
    with TestClient(create_app(container)) as tc:
        tc.get(
            "/api/v1/citizens/001090999999",
            params={"purpose": PURPOSE},
            headers=key(container, Role.OFFICER),
        )
    with container.unit_of_work() as s:
        report = container.audit.verify(s)
    assert report.ok
    assert report.checkpoints == 1
