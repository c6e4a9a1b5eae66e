"""Officer API over guardian links: add, list and end with a legal basis, audited under the
child (visible on "Who used my data"); rule refusals as RFC 9457 problems."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.privacy.models import AuditEntry
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.age.family import Family, make_family
from tests.staff.factories import officer_headers
from tests.web.test_officer_api import LAWFUL, assert_problem

API = "/api/v1/guardian-links"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as tc:
        yield tc


def body(f: Family, guardian: str, relation: str = "mother") -> dict[str, object]:
    return LAWFUL | {
        "child_id_number": f.child.id_number,
        "guardian_id_number": guardian,
        "relation": relation,
        "valid_from": "2020-01-01",
    }


def test_add_list_and_end(container: Container, client: TestClient) -> None:
    f = make_family(container)
    officer = officer_headers(container)
    made = client.post(API, json=body(f, f.mother.id_number), headers=officer)
    assert made.status_code == 201, made.text
    assert made.json()["active"] is True
    assert made.json()["source"] == "officer"
    client.post(API, json=body(f, f.father.id_number, "father"), headers=officer)
    third = client.post(API, json=body(f, f.aunt.id_number, "guardian"), headers=officer)
    assert_problem(third, 409, "too_many_guardians")

    listed = client.post(
        API + ":search", json=LAWFUL | {"child_id_number": f.child.id_number}, headers=officer
    )
    assert [x["relation"] for x in listed.json()["items"]] == ["mother", "father"]
    ended = client.post(f"{API}/{made.json()['id']}:end", json=LAWFUL, headers=officer)
    assert ended.status_code == 200, ended.text
    assert ended.json()["active"] is False
    again = client.post(API, json=body(f, f.aunt.id_number, "guardian"), headers=officer)
    assert again.status_code == 201, again.text

    with container.unit_of_work() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.subject == f.child.subject_id))
        lawful = [r for r in rows if r.legal_basis == "criminal_investigation"]
    assert {r.action for r in lawful} >= {"create", "read", "end"}
    assert all(r.case_ref == LAWFUL["case_ref"] for r in lawful)


def test_a_legal_basis_and_an_officer_are_required(
    container: Container, client: TestClient
) -> None:
    f = make_family(container)
    no_basis = {k: v for k, v in body(f, f.mother.id_number).items() if k != "legal_basis"}
    resp = client.post(API, json=no_basis, headers=officer_headers(container))
    assert resp.status_code == 400, resp.text
    assert client.post(API, json=body(f, f.mother.id_number)).status_code == 401


def test_unknown_citizens_and_links(container: Container, client: TestClient) -> None:
    f = make_family(container)
    officer = officer_headers(container)
    assert_problem(
        client.post(API, json=body(f, "001085999999"), headers=officer), 404, "citizen_not_found"
    )
    assert_problem(
        client.post(f"{API}/nope:end", json=LAWFUL, headers=officer),
        404,
        "guardian_link_not_found",
    )
