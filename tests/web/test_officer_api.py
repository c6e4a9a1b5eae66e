"""Officer API: authenticated, purpose-bound, audited, with RFC 9457 errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.identity.rules import check_citizen
from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.privacy.models import AuditEntry
from dinhdanh.privacy.roles import Role
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.identity.factories import GOOD
from tests.staff.factories import officer_headers

CASE = "investigation 2026/042"
LAWFUL = {"legal_basis": "criminal_investigation", "case_ref": CASE}
AUDITED = f"criminal_investigation: {CASE}"
LOOKUP = "/api/v1/citizens:lookup"
SEARCH = "/api/v1/citizens:search"


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
    """An officer's personal token (a staff grant of a citizen), or a machine key."""
    if role is Role.OFFICER:
        return officer_headers(c)
    with c.unit_of_work() as s:
        _, token = create_api_key(s, f"test {role}", role, c.clock(), owner="test org")
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
    resp = client.post(
        LOOKUP, json={"id_number": "079195000001", **LAWFUL}, headers=key(container, Role.OFFICER)
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
    assert reads[0].purpose == AUDITED
    assert reads[0].role == "officer"
    assert "full_name" in reads[0].fields


def test_search_by_name_and_birth_date(client: TestClient, container: Container) -> None:
    resp = client.post(
        SEARCH,
        json={"full_name": "nguyễn văn an", "date_of_birth": "1990-05-12", **LAWFUL},
        headers=key(container, Role.OFFICER),
    )
    assert resp.status_code == 200, resp.text
    assert [c["id_number"] for c in resp.json()["items"]] == ["001090012345"]
    resp = client.post(
        SEARCH,
        json={"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-13", **LAWFUL},
        headers=key(container, Role.OFFICER),
    )
    assert resp.json()["items"] == []


def test_errors_are_problem_details(client: TestClient, container: Container) -> None:
    officer = key(container, Role.OFFICER)
    body = {"id_number": "079195000001", **LAWFUL}
    assert_problem(client.post(LOOKUP, json=body), 401, "unauthenticated")
    assert_problem(
        client.post(LOOKUP, json=body, headers={"Authorization": "Bearer dd_x_y"}),
        401,
        "unauthenticated",
    )
    assert_problem(
        client.post(LOOKUP, json=body, headers=key(container, Role.ADMIN)), 403, "forbidden"
    )
    assert_problem(
        client.post(LOOKUP, json={"id_number": "079195000001"}, headers=officer),
        400,
        "purpose_required",
    )
    assert_problem(
        client.post(LOOKUP, json=body | {"case_ref": "  "}, headers=officer),
        400,
        "case_ref_required",
    )
    with container.unit_of_work() as s:  # an officer key of no person: a machine
        _, machine = create_api_key(s, "robot", Role.OFFICER, container.clock(), owner="X")
    assert_problem(
        client.post(LOOKUP, json=body, headers={"Authorization": f"Bearer {machine}"}),
        403,
        "person_required",
    )
    assert_problem(
        client.post(LOOKUP, json=body | {"id_number": "12345"}, headers=officer), 422, "id_format"
    )
    assert_problem(
        client.post(LOOKUP, json=body | {"id_number": "001090999999"}, headers=officer),
        404,
        "citizen_not_found",
    )
    problem = assert_problem(
        client.post(
            SEARCH,
            json={"full_name": "A", "date_of_birth": "1990-02-30", **LAWFUL},
            headers=officer,
        ),
        422,
        "validation_failed",
    )
    assert problem["errors"][0]["field"] == "date_of_birth"  # type: ignore[index]
    assert_problem(client.get("/nope"), 404, "not_found")


def test_a_legal_basis_from_the_configured_list_is_required(
    client: TestClient, container: Container
) -> None:
    """A case reference alone is not enough: a known legal basis too."""
    officer = key(container, Role.OFFICER)
    body = {"id_number": "079195000001", "case_ref": "aaaaa"}
    assert_problem(client.post(LOOKUP, json=body, headers=officer), 400, "purpose_required")
    problem = assert_problem(
        client.post(LOOKUP, json=body | {"legal_basis": "curiosity"}, headers=officer),
        400,
        "legal_basis_unknown",
    )
    assert "court_order" in str(problem["detail"])
    ok = client.post(LOOKUP, json=body | {"legal_basis": "court_order"}, headers=officer)
    assert ok.status_code == 200, ok.text


def test_lookups_by_get_are_gone_and_point_to_post(
    client: TestClient, container: Container
) -> None:
    """No ID number or name in a URL: the former GET lookups answer 410 with the way."""
    officer = key(container, Role.OFFICER)
    for url in ("/api/v1/citizens/079195000001", "/api/v1/citizens"):
        problem = assert_problem(
            client.get(url, params={"case_ref": CASE}, headers=officer), 410, "use_post"
        )
        assert "POST /api/v1/citizens:lookup" in str(problem["detail"])


def test_a_miss_is_audited_too(client: TestClient, container: Container) -> None:
    client.post(
        LOOKUP, json={"id_number": "001090999999", **LAWFUL}, headers=key(container, Role.OFFICER)
    )
    with container.unit_of_work() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last is not None
    assert (last.action, last.subject, last.purpose) == ("lookup_miss", None, AUDITED)


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) >= {LOOKUP, SEARCH}
    assert not [p for p in spec["paths"] if p.startswith("/api/v1/citizens/")]


def test_shutdown_signs_the_audit_tip(container: Container) -> None:
    with TestClient(create_app(container)) as tc:
        tc.post(
            LOOKUP,
            json={"id_number": "001090999999", **LAWFUL},
            headers=key(container, Role.OFFICER),
        )
    with container.unit_of_work() as s:
        report = container.audit.verify(s)
    assert report.ok
    assert report.checkpoints == 1
